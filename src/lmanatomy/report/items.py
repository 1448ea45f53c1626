"""Which outputs of a run go into the report, under which paper, with which caption.

Every study registers its targets (``TARGETS[study]`` in its rule file). The report takes them as
they are: each Markdown table becomes an HTML page (subcategory *table*) and each PNG figure is
linked (subcategory *figure*), and every other CSV target — one that is neither a table's CSV
nor a figure's data — is linked as *data*; all filed under the study's paper. A caption is the file
``workflow/report/<study>/<stem>.rst``: its first line is the item's title, the rest says what it
shows and how it compares with the paper. A target without a caption is an error at parse time,
so no result reaches the report unexplained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lmanatomy.errors import LmAnatomyError


def papers() -> dict[str, str]:
    """The paper each discovered study reproduces (its
    descriptor's ``paper``): the report's categories."""
    from lmanatomy.study import discover

    return {study.name: study.paper for study in discover()}


#: The category of the run's own documents (summary, provenance).
RUN_CATEGORY = "Run: summary and provenance"
KINDS = {".md": "table", ".png": "figure", ".csv": "data"}
#: The file the report shows for each kind (tables are rendered from Markdown to HTML).
SHOWN = {"table": "html", "figure": "png", "data": "csv"}
#: The study's own file of each kind (the suffix its target has).
SOURCE = {kind: suffix.lstrip(".") for suffix, kind in KINDS.items()}


@dataclass(frozen=True)
class ReportItem:
    """One table or figure of a run, keyed by its path under results/<run>/ without suffix."""

    key: str
    kind: str
    study: str
    model: str
    title: str
    caption: str
    csv: bool = False


def read_caption(path: Path) -> tuple[str, str]:
    """(title, reStructuredText body) of a caption file; the title is its first line."""
    if not path.is_file():
        raise LmAnatomyError(
            f"no report caption {path}: every table and figure of a study needs one"
        )
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    if not lines or not lines[0].strip():
        raise LmAnatomyError(
            f"report caption {path} is empty: its first line must be the item's title"
        )
    return lines[0].strip(), "\n".join(lines[1:]).strip()


def _model_of(parts: tuple[str, ...], models: set[str]) -> str:
    """The registry name in a target's path
    (``language/<model>/fig2``), or '' for one-model studies."""
    return next((part for part in parts[1:-1] if part in models), "")


class ReportView:
    """The report's view of a run's targets: items, their categories, labels and captions.

    Methods taking ``wildcards`` are Snakemake input/report functions for the generic report
    rules (wildcard ``report_table`` or ``report_figure`` = the item key).
    """

    def __init__(
        self,
        targets: Mapping[str, Iterable[str]],
        studies: Iterable[str],
        results: str,
        captions_dir: str | Path,
        models: Iterable[str] = (),
        captions: Mapping[str, str | Path] | None = None,
    ):
        """``captions`` maps a results folder to its caption folder where that is not
        ``captions_dir/<folder>`` (a study outside the
        repository: its descriptor's ``captions``)."""
        self.results = results.rstrip("/")
        self.captions_dir = Path(captions_dir)
        self.captions = {folder: Path(path) for folder, path in (captions or {}).items()}
        self.papers = papers()
        known = set(models)
        self.items: dict[str, ReportItem] = {}
        for study in studies:
            paths = [PurePosixPath(t) for t in targets.get(study, [])]
            siblings = set(paths)
            stems = {p.with_suffix("") for p in paths if p.suffix in (".md", ".png")}
            for path in paths:
                if path.suffix == ".csv" and path.with_suffix("") in stems:
                    continue  # a table's CSV or a figure's data: named in that item's caption
                self._add(study, path, known, siblings)

    def _add(
        self, study: str, path: PurePosixPath, models: set[str], siblings: set[PurePosixPath]
    ) -> None:
        kind = KINDS.get(path.suffix)
        if kind is None:
            return
        relative = path.relative_to(self.results)
        key = str(relative.with_suffix(""))
        if f"{kind}:{key}" in self.items:
            return
        csv = path.with_suffix(".csv") in siblings
        title, caption = read_caption(
            self.captions.get(relative.parts[0], self.captions_dir / relative.parts[0])
            / f"{relative.stem}.rst"
        )
        item = ReportItem(
            key=key,
            kind=kind,
            study=study,
            model=_model_of(relative.parts, models),
            title=title,
            caption=caption,
            csv=csv,
        )
        self.items[f"{kind}:{key}"] = item

    def keys(self, kind: str) -> list[str]:
        return [item.key for item in self.items.values() if item.kind == kind]

    def outputs(self, report_dir: str) -> list[str]:
        """The report rules' outputs: results/<run>/report/<key>.html | .png."""
        return [f"{report_dir}/{item.key}.{SHOWN[item.kind]}" for item in self.items.values()]

    def item(self, wildcards: Any) -> ReportItem:
        for kind in SHOWN:
            if hasattr(wildcards, f"report_{kind}"):
                return self.items[f"{kind}:{getattr(wildcards, f'report_{kind}')}"]
        raise KeyError(f"no report item in wildcards {dict(wildcards)}")

    def subcategory(self, wildcards: Any) -> str:
        return self.item(wildcards).kind

    def category(self, wildcards: Any) -> str:
        return self.papers[self.item(wildcards).study]

    def labels(self, wildcards: Any) -> dict[str, str]:
        item = self.item(wildcards)
        return {"item": item.title, "model": item.model or "(see caption)", "file": item.key}

    def caption(self, wildcards: Any) -> str:
        """The reStructuredText the report shows under the item: title, caption, its files."""
        item = self.item(wildcards)
        files = f"``{self.results}/{item.key}.{SOURCE[item.kind]}``"
        if item.kind != "data" and item.csv:
            files += f"; its numbers: ``{self.results}/{item.key}.csv``"
        return f"**{item.title}**\n\n{item.caption}\n\nFile: {files}"

    def title(self, wildcards: Any) -> str:
        return self.item(wildcards).title
