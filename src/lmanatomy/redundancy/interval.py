"""A 95% bootstrap interval for a layer pair's mean test R², over the test sentences.

A pair's R² (the poster's number, Figs 1–3) is the mean over target dims of each dim's test R².
Its uncertainty comes from which sentences happened to be in the test set, so the interval
resamples test sentences with replacement (the fitted SVRs stay fixed: the interval is about the
score, not the fit) and recomputes every dim's R² on the resample, then their mean; the 2.5th and
97.5th percentiles of those means are the interval. The same draws give the interval of the mean
gain over the identity baseline.

One resample's R² per dim only needs weighted sums over the test sentences (weights = how often
each sentence was drawn), so all resamples are three matrix products — far cheaper than the fit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class PairInterval:
    """Percentile bootstrap bounds of a pair's mean
    test R² and mean gain, with how they were drawn."""

    mean_r2: tuple[float, float]
    mean_gain: tuple[float, float]
    resamples: int
    seed: int


def draw_indices(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """The test sentences drawn, with replacement, for each resample (``resamples × n``)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def draw_counts(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """How often each of ``n`` test sentences is drawn in each resample (``resamples × n``)."""
    indices = draw_indices(n, resamples, seed)
    return np.stack([np.bincount(row, minlength=n) for row in indices]).astype(np.float64)


def resampled_r2(y_true: np.ndarray, y_pred: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """R² per resample and target dim (``resamples × dims``):
    1 − SS_res / SS_tot on the weighted sentences.

    NaN where the resampled target is constant (SS_tot = 0), as
    :func:`lmanatomy.redundancy.svr.r2_scores`.
    """
    y = np.asarray(y_true, dtype=np.float64)
    residual = (y - np.asarray(y_pred, dtype=np.float64)) ** 2
    n = counts.sum(1, keepdims=True)
    ss_res = counts @ residual
    # SS_tot about the resample's own mean, centred on the full test mean first for precision
    centred = y - y.mean(0)
    mean = counts @ centred / n
    ss_tot = counts @ (centred**2) - n * mean**2
    constant = ss_tot <= 1e-12 * np.maximum(counts @ (centred**2), np.finfo(np.float64).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(constant, np.nan, 1.0 - ss_res / np.where(constant, 1.0, ss_tot))


def _bounds(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile bounds of the resamples' means; NaN
    when more than ``1 − level`` of them are undefined.

    Why: with very few test sentences many resamples draw one sentence only (every target constant,
    R² undefined); leaving them out would shrink the interval to the few resamples left (with 2
    sentences, to the point estimate itself) and claim a precision the data do not have.
    """
    defined = values[~np.isnan(values)]
    if len(defined) < level * len(values):
        return (float("nan"), float("nan"))
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high)


def pair_interval(
    y_test: np.ndarray,
    prediction: np.ndarray,
    identity_prediction: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> PairInterval:
    """The bootstrap interval of the pair's mean test R² (over defined dims) and of its mean gain
    over the identity baseline."""
    if len(y_test) < 2:
        raise ValueError(
            f"a bootstrap over test sentences needs at least 2 of them, got {len(y_test)}"
        )
    counts = draw_counts(len(y_test), resamples, seed)
    r2 = resampled_r2(y_test, prediction, counts)
    gain = r2 - resampled_r2(y_test, identity_prediction, counts)
    with (
        warnings.catch_warnings()
    ):  # a resample whose dims are all constant: its mean is NaN, left out
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_r2, mean_gain = np.nanmean(r2, axis=1), np.nanmean(gain, axis=1)
    return PairInterval(_bounds(mean_r2, level), _bounds(mean_gain, level), resamples, seed)
