"""The atlas's outputs: the profiles side by side (figure, CSV, Markdown) and their correlations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmanatomy.atlas.compare import paragraph
from lmanatomy.atlas.profiles import HEADLINES
from lmanatomy.plots import figure, save
from lmanatomy.tables import atomic_write_text, to_markdown, write_table


def normalised(values: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Min–max scale ``values`` to [0, 1] and ``others`` (its interval ends) by the same map.

    Profiles of different studies have different units; the figure compares their shapes. A
    constant profile maps to 0.5.
    """
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    span = high - low
    if span <= 0:
        return [np.where(np.isfinite(v), 0.5, np.nan) for v in (values, *others)]
    return [(v - low) / span for v in (values, *others)]


def atlas_figure(
    profiles: pd.DataFrame, layers: int, title: str, path: str | Path, note: str | None
) -> None:
    """One panel per headline profile on a shared layer axis,
    each min–max normalised, with its interval band."""
    names = [name for name in HEADLINES if name in set(profiles["profile"])]
    fig, axes = figure(
        len(names), 1, width=7.2, height=1.05 * len(names) + 1.2, sharex=True, squeeze=False
    )
    for ax, name in zip(axes[:, 0], names, strict=True):
        part = profiles[profiles["profile"] == name].set_index("layer").reindex(range(layers))
        value, low, high = normalised(
            *(part[c].to_numpy(dtype=float) for c in ("value", "ci_low", "ci_high"))
        )
        x = np.arange(layers)
        ax.plot(x, value, marker="o", markersize=2.5, linewidth=1.2, color="C0")
        if np.isfinite(low).any():
            ax.fill_between(x, low, high, color="C0", alpha=0.2, linewidth=0)
        raw = part["value"].dropna()
        ax.set_ylabel(
            HEADLINES[name].replace(": ", ":\n", 1), rotation=0, ha="right", va="center", fontsize=8
        )
        ax.set_yticks([])
        ax.set_ylim(-0.15, 1.15)
        ax.text(
            1.01,
            0.5,
            f"{raw.min():.3g} … {raw.max():.3g}",
            transform=ax.transAxes,
            fontsize=7,
            va="center",
        )
    axes[-1, 0].set_xlabel("decoder layer (0-based index)")
    axes[-1, 0].set_xlim(-0.5, layers - 0.5)
    axes[0, 0].set_title(title)
    save(fig, path, note)


def atlas_tables(
    profiles: pd.DataFrame,
    wide: pd.DataFrame,
    correlations: pd.DataFrame,
    title: str,
    csv: str | Path,
    md: str | Path,
    correlations_csv: str | Path,
    notes: Sequence[str],
) -> str:
    """Write the long profiles (raw values, every profile) as CSV, and a Markdown page with the
    headline profiles by layer, the correlations and
    the generated paragraph; returns the paragraph."""
    write_table(profiles, csv)
    write_table(correlations, correlations_csv)
    text = paragraph(correlations, HEADLINES)
    shown_corr = correlations.assign(
        profile_a=correlations["profile_a"].map(lambda k: HEADLINES.get(k, k)),
        profile_b=correlations["profile_b"].map(lambda k: HEADLINES.get(k, k)),
    )
    layer_table = wide.rename(columns=HEADLINES).reset_index().rename(columns={"index": "layer"})
    parts = [
        f"## {title}\n",
        text + "\n",
        "### Rank correlations between the profiles (Spearman over shared layers)\n",
        to_markdown(shown_corr, digits=2),
        "\n### Profiles by layer (raw values; intervals in the CSV)\n",
        to_markdown(layer_table, digits=4),
    ]
    if notes:
        parts.append("\n" + "\n".join(f"- {n}" for n in notes) + "\n")
    atomic_write_text(md, "\n".join(parts))
    return text


def missing_notes(reasons: Mapping[str, str]) -> list[str]:
    """One line per study that contributes no profile for this model, and why (``plan.reasons``)."""
    return [f"{study}: not in this atlas ({why})." for study, why in reasons.items() if why]
