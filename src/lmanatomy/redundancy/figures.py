"""Figures of the redundancy study (Baba & Kano 2025, Figs 1–4), readable for 31 pairs × 4096 dims.

* Figs 1–3: one row of cells per statistic (mean / max / std of test R² over target dims), one
  cell per layer pair, each cell labelled with its value.
* The layer × dim R² heatmap: pairs as rows and all target dims as columns, twice — in dim order
  (so a particular dim can be found) and with each row sorted (so the distribution per pair can be
  compared). Thousands of columns are area-averaged by the renderer, never sampled.
* Fig 4, redundancy paths: the top (pair, dim) by R² as a layered graph; x is the layer, y the
  dim; each target dim of layer n+1 is joined to its largest-|weight| input dims of layer n.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize

from lmanatomy.plots import figure

STAT_LABELS = {"mean_r2": "mean", "max_r2": "max", "std_r2": "std"}
# Companions of Figs 1–3: the same statistics of (SVR R² − identity-baseline R²) per target dim.
GAIN_LABELS = {"mean_gain": "mean", "max_gain": "max", "std_gain": "std"}
MISSING_COLOR = "0.8"
# Inches kept free under the axes for the note that says how a run deviates from the paper.
NOTE_SPACE = 0.35


def _layout(nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 4.2, **kwargs):
    """A constrained-layout figure that keeps its bottom NOTE_SPACE inches free for the note."""
    fig, axes = figure(nrows, ncols, width=width, height=height, layout="constrained", **kwargs)
    bottom = NOTE_SPACE / height
    fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, 1.0 - bottom))
    return fig, axes


def _cmap(name: str):
    return colormaps[name].with_extremes(bad=MISSING_COLOR)


def pair_stat_heatmap(summary: pd.DataFrame, stat: str, title: str):
    """One row of cells, one per layer pair, coloured and labelled by ``stat`` of test R² (Figs 1–3)
    or of the gain over the identity baseline (their companions, a diverging scale centred on 0).
    """
    if stat not in STAT_LABELS and stat not in GAIN_LABELS:
        raise ValueError(
            f"unknown statistic '{stat}' (known: {', '.join([*STAT_LABELS, *GAIN_LABELS])})"
        )
    values = summary[stat].to_numpy(dtype=float)
    labels = summary["pair"].tolist()
    n = len(values)
    finite = values[np.isfinite(values)]
    gain = stat in GAIN_LABELS
    quantity = f"{GAIN_LABELS[stat]} R² gain" if gain else f"{STAT_LABELS[stat]} R²"
    if (
        gain and stat != "std_gain"
    ):  # signed: the SVR can also do worse than the baseline on test data
        vmax = max(float(np.abs(finite).max()) if finite.size else 1.0, 1e-6)
        vmin, cmap = -vmax, "RdBu_r"
    elif stat in ("std_r2", "std_gain"):
        vmin, vmax, cmap = 0.0, max(float(finite.max()) if finite.size else 1.0, 1e-6), "magma"
    elif (
        stat == "max_r2"
    ):  # maxima crowd near 1: colour their own range, the labels carry the values
        low = float(finite.min()) if finite.size else 0.0
        vmin, vmax, cmap = min(low, 1.0 - 1e-3), 1.0, "viridis"
    else:
        vmin, vmax, cmap = min(0.0, float(finite.min()) if finite.size else 0.0), 1.0, "viridis"
    fig, ax = _layout(width=max(6.4, 0.42 * n + 1.8), height=2.8)
    image = ax.imshow(
        np.ma.masked_invalid(values[None, :]), aspect="auto", cmap=_cmap(cmap), vmin=vmin, vmax=vmax
    )
    norm = Normalize(vmin, vmax)
    digits = 2 if stat in ("mean_r2", "mean_gain") else 3
    for i, value in enumerate(values):
        text = "NaN" if not np.isfinite(value) else f"{value:.{digits}f}"
        shade = norm(value) if np.isfinite(value) else 1.0
        dark = abs(shade - 0.5) > 0.3 if cmap == "RdBu_r" else shade < 0.55
        ax.text(
            i,
            0,
            text,
            ha="center",
            va="center",
            rotation=90 if n > 12 else 0,
            fontsize=7,
            color="white" if dark else "black",
        )
    ax.set_xticks(range(n), labels, rotation=90 if n > 12 else 0, fontsize=7)
    ax.set_yticks([0], [quantity])
    caption = interval_caption(summary, stat)
    ax.set_xlabel("layer pair n → n+1 (hidden-state indices)" + (f"\n{caption}" if caption else ""))
    ax.set_title(title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label=quantity)
    return fig


def interval_caption(summary: pd.DataFrame, stat: str) -> str:
    """For a mean whose per-pair 95% bootstrap interval the
    summary holds: n and the range of its half-widths."""
    low, high = f"{stat}_ci95_low", f"{stat}_ci95_high"
    if (
        low not in summary
        or high not in summary
        or not np.isfinite(summary[[low, high]].to_numpy(dtype=float)).any()
    ):
        return ""
    half = (summary[high] - summary[low]).to_numpy(dtype=float) / 2
    n = summary["n_test"].dropna().unique() if "n_test" in summary else []
    sentences = f"n = {int(n[0])} test sentences, " if len(n) == 1 else ""
    return (
        f"95% bootstrap intervals over the test sentences ({sentences}pair_summary.csv): "
        f"± {np.nanmin(half):.3f} to ± {np.nanmax(half):.3f} (half-widths)"
    )


def r2_matrix(rows: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Test R² as a (pairs × dims) array, rows in pair order, and the pair names."""
    table = rows.pivot(index="source_layer", columns="dim", values="r2").sort_index()
    names = (
        rows.drop_duplicates("source_layer")
        .set_index("source_layer")
        .loc[table.index, "pair"]
        .tolist()
    )
    return table.to_numpy(dtype=float), names


