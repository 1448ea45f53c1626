"""Choosing language-specific neurons from their AP, and the tables and counts built on them.

Top-k: the k neurons with the highest AP for a language (they fire for it); bottom-k: the k with
the lowest AP (they fire for every language but it). Ties in AP are broken by neuron index, so
a selection is a pure function of the AP vector. Table 1 counts how many of one language's 2k
neurons are also another language's; Fig 2 counts per layer where the top, middle and bottom
neurons of each language lie.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError

KINDS = ("top", "bottom")


def _check_k(k: int, n: int, what: str = "k") -> int:
    if int(k) != k or k < 1:
        raise DataError(f"{what} must be a positive integer, got {k}")
    if 2 * k > n:
        raise DataError(
            f"{what}={k}: top-{k} and bottom-{k} need {2 * k} neurons but there are only {n}"
        )
    return int(k)


def ranking(ap: np.ndarray) -> np.ndarray:
    """Neuron indices from the highest AP to the lowest; equal APs in index order."""
    ap = np.asarray(ap, dtype=np.float64)
    if np.isnan(ap).any():
        raise DataError("AP vector contains NaN")
    return np.lexsort((np.arange(ap.size), -ap))


def top_k(ap: np.ndarray, k: int) -> np.ndarray:
    """The k neurons of highest AP (best first)."""
    k = _check_k(k, np.size(ap))
    return ranking(ap)[:k]


def bottom_k(ap: np.ndarray, k: int) -> np.ndarray:
    """The k neurons of lowest AP (lowest first; equal APs in index order)."""
    k = _check_k(k, np.size(ap))
    ap = np.asarray(ap, dtype=np.float64)
    return np.lexsort((np.arange(ap.size), ap))[:k]


def middle_k(ap: np.ndarray, k: int) -> np.ndarray:
    """The k neurons around the median AP: positions n//2 − k//2 … of the ascending ranking."""
    ap = np.asarray(ap, dtype=np.float64)
    if not 1 <= k <= ap.size:
        raise DataError(f"middle-k needs 1 <= k <= {ap.size}, got {k}")
    ascending = np.lexsort((np.arange(ap.size), ap))
    start = ap.size // 2 - k // 2
    return ascending[start : start + k]


