"""Comparing layer profiles: rank correlations over the layers two profiles share.

Each study yields one number per layer (a *profile*). Whether two studies see the same layers as
special is a question about the order of those numbers, not their scale, so profiles are compared
by Spearman's ρ. A model has few layers (30 for SmolLM2), so ρ comes with a bootstrap interval
over layers: resampling layers with replacement, the percentile interval of ρ. An interval that
contains 0 means the layers do not tell.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

#: How a correlation reads, by where its interval lies.
AGREE, OPPOSE, UNDECIDED = "agree", "opposed", "undecided"


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ: Pearson's r of average ranks (ties share a rank); NaN if either is constant."""
    rx = pd.Series(np.asarray(x, dtype=float)).rank().to_numpy()
    ry = pd.Series(np.asarray(y, dtype=float)).rank().to_numpy()
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = float(np.sqrt((rx @ rx) * (ry @ ry)))
    return float(rx @ ry / denominator) if denominator > 0 else float("nan")


def bootstrap_spearman(x: np.ndarray, y: np.ndarray, resamples: int, seed: int,
                       level: float = 0.95) -> tuple[float, float, float]:
    """(ρ, low, high): ρ on all layers and the percentile interval over resampled layers.

    A resample in which one profile is constant has no ρ and is skipped (with few layers and
    flat profiles this happens); the interval is NaN when fewer than half the resamples count.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rho = spearman(x, y)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(x), size=(resamples, len(x)))
    values = np.array([spearman(x[d], y[d]) for d in draws])
    values = values[~np.isnan(values)]
    if len(values) < resamples / 2:
        return rho, float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return rho, float(low), float(high)


def reading(low: float, high: float) -> str:
    """agree / opposed / undecided: the sign of ρ counts only when the interval excludes 0."""
    if np.isnan(low) or np.isnan(high) or low <= 0 <= high:
        return UNDECIDED
    return AGREE if low > 0 else OPPOSE


def rank_correlations(profiles: pd.DataFrame, resamples: int = 1000, seed: int = 0,
                      min_layers: int = 5) -> pd.DataFrame:
    """ρ with its interval for every pair of profiles (columns of ``profiles``, index = layer).

    Each pair uses the layers where both have a value (the lesion profile covers only the pruned
    ranges); pairs sharing fewer than ``min_layers`` layers are listed with NaN ρ.
    """
    rows = []
    for offset, (a, b) in enumerate(combinations(profiles.columns, 2)):
        both = profiles[[a, b]].dropna()
        if len(both) < min_layers:
            rho, low, high = float("nan"), float("nan"), float("nan")
        else:
            rho, low, high = bootstrap_spearman(both[a].to_numpy(), both[b].to_numpy(), resamples, seed + offset)
        rows.append({"profile_a": a, "profile_b": b, "layers": len(both), "spearman": rho,
                     "ci_low": low, "ci_high": high, "reading": reading(low, high)})
    return pd.DataFrame(rows, columns=["profile_a", "profile_b", "layers", "spearman", "ci_low", "ci_high", "reading"])


def paragraph(correlations: pd.DataFrame, labels: dict[str, str]) -> str:
    """A short generated text: which profiles agree, which oppose, how many pairs are undecided."""
    def name(key: str) -> str:
        return labels.get(key, key)

    sentences = []
    for kind, verb in ((AGREE, "rise and fall together"), (OPPOSE, "run opposite")):
        chosen = correlations[correlations["reading"] == kind].sort_values("spearman", key=abs, ascending=False)
        for row in chosen.itertuples(index=False):
            sentences.append(f"{name(row.profile_a)} and {name(row.profile_b)} {verb} across layers "
                             f"(Spearman ρ = {row.spearman:.2f}, 95% CI {row.ci_low:.2f} to {row.ci_high:.2f}, "
                             f"{row.layers} layers).")
    undecided = int((correlations["reading"] == UNDECIDED).sum())
    if undecided:
        sentences.append(f"{undecided} of {len(correlations)} pairs are undecided: their interval contains 0 "
                         f"(or they share too few layers).")
    if not sentences:
        return "No pair of profiles could be compared."
    return " ".join(sentences)
