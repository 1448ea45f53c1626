"""Figures 3–5 of Ariyama et al. 2025: words × words matrices with the groups marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lmanatomy.knowledge.groups import ordered_words
from lmanatomy.knowledge.stats import CATEGORIES
from lmanatomy.plots import figure

DIAGONAL = 1e-2  # the code replaces the zero diagonal by this value so that a log scale can show it


def _mark_groups(ax, groups: Mapping[str, Sequence[str]]) -> None:
    """Lines between groups and the group names along the top."""
    edge = 0
    for name, members in groups.items():
        ax.text(edge + len(members) / 2 - 0.5, -1.0, name, ha="center", va="bottom", fontsize=8)
        edge += len(members)
        if edge < sum(len(m) for m in groups.values()):
            ax.axhline(edge - 0.5, color="black", linewidth=1.2)
            ax.axvline(edge - 0.5, color="black", linewidth=1.2)


def _word_axes(ax, words: Sequence[str]) -> None:
    ax.set_xticks(range(len(words)), words, rotation=90, fontsize=7)
    ax.set_yticks(range(len(words)), words, fontsize=7)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def distance_figure(
    distance: pd.DataFrame, groups: Mapping[str, Sequence[str]], title: str, colorbar: str
):
    """Fig 3 in two panels: the paper's log colour
    scale, and the ranks of the off-diagonal distances.

    Left, as the paper draws it: the zero diagonal shown as 10^-2 on a log scale. Because that
    artificial value sets the bottom of the scale, the real distances, which often span less than a
    decade, get nearly one colour. Right: each off-diagonal distance coloured by its rank among all
    word pairs (0 = the closest pair, 1 = the farthest), diagonal blank; equal colour steps are
    equal steps in order, so group blocks show whatever the spread of the values.
    """
    from matplotlib.colors import LogNorm

    words = ordered_words(groups)
    values = distance.loc[words, words].to_numpy(dtype=float).copy()
    ranks = off_diagonal_ranks(values)
    values[values <= 0] = DIAGONAL
    fig, (left, right) = figure(ncols=2, width=18.0, height=8.4)
    image = left.imshow(
        values,
        cmap="YlGnBu",
        norm=LogNorm(vmin=min(DIAGONAL, values.min()), vmax=max(values.max(), DIAGONAL * 10)),
    )
    fig.colorbar(image, ax=left, fraction=0.046, pad=0.02, label=colorbar)
    left.set_title("paper style: log scale", pad=18)
    image = right.imshow(ranks, cmap="YlGnBu", vmin=0.0, vmax=1.0)
    fig.colorbar(
        image,
        ax=right,
        fraction=0.046,
        pad=0.02,
        label="rank of the distance among all word pairs (0 closest, 1 farthest)",
    )
    right.set_title("rank scale over the off-diagonal distances", pad=18)
    for ax in (left, right):
        _word_axes(ax, words)
        _mark_groups(ax, groups)
    fig.suptitle(title)
    return fig


def off_diagonal_ranks(values: np.ndarray) -> np.ndarray:
    """Each off-diagonal cell's rank among the word pairs, scaled
    to 0..1 (ties share their mean rank); diagonal NaN."""
    from scipy.stats import rankdata

    n = len(values)
    upper = np.triu_indices(n, k=1)
    ranks = np.full((n, n), np.nan)
    pair_ranks = (rankdata(values[upper]) - 1) / max(1, len(upper[0]) - 1)
    ranks[upper] = pair_ranks
    ranks[(upper[1], upper[0])] = pair_ranks
    return ranks


def comparison_figure(grid: pd.DataFrame, groups: Mapping[str, Sequence[str]], title: str):
    """Fig 4: per row word, which other-group words are farther than its own group's mean."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    words = ordered_words(groups)
    colours = ["white", "#c6dbef", "#fdd0a2", "#08306b"]
    fig, ax = figure(width=10.5, height=8.2)
    ax.imshow(grid.loc[words, words].to_numpy(), cmap=ListedColormap(colours), vmin=-0.5, vmax=3.5)
    _word_axes(ax, words)
    _mark_groups(ax, groups)
    ax.set_ylabel("row word (threshold: its mean EMD to its own group)")
    handles = [
        Patch(facecolor=c, edgecolor="0.6", label=label)
        for c, label in zip(colours, CATEGORIES, strict=True)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title, pad=18)
    return fig


def intersection_figure(
    counts: pd.DataFrame, groups: Mapping[str, Sequence[str]], title: str, k: int
):
    """Fig 5: how many knowledge neurons two words share (diagonal: k)."""
    words = ordered_words(groups)
    fig, ax = figure(width=9.0, height=8.2)
    image = ax.imshow(counts.loc[words, words].to_numpy(), cmap="YlOrBr", vmin=0, vmax=k)
    _word_axes(ax, words)
    _mark_groups(ax, groups)
    fig.colorbar(
        image,
        ax=ax,
        fraction=0.046,
        pad=0.02,
        label=f"shared knowledge neurons |S_T1 ∩ S_T2| (of top {k})",
    )
    ax.set_title(title, pad=18)
    return fig
