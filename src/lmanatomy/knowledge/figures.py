"""Figures 3–5 of Ariyama et al. 2025: words × words matrices with the groups marked."""

from __future__ import annotations

from typing import Mapping, Sequence

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


def distance_figure(distance: pd.DataFrame, groups: Mapping[str, Sequence[str]], title: str, colorbar: str):
    """Fig 3: the EMD matrix on a log colour scale, the zero diagonal shown as 10^-2."""
    from matplotlib.colors import LogNorm

    words = ordered_words(groups)
    values = distance.loc[words, words].to_numpy(dtype=float).copy()
    values[values <= 0] = DIAGONAL
    fig, ax = figure(width=9.0, height=8.2)
    image = ax.imshow(values, cmap="YlGnBu", norm=LogNorm(vmin=min(DIAGONAL, values.min()), vmax=max(values.max(), DIAGONAL * 10)))
    _word_axes(ax, words)
    _mark_groups(ax, groups)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label=colorbar)
    ax.set_title(title, pad=18)
    return fig


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
    handles = [Patch(facecolor=c, edgecolor="0.6", label=label) for c, label in zip(colours, CATEGORIES)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title, pad=18)
    return fig


def intersection_figure(counts: pd.DataFrame, groups: Mapping[str, Sequence[str]], title: str, k: int):
    """Fig 5: how many knowledge neurons two words share (diagonal: k)."""
    words = ordered_words(groups)
    fig, ax = figure(width=9.0, height=8.2)
    image = ax.imshow(counts.loc[words, words].to_numpy(), cmap="YlOrBr", vmin=0, vmax=k)
    _word_axes(ax, words)
    _mark_groups(ax, groups)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label=f"shared knowledge neurons |S_T1 ∩ S_T2| (of top {k})")
    ax.set_title(title, pad=18)
    return fig
