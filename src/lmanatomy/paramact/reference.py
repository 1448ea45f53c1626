"""The plain in-memory definition, for checking the streaming path and for the benchmark.

Every needed input's full activation vector is kept (one float32 array per layer), the dataset
means are ``numpy.mean`` over the stacked vectors (float64), and each LLMDcos is a float64
cosine. Memory grows with the number of samples: fine for tiny models and a handful of inputs,
hopeless for a 7B model — which is why :func:`lmanatomy.paramact.run.run_job` exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lmanatomy.paramact.plan import Pair, Unit, draws_needed
from lmanatomy.paramact.prompts import Draws
from lmanatomy.paramact.run import DENSITY_COLUMNS, PAIR_COLUMNS
from lmanatomy.paramact.scores import ParameterActivation


def score_all(scorer: ParameterActivation, draws: Mapping[str, Draws], need: Mapping[str, int]) -> dict[Unit, tuple[str, list[np.ndarray]]]:
    """Every draw a job needs: unit → (row id, one flat float32 array per layer)."""
    vectors = {}
    for name, n in need.items():
        for j in range(n):
            draw = draws[name].draw(j)
            scores = scorer.score(draw.input_ids)
            vectors[Unit(name, j)] = (draw.row_id, [scores.layer_vector(k).float().cpu().numpy().copy() for k in range(len(scores))])
    return vectors


def in_memory(
    scorer: ParameterActivation,
    draws: Mapping[str, Draws],
    density: Mapping[str, int],
    pairs: Sequence[Pair],
    thresholds: Sequence[float],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[np.ndarray]]]:
    """(density table, pair table, per-dataset per-layer
    means) computed with everything in memory."""
    vectors = score_all(scorer, draws, draws_needed(density, pairs))
    sizes = scorer.layer_sizes
    density_rows, means = [], {}
    for name, n in density.items():
        means[name] = []
        for layer, size in enumerate(sizes):
            mean = np.stack([vectors[Unit(name, j)][1][layer] for j in range(n)]).astype(np.float64).mean(axis=0)
            means[name].append(mean)
            for gamma in thresholds:
                count = int((mean > gamma).sum())
                density_rows.append({"dataset": name, "layer": layer, "parameters": size, "samples": n,
                                     "threshold": float(gamma), "activated": count, "ratio": count / size})
    pair_rows = []
    for pair in pairs:
        for i in range(pair.samples):
            ux, uy = pair.units(i)
            (rx, vx), (ry, vy) = vectors[ux], vectors[uy]
            for layer in range(len(sizes)):
                a, b = vx[layer].astype(np.float64), vy[layer].astype(np.float64)
                value = float(a @ b / np.sqrt((a @ a) * (b @ b)))
                pair_rows.append({"x": pair.x, "y": pair.y, "kind": "within" if pair.within else "cross", "index": i,
                                  "x_row": rx, "y_row": ry, "layer": layer, "llmdcos": value})
    pair_frame = pd.DataFrame(pair_rows, columns=PAIR_COLUMNS).sort_values(["x", "y", "index", "layer"], kind="stable")
    return pd.DataFrame(density_rows, columns=DENSITY_COLUMNS), pair_frame.reset_index(drop=True), means


def near_threshold(means: Mapping[str, list[np.ndarray]], thresholds: Sequence[float], rtol: float = 1e-5) -> pd.DataFrame:
    """Per (dataset, layer, threshold): parameters whose mean is within ``rtol`` of γ.

    The streaming job sums in float32 (sequential, ~1e-6 relative error for tens of samples);
    this reference averages in float64. Their counts may differ only by parameters this close to γ.
    """
    rows = [{"dataset": name, "layer": layer, "threshold": float(g), "near": int((np.abs(mean - g) <= rtol * g).sum())}
            for name, layers in means.items() for layer, mean in enumerate(layers) for g in thresholds]
    return pd.DataFrame(rows)