def select(ranked: pd.DataFrame, languages: Sequence[str], k: int) -> pd.DataFrame:
    """Top-k and bottom-k of every language, with where each neuron lives and its fixed value.

    ``ranked`` is :func:`lmanatomy.language.ranking.rank_neurons`' frame. Rows: language, kind
    (top/bottom), rank (0 = most extreme), index, layer, module, channel, ap, value (the median
    of the neuron over the language's positive texts: what the intervention fixes it to).
    """
    k = _check_k(k, len(ranked))
    parts = []
    for lang in languages:
        ap = ranked[f"ap_{lang}"].to_numpy()
        for kind, chosen in (("top", top_k(ap, k)), ("bottom", bottom_k(ap, k))):
            rows = ranked.iloc[chosen]
            parts.append(
                pd.DataFrame(
                    {
                        "language": lang,
                        "kind": kind,
                        "rank": np.arange(k, dtype=np.int64),
                        "index": rows["index"].to_numpy(),
                        "layer": rows["layer"].to_numpy(),
                        "module": rows["module"].astype(str).to_numpy(),
                        "channel": rows["channel"].to_numpy(),
                        "ap": rows[f"ap_{lang}"].to_numpy(),
                        "value": rows[f"median_{lang}"].to_numpy(),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def chosen(selection: pd.DataFrame, language: str, kinds: Sequence[str], k: int) -> pd.DataFrame:
    """The first k rows of each requested kind of one language (a selection made with k' >= k)."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise DataError(f"unknown neuron kinds {unknown} (known: {list(KINDS)})")
    available = selection[(selection["language"] == language) & (selection["kind"] == "top")]
    if len(available) < k:
        raise DataError(
            f"selection holds {len(available)} top neurons of language '{language}', fewer than "
            f"k={k}"
        )
    return selection[
        (selection["language"] == language)
        & selection["kind"].isin(kinds)
        & (selection["rank"] < k)
    ]


def overlap_table(selection: pd.DataFrame, languages: Sequence[str], k: int) -> pd.DataFrame:
    """Table 1: |S_a ∩ S_b| where S_l is language l's top-k ∪ bottom-k (diagonal 2k)."""
    sets = {lang: set(chosen(selection, lang, KINDS, k)["index"].tolist()) for lang in languages}
    counts = np.array(
        [[len(sets[a] & sets[b]) for b in languages] for a in languages], dtype=np.int64
    )
    frame = pd.DataFrame(counts, columns=list(languages))
    frame.insert(0, "language", list(languages))
    return frame


def overlap_split(selection: pd.DataFrame, languages: Sequence[str], k: int) -> pd.DataFrame:
    """Table 1 split by kind: per pair (a, b), top∩top,
    bottom∩bottom and crossed (top of one ∩ bottom of the other).

    A language's top-k and bottom-k are disjoint, so the three parts add up to Table 1's entry
    (``total``). A large ``crossed`` share means the two languages' sets overlap because one's
    most specific neurons are the other's least specific, not because they share neurons.
    """
    tops, bottoms = (
        [set(chosen(selection, lang, (kind,), k)["index"].tolist()) for lang in languages]
        for kind in KINDS
    )
    counts = split_counts(tops, bottoms)
    return pd.DataFrame(
        [
            {
                "language_a": a,
                "language_b": b,
                **{name: int(counts[name][i, j]) for name in OVERLAP_COUNTS},
            }
            for i, a in enumerate(languages)
            for j, b in enumerate(languages)
        ]
    )


OVERLAP_COUNTS = ("total", "top_top", "bottom_bottom", "crossed")


def split_counts(tops: Sequence[set[int]], bottoms: Sequence[set[int]]) -> dict[str, np.ndarray]:
    """Per pair (a, b) of languages: top∩top, bottom∩bottom,
    crossed and their total, as (L, L) arrays.

    ``tops[i]`` / ``bottoms[i]`` are language i's top-k and bottom-k neuron indices (disjoint),
    so the three parts add up to the pair's Table 1 entry.
    """
    n = len(tops)
    counts = {name: np.zeros((n, n), dtype=np.int64) for name in OVERLAP_COUNTS}
    for a in range(n):
        for b in range(n):
            counts["top_top"][a, b] = len(tops[a] & tops[b])
            counts["bottom_bottom"][a, b] = len(bottoms[a] & bottoms[b])
            counts["crossed"][a, b] = len(tops[a] & bottoms[b]) + len(bottoms[a] & tops[b])
    counts["total"] = counts["top_top"] + counts["bottom_bottom"] + counts["crossed"]
    return counts


def layer_histograms(
    ranked: pd.DataFrame, languages: Sequence[str], n: int, num_layers: int
) -> pd.DataFrame:
    """Fig 2's counts: per language and layer, how many of
    the top-n, middle-n, bottom-n neurons lie there."""
    if 3 * n > len(ranked):
        raise DataError(
            f"layer histograms of top/middle/bottom-{n} need {3 * n} neurons but there are "
            f"{len(ranked)}"
        )
    layers = ranked["layer"].to_numpy()
    rows = []
    for lang in languages:
        ap = ranked[f"ap_{lang}"].to_numpy()
        groups = {"top": top_k(ap, n), "middle": middle_k(ap, n), "bottom": bottom_k(ap, n)}
        for group, indices in groups.items():
            counts = np.bincount(layers[indices], minlength=num_layers)
            rows.extend(
                {"language": lang, "group": group, "layer": layer, "count": int(c)}
                for layer, c in enumerate(counts)
            )
    return pd.DataFrame(rows)
