"""Benchmarks: each study's fast path against an independent reference, in one process.

``python -m lmanatomy.bench <name> [options]`` runs ``lmanatomy.bench.<name>.main(argv)``, which
prints the speed ratio and the agreement of the two. Speed is measured here, never in tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timer(results: dict[str, float], key: str) -> Iterator[None]:
    """Add the wall time of the block to ``results[key]`` (seconds)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        results[key] = results.get(key, 0.0) + time.perf_counter() - start


def machine_description() -> str:
    """One line naming the machine a benchmark ran on (cores, device, torch build)."""
    import os
    import platform

    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, {device}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}"
    )
