"""Comparing layer profiles: rank correlations over the layers two profiles share.

Each study yields one number per layer (a *profile*). Whether two studies see the same layers as
special is a question about the order of those numbers, not their scale, so profiles are compared
by Spearman's ρ. A model has few layers (30 for SmolLM2), so ρ comes with a bootstrap interval
over layers: resampling layers with replacement, the percentile interval of ρ. An interval that
contains 0 means the layers do not tell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def bootstrap_spearman(
    x: np.ndarray, y: np.ndarray, resamples: int, seed: int, level: float = 0.95
) -> tuple[float, float, float]:
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


def study_of(profile: str) -> str:
    """The study a headline profile comes from: its name up to the first underscore."""
    return profile.split("_", 1)[0]


def _by_blocks(both: pd.DataFrame, blocks: Sequence[Sequence[int]]) -> pd.DataFrame:
    """Both profiles averaged over each block of layers
    (a lesion range is one measurement, not 5 layers)."""
    rows = [both.loc[[layer for layer in block if layer in both.index]].mean() for block in blocks]
    return pd.DataFrame(rows).dropna()


#: Fewer units than this are never read as agree/opposed: a percentile bootstrap over so few
#: points understates its spread, and Spearman's exact test needs ρ = ±1 at n = 5 (α = 0.05).
MIN_READING_UNITS = 8


def rank_correlations(
    profiles: pd.DataFrame,
    resamples: int = 1000,
    seed: int = 0,
    min_layers: int = 5,
    blocks: Mapping[str, Sequence[Sequence[int]]] | None = None,
) -> pd.DataFrame:
    """ρ with its interval for every pair of profiles (columns of ``profiles``, index = layer).

    Each pair uses the layers where both have a value. A profile measured on blocks of layers
    (``blocks``: the lesion study's pruned ranges) is compared block by block: both profiles are
    averaged over each block, so its 5 measurements are not counted as 25 layers. Pairs with fewer
    than ``min_layers`` units are listed with NaN ρ. ``same_study`` marks pairs from one study
    (their agreement is partly by construction).
    """
    blocks = blocks or {}
    rows = []
    for offset, (a, b) in enumerate(combinations(profiles.columns, 2)):
        both = profiles[[a, b]].dropna()
        grouping = blocks.get(a) or blocks.get(b)
        unit = "layers"
        if grouping:
            both, unit = _by_blocks(both, grouping), "ranges"
        if len(both) < min_layers:
            rho, low, high = float("nan"), float("nan"), float("nan")
        else:
            rho, low, high = bootstrap_spearman(
                both[a].to_numpy(), both[b].to_numpy(), resamples, seed + offset
            )
        read = reading(low, high) if len(both) >= MIN_READING_UNITS else UNDECIDED
        rows.append(
            {
                "profile_a": a,
                "profile_b": b,
                "units": len(both),
                "unit": unit,
                "spearman": rho,
                "ci_low": low,
                "ci_high": high,
                "reading": read,
                "same_study": study_of(a) == study_of(b),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "profile_a",
            "profile_b",
            "units",
            "unit",
            "spearman",
            "ci_low",
            "ci_high",
            "reading",
            "same_study",
        ],
    )


def paragraph(correlations: pd.DataFrame, labels: dict[str, str], strongest: int = 3) -> str:
    """A short generated text over the pairs of *different* studies: the ``strongest`` agreements
    and oppositions by |ρ|, how many more there are, and how many pairs are undecided."""

    def name(key: str) -> str:
        return labels.get(key, key)

    across = correlations[~correlations["same_study"]]
    sentences = []
    for kind, verb in ((AGREE, "rise and fall together"), (OPPOSE, "run opposite")):
        chosen = across[across["reading"] == kind].sort_values("spearman", key=abs, ascending=False)
        for row in chosen.head(strongest).itertuples(index=False):
            sentences.append(
                f"{name(row.profile_a)} and {name(row.profile_b)} {verb} (Spearman ρ = "
                f"{row.spearman:.2f}, 95% CI {row.ci_low:.2f} to {row.ci_high:.2f}, {row.units} "
                f"{row.unit})."
            )
        if len(chosen) > strongest:
            sentences.append(f"{len(chosen) - strongest} more pair(s) {verb}.")
    undecided = int((across["reading"] == UNDECIDED).sum())
    if undecided:
        sentences.append(
            f"{undecided} of {len(across)} pairs of different studies are undecided: their "
            f"interval contains 0, or they share fewer than {MIN_READING_UNITS} units (the lesion "
            "profile has one per pruned range)."
        )
    if not sentences:
        return "No pair of profiles from different studies could be compared."
    return "Across studies: " + " ".join(sentences)
