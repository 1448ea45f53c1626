"""Writing the papers' tables: a CSV for machines and a Markdown rendering for people.

Both are written deterministically (fixed float formatting, no timestamps) so that two runs of
the same config give byte-identical tables. Files are written to a temporary name and renamed,
so an interrupted job never leaves a table that looks complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmanatomy.io import (  # atomic_write_text: also for this module's callers
    atomic_path,
    atomic_write_text,
)


def block_of(frame: pd.DataFrame, index: int, count: int) -> pd.DataFrame:
    """Block ``index`` of ``count`` contiguous, near-equal blocks of the
    rows (the first ones one row longer), keeping the frame's index: the
    work of one job when a rule's work is split over several jobs."""
    if not 0 <= index < count:
        raise ValueError(f"block {index} of {count} does not exist (blocks are 0..{count - 1})")
    size, extra = divmod(len(frame), count)
    start = index * size + min(index, extra)
    return frame.iloc[start : start + size + (index < extra)]


def format_cell(value: object, digits: int = 4) -> str:
    """Render one cell: integers with thousands
    separators, floats with fixed digits, NaN as 'NaN'."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "NaN"
        return f"{float(value):.{digits}f}"
    return str(value)


def to_markdown(
    frame: pd.DataFrame,
    digits: int = 4,
    bold: pd.DataFrame | None = None,
    index: bool = False,
) -> str:
    """A GitHub-flavoured Markdown table; cells where ``bold`` is True are wrapped in ``**``."""
    table = frame.reset_index() if index else frame
    header = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    # itertuples keeps each column's dtype (iterrows
    # upcasts an all-numeric row to float: 1 → 1.0000).
    for row_pos, row in enumerate(table.itertuples(index=False, name=None)):
        cells = []
        for col_pos, value in enumerate(row):
            text = format_cell(value, digits).replace("|", "\\|")
            column = table.columns[col_pos]
            if bold is not None and column in bold.columns and bool(bold.iloc[row_pos][column]):
                text = f"**{text}**"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(
    frame: pd.DataFrame,
    csv_path: str | Path | None,
    md_path: str | Path | None = None,
    title: str | None = None,
    notes: Iterable[str] = (),
    digits: int = 4,
    bold: pd.DataFrame | None = None,
    index: bool = False,
) -> None:
    """Write ``frame`` as CSV (full precision) and, optionally, as Markdown with a title and notes.

    ``csv_path=None`` writes only the Markdown (for a
    display form of a table whose CSV holds more columns).
    """
    if csv_path is not None:
        atomic_write_text(
            csv_path, frame.to_csv(index=index, float_format="%.10g", lineterminator="\n")
        )
    if md_path is None:
        return
    parts: list[str] = []
    if title:
        parts.append(f"## {title}\n")
    parts.append(to_markdown(frame, digits=digits, bold=bold, index=index))
    note_lines: Sequence[str] = list(notes)
    if note_lines:
        parts.append("\n" + "\n".join(f"- {note}" for note in note_lines) + "\n")
    atomic_write_text(md_path, "\n".join(parts))


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write an intermediate frame as Parquet (no index), atomically: tmp file, then rename."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
