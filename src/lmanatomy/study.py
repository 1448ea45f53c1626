"""What a study is, in one place: the descriptor each study package exports as ``STUDY``.

A study used to be spread over six parallel lists (the config checks, the report's paper
categories, the summary's sections, the schema's studies enum, the Snakefile's includes, the
tests' study lists); adding one meant about ten edits. Now each study package says what it is
once, and the workflow, the config check and the report find the studies by discovery:

* a package scan: every ``lmanatomy.<package>`` whose ``__init__`` defines ``STUDY``;
* entry points in the group ``lmanatomy.studies`` (each naming a :class:`Study`): a study that
  lives outside this package (tests/example_study) plugs in without editing the scan.

Everything a descriptor names by ``"module:function"`` is imported on use, so discovering the
studies — what every ``snakemake -n`` does — never imports torch or pandas.

The schema stays a static file (``workflow/schemas/config.schema.yaml``: the studies enum and one
``$ref`` per study), so that a config is validated before any Python of a study runs; a test
fails when the schema and the discovered studies disagree.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from lmanatomy.errors import LmAnatomyError

#: The entry-point group of studies that live outside ``lmanatomy``.
ENTRY_POINT_GROUP = "lmanatomy.studies"
#: The repository root: the default base of a descriptor's relative paths.
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Study:
    """One study: its config section, paper, checks, rules, report captions and summary section.

    Paths (``schema``, ``rules``, ``captions``, ``paper_config``) are relative to ``root`` (the
    repository for the studies of this package); callables are ``"module:attribute"`` strings,
    imported when used.
    """

    name: str  #: the config section and the value in ``studies:``
    paper: str  #: the report's category: "<citation>: <topic>"
    citation: str  #: the paper as cited, e.g. "Kojima et al. 2024"
    title: str  #: the summary section's heading
    #: the section's schema file, as ``config.schema.yaml`` ``$ref``-s it (from workflow/schemas)
    schema: str
    rules: (
        str  #: the rule file that registers ``TARGETS[<name>]`` (the study's targets for ``all``)
    )
    check: str | None = None  #: ``check(config, registry)``: what the schema cannot express
    section: str | None = None  #: ``section(results, paper_values, run) -> lines`` of summary.md
    paper_config: str | None = None  #: the paper's own setup, the reference of derived deviations
    #: the authors' released code's setup where it differs from the paper's text (named beside it)
    code_config: str | None = None
    captions: str = ""  #: caption folder of the report (default workflow/report/<name>)
    after: tuple[str, ...] = ()  #: studies checked and included before this one (it draws on them)
    root: Path = REPO

    def path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def schema_path(self) -> Path:
        """``schema`` is the ``$ref`` of config.schema.yaml:
        relative to the repository's schemas."""
        return (REPO / "workflow" / "schemas" / self.schema).resolve()

    @property
    def rules_path(self) -> Path:
        return self.path(self.rules)

    @property
    def captions_path(self) -> Path:
        return self.path(self.captions or f"workflow/report/{self.name}")

    @property
    def paper_config_path(self) -> Path | None:
        return self.path(self.paper_config) if self.paper_config else None

    @property
    def code_config_path(self) -> Path | None:
        return self.path(self.code_config) if self.code_config else None

    def enabled(self, config: Mapping[str, Any]) -> bool:
        """Whether the run builds this study: the one switch (``studies:``) every rule file asks."""
        return self.name in (config.get("studies") or [])

    def section_of(self, config: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The study's config section when the run enables it, else None."""
        return config.get(self.name) if self.enabled(config) else None

    def run_check(self, config: Mapping[str, Any], registry: Any) -> None:
        if self.check:
            resolve(self.check)(config, registry)

    def summary_section(self) -> Callable[..., list[str]] | None:
        return resolve(self.section) if self.section else None

    def paper_values(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """This study's entry of ``workflow/report/paper_values.yaml`` (the papers' own numbers)."""
        if self.name not in values:
            raise LmAnatomyError(
                f"paper_values.yaml has no entry '{self.name}' for study '{self.name}'"
            )
        return values[self.name]


def resolve(target: str) -> Any:
    """``"package.module:attribute"`` → the attribute (imported now)."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _scanned() -> list[Study]:
    """``STUDY`` of every ``lmanatomy.<package>`` that defines one (package order)."""
    import lmanatomy

    found = []
    for info in pkgutil.iter_modules(lmanatomy.__path__):
        if not info.ispkg:
            continue
        study = getattr(importlib.import_module(f"lmanatomy.{info.name}"), "STUDY", None)
        if isinstance(study, Study):
            found.append(study)
    return found


def _entry_points() -> list[Study]:
    found = []
    for point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        study = point.load()
        if not isinstance(study, Study):
            raise LmAnatomyError(
                f"entry point '{point.name}' ({point.value}) of group {ENTRY_POINT_GROUP} is not "
                "a Study"
            )
        found.append(study)
    return found


def ordered(studies: Iterable[Study]) -> list[Study]:
    """Studies in discovery order, each after those it
    names in ``after`` (a stable topological sort).

    Why: the atlas draws on the other studies (its check assumes their sections are sound, its rule
    file their targets), and the language study lists the census's targets as its own.
    """
    pending = list(studies)
    names = {s.name for s in pending}
    for study in pending:
        unknown = [a for a in study.after if a not in names]
        if unknown:
            raise LmAnatomyError(
                f"study '{study.name}' is to come after unknown studies: {', '.join(unknown)}"
            )
    placed: list[Study] = []
    while pending:
        done = {s.name for s in placed}
        ready = next((s for s in pending if set(s.after) <= done), None)
        if ready is None:
            raise LmAnatomyError(
                f"studies order each other in a cycle: {', '.join(s.name for s in pending)}"
            )
        placed.append(ready)
        pending.remove(ready)
    return placed


def discover() -> list[Study]:
    """Every study, package-scanned and from entry points, in dependency order.

    Not cached: an entry point installed (or put on the path) after the first call is found by
    the next one; a scan costs the light package ``__init__`` imports only.
    """
    studies = _scanned() + _entry_points()
    seen: dict[str, Study] = {}
    for study in studies:
        if study.name in seen:
            raise LmAnatomyError(f"two studies are named '{study.name}'")
        seen[study.name] = study
    return ordered(studies)


def studies_by_name(studies: Sequence[Study] | None = None) -> dict[str, Study]:
    return {s.name: s for s in (discover() if studies is None else studies)}
