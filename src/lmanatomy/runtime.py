"""What every workflow script does around its one library call: logging, threads, seeds.

Scripts stay thin: ``with script_context(snakemake) as log: library_call(...)``. Output and
progress bars go to the rule's log file; an error is written to the log *and* to the terminal,
so a failed job explains itself where the user is looking.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np


def seed_everything(seed: int, uses_torch: bool = True) -> None:
    """Seed Python, NumPy and torch so that a rule's result depends on its inputs only."""
    random.seed(seed)
    np.random.seed(seed)
    if uses_torch:
        import torch

        torch.manual_seed(seed)


def set_threads(threads: int, uses_torch: bool = True) -> None:
    """One torch and one BLAS thread per thread Snakemake gave the job, whatever ran before.

    Snakemake exports OMP_NUM_THREADS and friends for a script job, but a job that imported
    numpy earlier (or runs in-process) keeps the pools it started with; on a busy 2-core machine
    two threads per job burnt ~10x the CPU of one (issue 22, docs/benchmarks.md). threadpoolctl
    resizes the BLAS/OpenMP pools already loaded; torch has its own setting.
    """
    threads = max(1, int(threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    if uses_torch:
        import torch

        torch.set_num_threads(threads)


@contextlib.contextmanager
def script_context(smk: Any, seed: int = 0, uses_torch: bool = True) -> Iterator[logging.Logger]:
    """Redirect output to ``smk.log[0]``, set threads and seeds, report errors in both places.

    ``uses_torch=False`` is for scripts that never touch torch (data preparation): importing
    torch costs seconds of CPU per job.
    """
    log_path = smk.log[0] if len(smk.log) else None
    terminal = sys.stderr
    handle = open(log_path, "w", encoding="utf-8", buffering=1) if log_path else sys.stderr
    logger = logging.getLogger(f"lmanatomy.{smk.rule}")
    logger.handlers.clear()
    stream = logging.StreamHandler(handle)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger.addHandler(stream)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            set_threads(getattr(smk, "threads", 1), uses_torch)
            seed_everything(seed, uses_torch)
            logger.info("rule %s: threads=%s", smk.rule, getattr(smk, "threads", 1))
            yield logger
    except Exception as exc:
        traceback.print_exc(file=handle)
        print(f"[lm-anatomy] rule {smk.rule} failed: {type(exc).__name__}: {exc}", file=terminal)
        raise
    finally:
        if handle is not sys.stderr:
            handle.close()
