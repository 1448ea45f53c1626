"""Writing the report's items. Called from the report rules' scripts (scripts/report/): rendering
one table or linking one figure takes milliseconds, so the start-up of each job is its cost. A
``run:`` block looks cheaper but is not: Snakemake's local executor runs each ``run:`` job in a
new ``python -m snakemake --target-jobs`` process that reads the whole workflow again (the plan-time
checks import torch and transformers: ~10 CPU-s per item, dozens of items per run); a script job
is a plain Python process importing this package (~0.7 CPU-s)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lmanatomy.io import atomic_path, atomic_write_text
from lmanatomy.report.html import markdown_page


def render_table_page(markdown: str | Path, page: str | Path, title: str) -> None:
    """The study's Markdown table (title, table, notes) as a standalone HTML page."""
    atomic_write_text(page, markdown_page(Path(markdown).read_text(encoding="utf-8"), title))


def link_file(source: str | Path, target: str | Path) -> None:
    """A hard link to ``source`` at ``target`` (a copy across devices), replaced atomically."""
    source, target = Path(source), Path(target)
    with atomic_path(target) as tmp:
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
