"""Batched linear SVR (all targets of a layer pair at once) vs scikit-learn's SVR, target by target.

``python -m lmanatomy.bench redundancy [--size default|paper|both] [--targets N]
[--store DIR --source N]``

Both solve the same problem (libsvm's ε-SVR with C, epsilon) on the same layer pair: the batched
solver fits every target dim; ``sklearn.svm.SVR(kernel="linear")`` fits a random sample of them
(it takes seconds per target at the paper's size). Printed: time per target of each, their ratio,
and the agreement on the sampled targets (test R² difference, weight cosine).

Data: by default synthetic hidden-state-like pairs (a residual stream: y = x + a small nonlinear
update; anisotropic x with a few large-magnitude dims), at the default run's size (n=256 train,
p=576, 576 targets) and the paper's (n=800, p=4096, 4096 targets). ``--store`` reads a real layer
pair from an activation store written by the workflow instead (the first train+test rows).
``--targets N`` keeps a seeded sample of N target dims (a sampled paper-size run on a small CPU
machine: the batched solver's per-target time is then an upper bound, as its shared work — the
eigendecomposition, the solve matrices — is spread over fewer targets).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

SIZES = {"default": (256, 64, 576), "paper": (800, 200, 4096)}


@dataclass
class Pair:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    width: int = 0  # target dims of the whole pair (before sampling); 0: as many as y has

    def __post_init__(self) -> None:
        self.width = self.width or self.y_train.shape[1]


def hidden_state_like(n_train: int, n_test: int, width: int, seed: int = 0) -> Pair:
    """A synthetic layer pair shaped like EOS hidden states of a decoder's residual stream.

    x: width/9 latent factors with a decaying spectrum plus isotropic noise, and four "massive"
    dims with large offsets (as LLM hidden states have); y = x + tanh(x W₁) W₂ + noise: the next
    layer adds a small nonlinear update to the residual stream. Calibrated at the default size
    against SmolLM2-135M's EOS states (per-dim std of y about 1.4 vs 0.4–3; spectrum of the
    centred Gram matrix 0.8–2.7e4 vs 0.05–1.8e5; 184 free support vectors of 256 vs 76–208).
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    k = max(8, width // 9)  # latent factors: 64 at the default width 576
    factors = rng.normal(size=(n, k)) * np.geomspace(1.6, 0.06, k)
    # Isotropic part scaled so that the floor it puts under K's spectrum does not grow with width.
    x = factors @ rng.normal(size=(k, width)) / 4 + 0.1 * np.sqrt(576 / width) * rng.normal(
        size=(n, width)
    )
    massive = rng.choice(width, size=4, replace=False)
    x[:, massive] = 40.0 + 2.0 * rng.normal(size=(n, 4))
    hidden = np.tanh(x @ rng.normal(size=(width, 128)) / np.sqrt(width))
    y = x + hidden @ rng.normal(size=(128, width)) * 0.1 + 0.05 * rng.normal(size=(n, width))
    return Pair(
        x[:n_train],
        y[:n_train],
        x[n_train:],
        y[n_train:],
        f"synthetic hidden-state-like (seed {seed})",
    )


def store_pair(path: str, source: int, n_train: int, n_test: int) -> Pair:
    """A real layer pair source → source+1 from an activation
    store: first n_train rows train, next n_test test."""
    from lmanatomy.extract import open_store

    store = open_store(path)
    x = np.asarray(store.read([f"hidden_states.{source}"]), dtype=np.float64)
    y = np.asarray(store.read([f"hidden_states.{source + 1}"]), dtype=np.float64)
    if len(x) < n_train + n_test:
        raise SystemExit(f"the store has {len(x)} rows; {n_train} + {n_test} asked for")
    cut = n_train + n_test
    return Pair(
        x[:n_train],
        y[:n_train],
        x[n_train:cut],
        y[n_train:cut],
        f"{path}, pair {source}→{source + 1}",
    )


def sample_targets(pair: Pair, count: int | None, seed: int) -> Pair:
    """The pair with a seeded sample of ``count`` target dims (all when None or too many)."""
    width = pair.y_train.shape[1]
    if count is None or count >= width:
        return pair
    dims = np.sort(np.random.default_rng(seed + 1).choice(width, size=count, replace=False))
    return Pair(
        pair.x_train,
        pair.y_train[:, dims],
        pair.x_test,
        pair.y_test[:, dims],
        f"{pair.source}, {count} of {width} target dims",
        width,
    )


def compare(
    pair: Pair, label: str, sklearn_targets: int, C: float, epsilon: float, tol: float, seed: int
) -> dict[str, float]:
    from sklearn.metrics import r2_score
    from sklearn.svm import SVR

    from lmanatomy.redundancy.svr import fit_linear_svr

    targets = pair.y_train.shape[1]
    start = time.perf_counter()
    cpu = time.process_time()
    ours = fit_linear_svr(pair.x_train, pair.y_train, C=C, epsilon=epsilon, tol=tol)
    ours_wall, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
    r2_ours, _ = ours.r2(pair.x_test, pair.y_test)
    n, p = pair.x_train.shape
    print(
        f"\n== {label}: n_train={n}, n_test={len(pair.x_test)}, p={p}, targets={targets}; data: "
        f"{pair.source}"
    )
    print(
        f"batched solver : {ours_wall:8.2f} s wall, {ours_cpu:8.2f} s CPU for {targets} targets = "
        f"{1e3 * ours_wall / targets:.3f} ms/target (iterations median "
        f"{np.median(ours.n_iter_):.0f}, max {ours.n_iter_.max():.0f}; converged "
        f"{100 * ours.converged_.mean():.1f}% to KKT ≤ {tol:g})",
        flush=True,
    )
    sample = np.sort(
        np.random.default_rng(seed).choice(
            targets, size=min(sklearn_targets, targets), replace=False
        )
    )
    sk_wall, sk_cpu, r2_diff, cosines = 0.0, 0.0, [], []
    for dim in sample:
        start, cpu = time.perf_counter(), time.process_time()
        reference = SVR(kernel="linear", C=C, epsilon=epsilon).fit(
            pair.x_train, pair.y_train[:, dim]
        )
        sk_wall += time.perf_counter() - start
        sk_cpu += time.process_time() - cpu
        r2_diff.append(
            abs(r2_score(pair.y_test[:, dim], reference.predict(pair.x_test)) - r2_ours[dim])
        )
        w_ref, w = reference.coef_[0], ours.coef_[dim].cpu().numpy()
        cosines.append(float(w_ref @ w / (np.linalg.norm(w_ref) * np.linalg.norm(w))))
    per_target_ours, per_target_sk = ours_wall / targets, sk_wall / len(sample)
    result = {
        "targets": targets,
        "ours_wall_s": ours_wall,
        "ours_cpu_s": ours_cpu,
        "ours_ms_per_target": 1e3 * per_target_ours,
        "sklearn_ms_per_target": 1e3 * per_target_sk,
        "sklearn_cpu_ms_per_target": 1e3 * sk_cpu / len(sample),
        "ratio_wall": per_target_sk / per_target_ours,
        "ratio_cpu": (sk_cpu / len(sample)) / (ours_cpu / targets),
        "max_r2_diff": max(r2_diff),
        "min_cosine": min(cosines),
        "converged": float(ours.converged_.mean()),
        "median_iter": float(np.median(ours.n_iter_)),
        "max_iter": float(ours.n_iter_.max()),
    }
    print(
        f"sklearn SVR    : {sk_wall:8.2f} s wall, {sk_cpu:8.2f} s CPU for {len(sample)} sampled "
        f"targets = {result['sklearn_ms_per_target']:.1f} ms/target"
    )
    print(
        f"per-target time ratio (sklearn / batched): {result['ratio_wall']:.0f}x wall, "
        f"{result['ratio_cpu']:.0f}x CPU (goal >= 1000x at paper size)"
    )
    width = pair.width
    if targets < width:
        # the shared work (eigendecomposition, solve matrices) is counted once per sample: an upper
        # bound
        print(
            f"full pair of {width} targets, extrapolated from {targets}: <= "
            f"{ours_cpu * width / targets:.1f} CPU-s (goal <= 60 at paper size)"
        )
    else:
        print(
            f"full pair of {width} targets: {ours_cpu:.1f} CPU-s (goal <= 60 at paper size); "
            f"{int(ours.polished_.sum())} targets polished"
        )
    print(
        f"agreement on the {len(sample)} sampled targets: max |ΔR²| = "
        f"{result['max_r2_diff']:.2e}, min weight cosine = {result['min_cosine']:.6f}"
    )
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmanatomy.bench redundancy", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", choices=["default", "paper", "both"], default="both")
    parser.add_argument(
        "--sklearn-targets",
        type=int,
        default=None,
        help="targets sklearn fits (default: 32 at the default size, 4 at the paper's)",
    )
    parser.add_argument(
        "--targets",
        type=int,
        default=None,
        help="fit a seeded sample of this many target dims (default: all)",
    )
    parser.add_argument(
        "--store", help="an activation store folder (real hidden states) instead of synthetic data"
    )
    parser.add_argument(
        "--source", type=int, default=15, help="source layer of the pair read from --store"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: one CPU job, one thread; issue 22)",
    )
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--epsilon", type=float, default=0.1)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    from lmanatomy.bench import machine_description

    torch.set_num_threads(args.threads)
    print(f"machine: {machine_description()}")
    print(
        "sklearn.svm.SVR(kernel='linear'): libsvm, single-threaded, tol 1e-3; batched solver: "
        "float64, KKT tol",
        args.tol,
    )
    sizes = ["default", "paper"] if args.size == "both" else [args.size]
    for size in sizes:
        n_train, n_test, width = SIZES[size]
        pair = (
            store_pair(args.store, args.source, n_train, n_test)
            if args.store
            else hidden_state_like(n_train, n_test, width, args.seed)
        )
        pair = sample_targets(pair, args.targets, args.seed)
        count = args.sklearn_targets or (32 if size == "default" else 4)
        compare(pair, f"{size} size", count, args.C, args.epsilon, args.tol, args.seed)
    return 0
