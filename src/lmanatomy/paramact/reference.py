"""The plain in-memory definition, for checking the streaming path and for the benchmark.

Every needed input's full activation vector is kept (one float32 array per layer), the dataset
means are ``numpy.mean`` over the stacked vectors (float64), and each LLMDcos is a float64
cosine. Memory grows with the number of samples: fine for tiny models and a handful of inputs,
hopeless for a 7B model — which is why :func:`lmanatomy.paramact.run.run_job` exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from lmanatomy.paramact.plan import Pair, Unit, draws_needed
from lmanatomy.paramact.prompts import Draws
from lmanatomy.paramact.run import DENSITY_COLUMNS, PAIR_COLUMNS
from lmanatomy.paramact.scores import ParameterActivation


def score_all(
    scorer: ParameterActivation, draws: Mapping[str, Draws], need: Mapping[str, int]
) -> dict[Unit, tuple[str, list[np.ndarray]]]:
    """Every draw a job needs: unit → (row id, one flat float32 array per layer)."""
    vectors = {}
    for name, n in need.items():
        for j in range(n):
            draw = draws[name].draw(j)
            scores = scorer.score(draw.input_ids)
            vectors[Unit(name, j)] = (
                draw.row_id,
                [scores.layer_vector(k).float().cpu().numpy().copy() for k in range(len(scores))],
            )
    return vectors


def in_memory(
    scorer: ParameterActivation,
    draws: Mapping[str, Draws],
    density: Mapping[str, int],
    pairs: Sequence[Pair],
    thresholds: Sequence[float],
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[np.ndarray]]]:
    """(density table, pair table, per-dataset per-layer means) computed with everything in memory;
    the intervals by :func:`bootstrap_shares` over every weight."""
    vectors = score_all(scorer, draws, draws_needed(density, pairs))
    sizes = scorer.layer_sizes
    density_rows, means = [], {}
    for name, n in density.items():
        means[name] = []
        stacked = [
            np.stack([vectors[Unit(name, j)][1][layer] for j in range(n)]).astype(np.float64)
            for layer in range(len(sizes))
        ]
        ci = bootstrap_shares(stacked, thresholds, resamples, seed)
        for layer, size in enumerate(sizes):
            mean = stacked[layer].mean(axis=0)
            means[name].append(mean)
            for k, gamma in enumerate(thresholds):
                count = int((mean > gamma).sum())
                density_rows.append(
                    {
                        "dataset": name,
                        "layer": layer,
                        "parameters": size,
                        "samples": n,
                        "threshold": float(gamma),
                        "activated": count,
                        "ratio": count / size,
                        "ratio_ci95_low": ci["ratio_low"][layer][k],
                        "ratio_ci95_high": ci["ratio_high"][layer][k],
                        "gap": ci["gap"][k],
                        "gap_ci95_low": ci["gap_low"][k],
                        "gap_ci95_high": ci["gap_high"][k],
                        "interval_weights": size,
                    }
                )
    pair_rows = []
    for pair in pairs:
        for i in range(pair.samples):
            ux, uy = pair.units(i)
            (rx, vx), (ry, vy) = vectors[ux], vectors[uy]
            for layer in range(len(sizes)):
                a, b = vx[layer].astype(np.float64), vy[layer].astype(np.float64)
                value = float(a @ b / np.sqrt((a @ a) * (b @ b)))
                pair_rows.append(
                    {
                        "x": pair.x,
                        "y": pair.y,
                        "kind": "within" if pair.within else "cross",
                        "index": i,
                        "x_row": rx,
                        "y_row": ry,
                        "layer": layer,
                        "llmdcos": value,
                    }
                )
    pair_frame = pd.DataFrame(pair_rows, columns=PAIR_COLUMNS).sort_values(
        ["x", "y", "index", "layer"], kind="stable"
    )
    return (
        pd.DataFrame(density_rows, columns=DENSITY_COLUMNS),
        pair_frame.reset_index(drop=True),
        means,
    )


def bootstrap_shares(
    stacked: Sequence[np.ndarray],
    thresholds: Sequence[float],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, list]:
    """Finding 1's intervals by the definition, one resample at a time: resample the samples
    (the rows of each layer's (n, weights) array) with replacement, recount every weight's mean
    against each γ; the interval is the estimate ± z times the resampled shares' (and shallow −
    deep gaps') standard deviation."""
    n, layers, half = stacked[0].shape[0], len(stacked), len(stacked) // 2
    shares = np.empty((resamples, layers, len(thresholds)))
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    for b in range(resamples):
        for layer in range(layers):
            mean = stacked[layer][draws[b]].mean(axis=0)
            for k, gamma in enumerate(thresholds):
                shares[b, layer, k] = np.count_nonzero(mean > gamma) / mean.size
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    full = np.array(
        [[np.count_nonzero(s.mean(axis=0) > g) / s.shape[1] for g in thresholds] for s in stacked]
    )
    gap = full[:half].mean(axis=0) - full[half:].mean(axis=0)
    se = shares.std(axis=0, ddof=1)
    gap_se = (shares[:, :half].mean(axis=1) - shares[:, half:].mean(axis=1)).std(axis=0, ddof=1)
    return {
        "ratio_low": np.clip(full - z * se, 0, 1),
        "ratio_high": np.clip(full + z * se, 0, 1),
        "gap": gap,
        "gap_low": gap - z * gap_se,
        "gap_high": gap + z * gap_se,
    }


def near_threshold(
    means: Mapping[str, list[np.ndarray]], thresholds: Sequence[float], rtol: float = 1e-5
) -> pd.DataFrame:
    """Per (dataset, layer, threshold): parameters whose mean is within ``rtol`` of γ.

    The streaming job sums in float32 (sequential, ~1e-6 relative error for tens of samples);
    this reference averages in float64. Their counts may differ only by parameters this close to γ.
    """
    rows = [
        {
            "dataset": name,
            "layer": layer,
            "threshold": float(g),
            "near": int((np.abs(mean - g) <= rtol * g).sum()),
        }
        for name, layers in means.items()
        for layer, mean in enumerate(layers)
        for g in thresholds
    ]
    return pd.DataFrame(rows)
