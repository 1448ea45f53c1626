"""Figures: one style for every study, saved atomically and without run-dependent metadata.

Matplotlib writes the software version and (for PDF/SVG) a creation date into files; PNGs are
saved here with that metadata removed, so the same data give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from lmanatomy.io import atomic_path  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "image.cmap": "viridis",
}


def figure(nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 4.2, **kwargs: Any):
    """``plt.subplots`` under the project style; returns (figure, axes)."""
    with plt.rc_context(STYLE):
        return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def save(fig, path: str | Path, note: str | None = None) -> None:
    """Save ``fig`` to ``path`` (PNG unless the suffix says otherwise), atomically, then close it.

    ``note`` is printed small under the axes: the place to say how a reproduction deviates from
    the paper (another model, other data), so a figure never travels without its caveat.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if note:
        # Hung below the figure's bottom edge (the tight bounding box takes it in), so a note of
        # any length never covers the axes and no figure has to reserve room for it.
        fig.text(0.01, 0.0, note, fontsize=7, color="0.35", ha="left", va="top", wrap=True)
    fmt = path.suffix.lstrip(".") or "png"
    try:
        with atomic_path(path, keep_suffix=True) as tmp, plt.rc_context(STYLE):
            fig.savefig(
                tmp,
                format=fmt,
                bbox_inches="tight",
                metadata={"Software": None} if fmt == "png" else None,
            )
    finally:
        plt.close(fig)
