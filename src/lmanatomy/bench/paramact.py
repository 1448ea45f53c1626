"""paramact: streaming aggregation (``run_job``) against the in-memory definition, on one model.

Both score the same draws with the same model (the forward+backward passes dominate and are the
same work); they differ in what they keep. The streaming job keeps ``cache_units`` activation
vectors and one float32 running sum per dataset; the in-memory reference keeps every draw's full
vector. Prints wall and CPU time, the peak resident memory of each phase, and the agreement
(activated counts equal; largest LLMDcos difference).

    python -m lmanatomy.bench paramact [--model data/models/smollm2-135m] [--samples 3]
        [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from lmanatomy.bench import machine_description


def _rss() -> int:
    """Resident bytes now (Linux /proc), or the lifetime peak where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextmanager
def measured(results: dict[str, dict[str, float]], key: str) -> Iterator[None]:
    """Wall time, CPU time and peak RSS above the starting RSS (sampled every 20 ms) of a block."""
    start_rss, peak = _rss(), [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], _rss())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], _rss())
        results[key] = {
            "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
            "peak_extra_gb": (peak[0] - start_rss) / 1e9,
        }


def _texts(kind: str, n: int) -> pd.DataFrame:
    """Deterministic inputs of two kinds (prose, code), about 40-60 tokens each."""
    if kind == "prose":
        text = [
            f"Report {i}: the river near town {i} rose by {3 * i + 2} centimetres after {i + 1} "
            f"days of rain, and the council closed {i % 4 + 1} bridges until the water fell "
            "again. Question: is the town safe?\nAnswer:"
            for i in range(n)
        ]
    else:
        text = [
            f"def scale_{i}(values: list[float]) -> list[float]:\n"
            f'    """ Multiply every value by {i + 2} and drop '
            f'values below {i}.\n    >>> scale_{i}([1.0, 2.0])\n    """\n'
            for i in range(n)
        ]
    return pd.DataFrame({"id": [f"{kind}{i}" for i in range(n)], "text": text})


def main(argv: list[str]) -> int:
    import torch

    from lmanatomy.models import load_model
    from lmanatomy.paramact import Draws, ParameterActivation
    from lmanatomy.paramact.plan import Pair
    from lmanatomy.paramact.reference import in_memory, near_threshold
    from lmanatomy.paramact.run import run_job, thresholds_around

    parser = argparse.ArgumentParser(prog="python -m lmanatomy.bench paramact")
    parser.add_argument("--model", default="data/models/smollm2-135m")
    parser.add_argument(
        "--samples", type=int, default=3, help="paired samples per pair (draws per dataset: 2n)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gamma", type=float, default=1.2e-4)
    parser.add_argument("--scratch", default="results/bench/paramact-scratch")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model)
    scorer = ParameterActivation(model)
    n = args.samples
    draws = {
        kind: Draws(kind, _texts(kind, 2 * n), "text", tokenizer) for kind in ("prose", "code")
    }
    density = {"prose": 2 * n, "code": 2 * n}
    pairs = [Pair("prose", "prose", n), Pair("prose", "code", n), Pair("code", "code", n)]
    thresholds = thresholds_around(args.gamma)
    print(machine_description())
    print(
        f"model {args.model}: {sum(scorer.layer_sizes):,} scored weights in {scorer.num_layers} "
        f"layers; 2 datasets x {2 * n} draws, 3 pairs x {n} samples"
    )
    results: dict[str, dict[str, float]] = {}
    outputs = {}
    for storage in ("memory", "disk"):
        with measured(results, f"streaming ({storage} running mean, cache 2)"):
            outputs[storage] = run_job(
                scorer,
                draws,
                density,
                pairs,
                cache_units=2,
                thresholds=thresholds,
                running_mean=storage,
                scratch=args.scratch,
            )
    with measured(results, "in-memory reference (every draw's vector kept)"):
        ref_density, ref_pairs, ref_means = in_memory(scorer, draws, density, pairs, thresholds)
    for key, value in results.items():
        print(
            f"{key:50s} wall {value['wall_s']:7.1f} s  cpu {value['cpu_s']:7.1f} s  peak RSS "
            f"+{value['peak_extra_gb']:.2f} GB"
        )
    stream = outputs["memory"]
    gap = np.abs(stream.density["activated"].to_numpy() - ref_density["activated"].to_numpy())
    near = near_threshold(ref_means, thresholds)["near"].to_numpy()
    same_counts = bool((gap <= near).all())
    diff = float(np.abs(stream.pairs["llmdcos"].to_numpy() - ref_pairs["llmdcos"].to_numpy()).max())
    identical = outputs["memory"].density.equals(outputs["disk"].density) and outputs[
        "memory"
    ].pairs.equals(outputs["disk"].pairs)
    ratio = (
        results["in-memory reference (every draw's vector kept)"]["cpu_s"]
        / results["streaming (memory running mean, cache 2)"]["cpu_s"]
    )
    print(f"passes: streaming {stream.passes}, reference {4 * n}")
    print(
        f"agreement: counts differ by {int(gap.sum())} of {int(ref_density['activated'].sum()):,} "
        f"activations, all within float32 rounding of gamma = {same_counts}; max |LLMDcos "
        f"difference| = {diff:.2e}; memory and disk running means give identical tables = "
        f"{identical}"
    )
    print(f"cpu ratio reference / streaming = {ratio:.2f}")
    return 0 if same_counts and diff < 1e-5 and identical else 1
