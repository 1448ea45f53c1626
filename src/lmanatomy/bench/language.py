"""Benchmark: AP of every neuron — vectorised vs sklearn
per neuron vs one sort of the matrix (the floor).

``python -m lmanatomy.bench language [--texts 3000] [--neurons 50000] [--sample 400]``

All three run in this process on the same matrix: the library's ``average_precision`` on every
neuron; ``sklearn.metrics.average_precision_score`` on a random sample of neurons (its time is
extrapolated per neuron); and one sort of the whole (neuron-major) matrix along the text axis,
the floor of any exact AP (every neuron's texts must be ordered) — NumPy's value-only sort into
a new array, the same sort chunk by chunk in one reused buffer (no first-touch page faults: the
fastest), and ``torch.sort`` (values and indices); the
fastest is the floor. Prints the ratios and the largest
|ΔAP| against sklearn on the sample. Scores are rounded to 2 decimals in a second pass so that
agreement is also checked with many ties.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _best(fn, repeats: int) -> float:
    """Best CPU time (process_time) of ``repeats`` runs:
    on a shared machine wall time measures the load."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def _rss_mb(key: str) -> int | None:
    """VmRSS / VmHWM (peak) of this process in MB, from /proc (Linux only)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (writing 5 to clear_refs), so VmHWM measures one step."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    import torch
    from sklearn.metrics import average_precision_score

    from lmanatomy.bench import machine_description
    from lmanatomy.language.ap import average_precision, chunk_columns

    parser = argparse.ArgumentParser(prog="python -m lmanatomy.bench language")
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--neurons", type=int, default=50000)
    parser.add_argument("--sample", type=int, default=400, help="neurons scored by sklearn")
    parser.add_argument("--memory-mb", type=float, default=512)
    parser.add_argument(
        "--repeats", type=int, default=1, help="timings are the best of this many runs"
    )
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1: one CPU job, one thread)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    # Like per-text mean activations: neuron-specific scale and shift, one language in six positive.
    scores = rng.standard_normal((args.texts, args.neurons), dtype=np.float32) * rng.uniform(
        0.1, 2, args.neurons
    ).astype(np.float32) + rng.normal(size=args.neurons).astype(np.float32)
    labels = np.arange(args.texts) % 6 == 0
    positive_shift = rng.normal(scale=0.5, size=args.neurons).astype(np.float32)
    scores[labels] += positive_shift
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    print(machine_description())
    print(
        f"matrix: {args.texts:,} texts × {args.neurons:,} neurons (float32), device {device}, "
        f"memory budget {args.memory_mb:g} MB"
    )

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    tensor = torch.from_numpy(scores)
    neuron_major = tensor.T.contiguous().to(device)

    def run_ap():
        result = average_precision(
            scores if device.type == "cpu" else tensor.to(device),
            labels,
            memory_mb=args.memory_mb,
            device=device,
        )
        sync()
        return result

    def run_sort():
        torch.sort(neuron_major, dim=1, descending=True)
        sync()

    def run_numpy_sort():
        np.sort(neuron_major.cpu().numpy(), axis=1)

    width = chunk_columns(args.texts, args.memory_mb)
    buffer = np.empty((min(width, args.neurons), args.texts), dtype=np.float32)

    def run_numpy_sort_in_place():
        """The same value-only sort, chunk by chunk (the AP's
        chunk width) in one reused buffer: no page faults."""
        matrix = neuron_major.cpu().numpy()
        for start in range(0, args.neurons, width):
            rows = buffer[: min(width, args.neurons - start)]
            np.copyto(rows, matrix[start : start + len(rows)])
            rows.sort(axis=1)

    measured = device.type == "cpu" and _reset_peak()
    base = _rss_mb("VmRSS")
    fast = run_ap()
    peak = (_rss_mb("VmHWM") - base) if measured and base is not None else None
    t_ap = _best(run_ap, args.repeats)
    t_sort = _best(run_sort, args.repeats)
    t_numpy_sort = _best(run_numpy_sort, args.repeats)
    t_in_place = _best(run_numpy_sort_in_place, args.repeats)
    t_floor = min(t_sort, t_numpy_sort, t_in_place) if device.type == "cpu" else t_sort
    sample = np.sort(rng.choice(args.neurons, size=min(args.sample, args.neurons), replace=False))
    start = time.process_time()
    reference = np.array([average_precision_score(labels, scores[:, j]) for j in sample])
    t_sklearn = (time.process_time() - start) / len(sample) * args.neurons
    delta = float(np.abs(reference - fast[sample]).max())

    tied = np.round(scores[:, sample], 2)
    delta_ties = float(
        np.abs(
            np.array([average_precision_score(labels, tied[:, j]) for j in range(len(sample))])
            - average_precision(tied, labels, device=device)
        ).max()
    )

    print(f"vectorised AP, all neurons:        {t_ap:8.2f} CPU-s")
    print(f"one torch.sort of the matrix:      {t_sort:8.2f} CPU-s   (values and indices)")
    print(
        f"one numpy sort of the matrix:      {t_numpy_sort:8.2f} CPU-s   (values only, into a new "
        "array; CPU)"
    )
    print(
        f"numpy sort in a reused buffer:     {t_in_place:8.2f} CPU-s   (values only, chunk by "
        "chunk in place; CPU)"
    )
    print(
        f"sklearn per neuron (extrapolated): {t_sklearn:8.2f} CPU-s   ({len(sample)} neurons timed)"
    )
    print(f"ratio AP / fastest sort (floor):   {t_ap / t_floor:6.2f}x   (goal <= 1.5x)")
    print(f"ratio AP / numpy sort (new array): {t_ap / t_numpy_sort:6.2f}x")
    print(f"ratio AP / torch.sort:             {t_ap / t_sort:6.2f}x")
    print(f"speed-up vs sklearn:               {t_sklearn / t_ap:6.1f}x   (goal >= 15x)")
    if peak is not None:
        print(f"peak memory above the input: {peak} MB (budget {args.memory_mb:g} MB)")
    print(
        f"max |ΔAP| vs sklearn: {delta:.2e} (continuous scores), {delta_ties:.2e} (scores rounded "
        "to 2 decimals: ties)"
    )
    return 0 if max(delta, delta_ties) <= 1e-9 else 1
