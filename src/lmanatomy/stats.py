"""The statistics every study shares: bootstrap intervals of a mean, the Wilson interval, and the
same-layer random control.

One copy of each, so that two studies' intervals mean the same thing and are drawn the same way:

* :func:`bootstrap_mean` — percentile-bootstrap interval of a mean over independent units
  (samples, words, paired prompts), seeded with ``numpy.random.default_rng(seed)``; the draws
  are an ``(resamples, n)`` matrix of indices, so a caller that needs several means on the *same*
  resampled units (a difference and its two parts) uses :func:`bootstrap_means`.
* :func:`normal_interval` — estimate ± z·SE from bootstrap replicates, for statistics whose
  bootstrap distribution is shifted from the estimate.
* :func:`mover_mean` — the mean of independent estimates, its interval combined from theirs.
* :func:`wilson` — the Wilson score interval of a proportion: it stays inside [0, 1] and is
  sensible at 0 and n hits, where small-sample accuracies often lie.
* :func:`same_layer_random` — a control set of units: as many per layer as the chosen set has,
  drawn without replacement from that layer's other units of a census frame. A causal effect
  that any units of those layers would cause is then not credited to the chosen ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

__all__ = [
    "Z95",
    "bootstrap_mean",
    "bootstrap_means",
    "mover_mean",
    "normal_interval",
    "percentile_interval",
    "resample_indices",
    "same_layer_random",
    "wilson",
]

Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, n)`` indices drawn with replacement
    from ``range(n)``: the bootstrap's draws."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def percentile_interval(
    estimates: np.ndarray, level: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` percentile interval of bootstrap ``estimates`` along ``axis``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"an interval's level must lie in (0, 1), got {level}")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail], axis=axis)
    return low, high


def normal_interval(
    estimate: np.ndarray, replicates: np.ndarray, level: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """estimate ± z·SE, the standard error being the spread (ddof 1) of bootstrap ``replicates``.

    For statistics whose bootstrap distribution is shifted from the estimate (a share of
    thresholded means: resampled means are noisier, so fewer stay above a threshold most are far
    above), where a percentile interval can miss the estimate itself; this one is centred on it.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"an interval's level must lie in (0, 1), got {level}")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    se = np.std(replicates, axis=axis, ddof=1)
    return np.asarray(estimate) - z * se, np.asarray(estimate) + z * se


def bootstrap_means(
    columns: Mapping[str, np.ndarray], resamples: int, seed: int, level: float = 0.95
) -> dict[str, tuple[float, float, float]]:
    """(mean, low, high) of each column, every column resampled with the *same* drawn units.

    The columns are per-unit values of equal length (e.g. a change under two treatments and their
    difference, per word): resampling them together keeps their pairing.
    """
    arrays = {name: np.asarray(values, dtype=float) for name, values in columns.items()}
    lengths = {len(values) for values in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(
            f"columns of unequal length cannot share resampled units: {sorted(lengths)}"
        )
    n = lengths.pop()
    if n == 0:
        return {name: (float("nan"),) * 3 for name in arrays}
    draws = resample_indices(n, resamples, seed)
    out = {}
    for name, values in arrays.items():
        low, high = percentile_interval(values[draws].mean(axis=1), level)
        out[name] = (float(values.mean()), float(low), float(high))
    return out


def bootstrap_mean(
    values: np.ndarray, resamples: int = 1000, seed: int = 0, level: float = 0.95, min_n: int = 1
) -> tuple[float, float, float]:
    """(mean, low, high): the percentile-bootstrap interval of the mean of independent units.

    NaN values are dropped first (a unit without a value is not a unit). Fewer than ``min_n`` units
    give NaN throughout; with ``min_n=1`` a single unit gives a zero-width interval.
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < max(min_n, 1):
        return float("nan"), float("nan"), float("nan")
    return bootstrap_means({"values": values}, resamples, seed, level)["values"]


def mover_mean(
    estimates: Sequence[float], intervals: Sequence[tuple[float, float]]
) -> tuple[float, tuple[float, float]]:
    """The mean of independent estimates with an interval combined from their own (MOVER for a sum,
    Zou & Donner 2008, divided by the count): each bound moves by the root sum of squares of the
    estimates' distances to their own bounds on that side."""
    values = np.asarray(estimates, dtype=float)
    lows, highs = (np.asarray(side, dtype=float) for side in zip(*intervals, strict=False))
    k = len(values)
    mean = float(values.mean())
    return mean, (
        mean - math.sqrt(float(((values - lows) ** 2).sum())) / k,
        mean + math.sqrt(float(((highs - values) ** 2).sum())) / k,
    )


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(lower, upper) of the Wilson score interval of
    hits / n, as proportions; (nan, nan) for n = 0."""
    if hits < 0 or n < 0 or hits > n:
        raise ValueError(f"need 0 <= hits <= n, got hits={hits}, n={n}")
    if n == 0:
        return float("nan"), float("nan")
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def same_layer_random(
    chosen: pd.DataFrame,
    census: pd.DataFrame,
    rng: np.random.Generator,
    keys: Sequence[str] = ("module", "channel"),
) -> pd.DataFrame:
    """As many units per layer as ``chosen`` has, drawn uniformly without replacement from that
    layer's units in ``census`` other than the chosen ones.

    Both frames have a ``layer`` column and the ``keys`` columns that name a unit within a layer
    (``module, channel`` for every linear's channels; ``channel`` for one site's neurons). Layers
    are drawn in ascending order and each layer's draw is returned in census order, so a seeded
    ``rng`` gives the same control wherever it is called.
    """
    keys = list(keys)
    missing = [c for c in ["layer", *keys] if c not in chosen.columns or c not in census.columns]
    if missing:
        raise ValueError(f"the chosen and census frames both need the columns {missing}")
    parts = []
    for layer, count in chosen.groupby("layer").size().items():
        taken = set(chosen.loc[chosen["layer"] == layer, keys].itertuples(index=False, name=None))
        pool = census[census["layer"] == layer]
        free = pool[[key not in taken for key in pool[keys].itertuples(index=False, name=None)]]
        if len(free) < count:
            raise ValueError(
                f"layer {layer}: {count} random units wanted, only {len(free)} not chosen in the "
                "census"
            )
        parts.append(
            free.iloc[np.sort(rng.choice(len(free), size=int(count), replace=False))][
                ["layer", *keys]
            ]
        )
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else census.iloc[:0][["layer", *keys]].reset_index(drop=True)
    )
