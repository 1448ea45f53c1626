"""Which outputs of a run go into the report, under which paper, with which caption.

Every study registers its targets (``TARGETS[study]`` in its rule file). The report takes them as
they are: each Markdown table becomes an HTML page (subcategory *table*) and each PNG figure is
linked (subcategory *figure*), both filed under the study's paper. A caption is the file
``workflow/report/<study>/<stem>.rst``: its first line is the item's title, the rest says what it
shows and how it compares with the paper. A target without a caption is an error at parse time,
so no result reaches the report unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping

from lmanatomy.errors import LmAnatomyError

#: The paper each study reproduces: the report's categories.
PAPERS: dict[str, str] = {
    "census": "Kojima et al. 2024: language-specific neurons",
    "language": "Kojima et al. 2024: language-specific neurons",
    "lesion": "Harada et al. 2024: synaptic-pruning lesions",
    "knowledge": "Ariyama et al. 2025: knowledge-neuron formation",
    "redundancy": "Baba & Kano 2025: redundancy between layers",
    "paramact": "Wang et al. 2024: activation patterns of parameters",
}
#: The category of the run's own documents (summary, provenance).
RUN_CATEGORY = "Run: summary and provenance"
KINDS = {".md": "table", ".png": "figure"}


@dataclass(frozen=True)
class ReportItem:
    """One table or figure of a run, keyed by its path under results/<run>/ without suffix."""

    key: str
    kind: str
    study: str
    model: str
    title: str
    caption: str


def read_caption(path: Path) -> tuple[str, str]:
    """(title, reStructuredText body) of a caption file; the title is its first line."""
    if not path.is_file():
        raise LmAnatomyError(f"no report caption {path}: every table and figure of a study needs one")
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    if not lines or not lines[0].strip():
        raise LmAnatomyError(f"report caption {path} is empty: its first line must be the item's title")
    return lines[0].strip(), "\n".join(lines[1:]).strip()


def _model_of(parts: tuple[str, ...], models: Iterable[str]) -> str:
    """The registry name in a target's path (``language/<model>/fig2``), or '' for one-model studies."""
    known = set(models)
    return next((part for part in parts[1:-1] if part in known), "")


class ReportView:
    """The report's view of a run's targets: items, their categories, labels and captions.

    Methods taking ``wildcards`` are Snakemake input/report functions for the generic report
    rules (wildcard ``report_table`` or ``report_figure`` = the item key).
    """

    def __init__(self, targets: Mapping[str, Iterable[str]], studies: Iterable[str], results: str,
                 captions_dir: str | Path, models: Iterable[str] = ()):
        self.results = results.rstrip("/")
        self.captions_dir = Path(captions_dir)
        models = list(models)
        self.items: dict[str, ReportItem] = {}
        for study in studies:
            for target in targets.get(study, []):
                self._add(study, target, models)

    def _add(self, study: str, target: str, models: list[str]) -> None:
        path = PurePosixPath(target)
        kind = KINDS.get(path.suffix)
        if kind is None:
            return
        relative = path.relative_to(self.results)
        key = str(relative.with_suffix(""))
        if (key, kind) in {(i.key, i.kind) for i in self.items.values()}:
            return
        title, caption = read_caption(self.captions_dir / relative.parts[0] / f"{relative.stem}.rst")
        item = ReportItem(key=key, kind=kind, study=study, model=_model_of(relative.parts, models),
                          title=title, caption=caption)
        self.items[f"{kind}:{key}"] = item

    def keys(self, kind: str) -> list[str]:
        return [item.key for item in self.items.values() if item.kind == kind]

    def outputs(self, report_dir: str) -> list[str]:
        """The report rules' outputs: results/<run>/report/<key>.html | .png."""
        suffix = {"table": "html", "figure": "png"}
        return [f"{report_dir}/{item.key}.{suffix[item.kind]}" for item in self.items.values()]

    def item(self, wildcards: Any) -> ReportItem:
        if hasattr(wildcards, "report_table"):
            return self.items[f"table:{wildcards.report_table}"]
        return self.items[f"figure:{wildcards.report_figure}"]

    def category(self, wildcards: Any) -> str:
        return PAPERS[self.item(wildcards).study]

    def labels(self, wildcards: Any) -> dict[str, str]:
        item = self.item(wildcards)
        return {"item": item.title, "model": item.model or "(see caption)", "file": item.key}

    def caption(self, wildcards: Any) -> str:
        """The reStructuredText the report shows under the item: title, caption, its files."""
        item = self.item(wildcards)
        files = f"``{self.results}/{item.key}.{'md' if item.kind == 'table' else 'png'}``"
        if item.kind == "table":
            files += f" (machine-readable: ``{self.results}/{item.key}.csv``)"
        return f"**{item.title}**\n\n{item.caption}\n\nFile: {files}"

    def title(self, wildcards: Any) -> str:
        return self.item(wildcards).title

