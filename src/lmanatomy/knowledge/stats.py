"""Table 2 and Fig 4: are words closer to their own group than to the other groups?

For each word w: the mean EMD to the *other* words of its group; each word of another group is a
hit when its distance to w exceeds that mean. A group's score is hits / comparisons × 100 over
its words.

Two denominators, both printed. The released code (knowledge-neuron-sim@aeda0cd,
wasserstein_distance.py ``make_binary_df``) increments ``all_count`` for every column that is not
in the word's own group, the word itself included, so each word adds one comparison that can never
be a hit and every score stays below 100. The paper's 94.0 / 78.6 / 76.3 come out exactly only
with that denominator (233/248, 176/224, 206/270), so it is the column comparable with the paper:
``score_as_paper``, "as the paper computed it". ``score_corrected`` divides by the other-group
comparisons only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.errors import ConfigError, DataError
from lmanatomy.knowledge.groups import group_of, ordered_words

DENOMINATORS = ("as_paper", "corrected")
SCORE_COLUMNS = {"as_paper": "score_as_paper", "corrected": "score_corrected"}
SCORE_LABELS = {"as_paper": "as the paper computed it", "corrected": "corrected"}
# Cell categories of the Fig 4 grid, in legend order.
CATEGORIES = ("self", "same group", "closer than own group (miss)", "farther than own group (hit)")


def _check_matrix(distance: pd.DataFrame, words: Sequence[str]) -> None:
    if list(distance.index) != list(words) or list(distance.columns) != list(words):
        raise DataError(
            "the distance matrix's rows and columns must be the configured words, in group order"
        )
    values = distance.to_numpy()
    if not np.allclose(values, values.T) or not np.isfinite(values).all():
        raise DataError("the distance matrix must be finite and symmetric")


def word_comparisons(distance: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Per word: its group, the mean distance to its own group, hits and comparisons."""
    words = ordered_words(groups)
    owner = group_of(groups)
    _check_matrix(distance, words)
    rows = []
    for word in words:
        own = [w for w in groups[owner[word]] if w != word]
        others = [w for w in words if owner[w] != owner[word]]
        mean = float(distance.loc[word, own].mean())
        hits = int((distance.loc[word, others] > mean).sum())
        rows.append(
            {
                "word": word,
                "group": owner[word],
                "group_mean": mean,
                "hits": hits,
                "comparisons": len(others),
            }
        )
    return pd.DataFrame(rows)


def comparison_grid(distance: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Fig 4's grid: for row word w and column word v, the index into :data:`CATEGORIES`."""
    words = ordered_words(groups)
    owner = group_of(groups)
    means = word_comparisons(distance, groups).set_index("word")["group_mean"]
    grid = pd.DataFrame(0, index=words, columns=words, dtype=int)
    for w in words:
        for v in words:
            if v == w:
                grid.loc[w, v] = 0
            elif owner[v] == owner[w]:
                grid.loc[w, v] = 1
            else:
                grid.loc[w, v] = 3 if distance.loc[w, v] > means[w] else 2
    return grid


def table2(distance: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Per group: hits, and the score as the paper
    computed it (diagonal counted) and corrected (not)."""
    per_word = word_comparisons(distance, groups)
    rows = []
    for group, members in groups.items():
        part = per_word[per_word["group"] == group]
        hits, comparisons = int(part["hits"].sum()), int(part["comparisons"].sum())
        comparisons_as_paper = comparisons + len(
            members
        )  # the code also counts each word against itself
        paper_low, paper_high = word_bootstrap(
            part["hits"].to_numpy(), part["comparisons"].to_numpy() + 1
        )
        low, high = word_bootstrap(part["hits"].to_numpy(), part["comparisons"].to_numpy())
        rows.append(
            {
                "group": group,
                "words": len(members),
                "hits": hits,
                "comparisons_as_paper": comparisons_as_paper,
                "score_as_paper": 100.0 * hits / comparisons_as_paper,
                "score_as_paper_ci95_low": paper_low,
                "score_as_paper_ci95_high": paper_high,
                "comparisons": comparisons,
                "score_corrected": 100.0 * hits / comparisons if comparisons else float("nan"),
                "score_corrected_ci95_low": low,
                "score_corrected_ci95_high": high,
            }
        )
    return pd.DataFrame(rows)


def word_bootstrap(
    hits: np.ndarray, comparisons: np.ndarray, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile-bootstrap interval (× 100) of a group's score, resampling the group's words.

    A word's comparisons share its own-group mean, so they are not independent draws: the word,
    not the comparison, is the unit resampled (sum of hits / sum of comparisons per resample).
    With a group's 7–14 words the interval is rough, and it is honest about that.
    """
    hits, comparisons = np.asarray(hits, dtype=float), np.asarray(comparisons, dtype=float)
    if len(hits) < 2 or comparisons.sum() == 0:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(hits), size=(resamples, len(hits)))
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = 100.0 * hits[draws].sum(axis=1) / comparisons[draws].sum(axis=1)
    low, high = np.nanquantile(scores, [0.025, 0.975])
    return float(low), float(high)


def scores_by_metric(
    matrices: Mapping[str, pd.DataFrame], groups: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Table 2's two scores per group under each metric's distance matrix (metric → matrix)."""
    rows = []
    for metric, matrix in matrices.items():
        table = table2(matrix, groups)
        rows += [
            {"metric": metric, "group": g, "score_as_paper": a, "score_corrected": c}
            for g, a, c in zip(
                table["group"], table["score_as_paper"], table["score_corrected"], strict=True
            )
        ]
    return pd.DataFrame(rows)


INTERVAL_NOTE = (
    "*_ci95_low/high: 95% percentile-bootstrap interval of each score, resampling the group's "
    "words (1,000 resamples, seed 0): a word's comparisons share its own-group mean, so the word "
    "is the unit; with 7-14 words per group the interval is wide, and a score whose interval "
    "overlaps the paper's is not a difference from it."
)


def paper_note(groups: Mapping[str, Sequence[str]], paper: Mapping[str, Any]) -> str:
    """The paper's Table 2 values for the groups it has (``paper``:
    its entry of paper_values.yaml), for the table notes."""
    values = paper["values"]
    known = [f"{g} {values[g]:.1f}" for g in groups if g in values]
    return (
        f"Paper ({paper['paper']}): " + (", ".join(known) if known else "no matching groups") + "."
    )


def headline_column(denominator: str) -> str:
    if denominator not in DENOMINATORS:
        raise ConfigError(
            "knowledge.denominator",
            f"unknown value '{denominator}' (known: {', '.join(DENOMINATORS)})",
        )
    return SCORE_COLUMNS[denominator]


def headline_mask(table: pd.DataFrame, denominator: str) -> pd.DataFrame:
    """Which cells of Table 2 to set in bold: the score column of the configured denominator."""
    column = headline_column(denominator)
    return pd.DataFrame({c: c == column for c in table.columns}, index=table.index)