def layer_dim_heatmap(rows: pd.DataFrame, title: str, floor: float = 0.0):
    """Test R² per (pair, target dim): in dim order (top) and sorted within each pair (bottom).

    Colours run from ``floor`` to 1; lower R² (negative ones included) take the lowest colour, as
    the colour bar's arrow says; NaN (constant targets) are grey.
    """
    matrix, names = r2_matrix(rows)
    pairs, dims = matrix.shape
    panel = 0.16 * pairs + 0.9
    fig, axes = _layout(2, 1, width=12.0, height=2 * panel + 1.2, sharey=True)
    sorted_rows = -np.sort(-np.where(np.isnan(matrix), -np.inf, matrix), axis=1)
    sorted_rows[np.isinf(sorted_rows)] = np.nan
    cmap = _cmap("viridis")
    for ax, data, xlabel in (
        (axes[0], matrix, "target dim of layer n+1"),
        (axes[1], sorted_rows, "target dims, sorted by R² within each pair (highest left)"),
    ):
        image = ax.imshow(
            np.ma.masked_invalid(data),
            aspect="auto",
            cmap=cmap,
            vmin=floor,
            vmax=1.0,
            interpolation="antialiased",
            interpolation_stage="data",
            extent=(-0.5, dims - 0.5, pairs - 0.5, -0.5),
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("layer pair")
        step = max(1, int(np.ceil(pairs / 16)))
        ax.set_yticks(range(0, pairs, step), names[::step], fontsize=7)
    axes[0].set_title(title)
    fig.colorbar(image, ax=axes, fraction=0.025, pad=0.01, extend="min", label="test R²")
    return fig


def paths_figure(
    top: pd.DataFrame,
    frequent: pd.DataFrame,
    hidden_size: int,
    sources: Sequence[int],
    title: str,
    inputs_per_target: int | None = None,
    label_dims: int = 6,
):
    """Fig 4: the top (pair, dim) as a layered graph of input dims → predicted dims.

    Each of the top (pair n→n+1, target dim d) rows is drawn as edges from (n, j) to (n+1, d) for
    its largest-|weight| input dims j, coloured by the target's R² and with opacity by |weight|
    relative to that target's largest. The most frequent contributing dims get labelled guide lines.
    """
    fig, ax = _layout(width=max(8.0, 0.34 * (len(sources) + 1) + 2.5), height=7.4)
    norm = Normalize(float(top["r2"].min()) if len(top) else 0.0, 1.0)
    cmap = colormaps["viridis"]
    segments, colors, targets_x, targets_y, inputs_x, inputs_y = [], [], [], [], [], []
    for row in top.itertuples(index=False):
        inputs = [int(t) for t in str(row.inputs).split()]
        weights = np.abs(np.array([float(t) for t in str(row.weights).split()]))
        if inputs_per_target is not None:
            inputs, weights = inputs[:inputs_per_target], weights[:inputs_per_target]
        scale = weights.max() if weights.size and weights.max() > 0 else 1.0
        n, d = int(row.source_layer), int(row.target_dim)
        for j, w in zip(inputs, weights, strict=True):
            segments.append([(n, j), (n + 1, d)])
            rgba = list(cmap(norm(row.r2)))
            # Opacity falls off with the square of the relative weight: weak contributors fade, so
            # the dense late-layer region still shows the dominant paths.
            rgba[3] = 0.06 + 0.7 * float(w / scale) ** 2
            colors.append(rgba)
            inputs_x.append(n)
            inputs_y.append(j)
        targets_x.append(n + 1)
        targets_y.append(d)
    ax.add_collection(
        LineCollection(
            segments,
            colors=colors,
            linewidths=0.6,
            label="edge: input dim → predicted dim (opacity ∝ |weight|²)",
        )
    )
    ax.scatter(
        inputs_x,
        inputs_y,
        s=6,
        facecolors="none",
        edgecolors="0.35",
        linewidths=0.4,
        label="contributing input dim (layer n)",
    )
    ax.scatter(
        targets_x,
        targets_y,
        s=9,
        c=top["r2"].to_numpy() if len(top) else [],
        cmap=cmap,
        norm=norm,
        label="predicted dim (layer n+1)",
        zorder=3,
    )
    for dim, count in zip(
        frequent["dim"].head(label_dims), frequent["in_top"].head(label_dims), strict=True
    ):
        if count == 0:
            continue
        ax.axhline(dim, color="tab:red", linewidth=0.5, linestyle=":", zorder=0)
        ax.annotate(
            f"dim {dim} ({count}×)",
            xy=(1.0, dim),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="tab:red",
        )
    first, last = (min(sources), max(sources) + 1) if len(sources) else (0, 1)
    ax.set_xlim(first - 0.5, last + 0.5)
    ax.set_ylim(-0.5, hidden_size - 0.5)
    step = max(1, int(np.ceil((last - first + 1) / 32)))
    ax.set_xticks(range(first, last + 1, step))
    ax.set_xlabel("hidden-state layer (edges: layer n → n+1)")
    ax.set_ylabel("hidden dimension")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, markerscale=2, framealpha=0.9)
    fig.colorbar(
        ax.collections[-1],
        ax=ax,
        fraction=0.03,
        pad=0.09,
        label="test R² of the predicted dim (edge and dot colour)",
    )
    return fig
