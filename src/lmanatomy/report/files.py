"""Writing the report's items. Called from ``run:`` blocks of the report rules: rendering one
table or linking one figure takes milliseconds, so a Python process per item (seconds of start-up
each, dozens of items per run) would cost more than the work."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lmanatomy.report.html import markdown_page
from lmanatomy.tables import atomic_write_text


def _log(log: str | Path, message: str) -> None:
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    Path(log).write_text(message + "\n", encoding="utf-8")


def render_table_page(markdown: str | Path, page: str | Path, title: str, log: str | Path) -> None:
    """The study's Markdown table (title, table, notes) as a standalone HTML page."""
    atomic_write_text(page, markdown_page(Path(markdown).read_text(encoding="utf-8"), title))
    _log(log, f"rendered {markdown} -> {page}")


def link_file(source: str | Path, target: str | Path, log: str | Path) -> None:
    """A hard link to ``source`` at ``target`` (a copy across devices), replaced atomically."""
    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    _log(log, f"linked {source} -> {target}")
