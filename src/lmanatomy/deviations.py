"""How a run differs from a paper, derived rather than written by hand.

A study's descriptor names the paper's own setup (``config/papers/<paper>.yaml``). The run's
resolved section (schema defaults filled in) is compared with the paper config's, key by key; a
key that differs is labelled with its schema ``description`` (the first clause), so the text
follows the schema instead of repeating it. The data a section reads are compared the same way
(the ``datasets:`` entries it names), and each is described by the provenance fact the run
recorded when it prepared the data (``results/<run>/data/<name>.json`` → ``origin``: demo data, a
seeded subset, or the real upstream files), never by guessing from paths.

Why derived: five hand-written deviation functions each repeated the paper's settings as
constants (and drifted from ``config/papers/``); one comparison cannot drift.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmanatomy.errors import DataError

#: Run-level keys that change what a study measures (the device or the run's name do not).
RUN_KEYS = ("dtype",)


def _load(path: Path) -> Any:
    from lmanatomy.yamlfile import load_yaml

    return load_yaml(path)


def _resolved(schema: Mapping[str, Any], base: Path) -> Mapping[str, Any]:
    while "$ref" in schema:  # a property that is a reference: the referenced file's schema
        path = base / schema["$ref"]
        schema, base = _load(path), path.parent
    return schema


def label_of(description: str) -> str:
    """The first clause of a schema description (up to "; " or " — " outside brackets): what the
    key is, without the why."""
    depth = 0
    for i, char in enumerate(description):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0 and (description.startswith("; ", i) or description.startswith(" — ", i)):
            description = description[:i]
            break
    return description.strip().rstrip(".")


def schema_labels(schema_path: Path) -> dict[str, str]:
    """Dotted key (below the section) → label, for
    every described property, nested ones included."""
    labels: dict[str, str] = {}

    def walk(schema: Mapping[str, Any], base: Path, prefix: str) -> None:
        schema = _resolved(schema, base)
        for key, sub in (schema.get("properties") or {}).items():
            sub = _resolved(sub, base)
            if sub.get("description"):
                labels[prefix + key] = label_of(" ".join(str(sub["description"]).split()))
            walk(sub, base, f"{prefix}{key}.")
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            walk(extra, base, f"{prefix}*.")

    walk(_load(schema_path), schema_path.parent, "")
    return labels


#: A key one side lacks (``null`` is a value: it often means "all" or "none").
ABSENT = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


def differences(run: Any, paper: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted key, run value, paper value) of every leaf that differs (:data:`ABSENT` where a side
    lacks the key); mappings are compared key by key, anything else as a whole."""
    if isinstance(run, Mapping) and isinstance(paper, Mapping):
        for key in list(run) + [k for k in paper if k not in run]:
            yield from differences(run.get(key, ABSENT), paper.get(key, ABSENT), f"{prefix}{key}.")
        return
    if run != paper:
        yield prefix.rstrip("."), run, paper


def _label(labels: Mapping[str, str], key: str) -> str:
    parts = key.split(".")
    for i in range(
        len(parts), 0, -1
    ):  # the key itself, else its nearest described parent (or a `*` entry)
        for candidate in (".".join(parts[:i]), ".".join([*parts[: i - 1], "*"])):
            if candidate in labels:
                return labels[candidate]
    return ""


def _show(value: Any) -> str:
    return "absent" if value is ABSENT else "`null`" if value is None else f"`{value}`"


def named_entries(
    section: Mapping[str, Any], table: Mapping[str, Any], kind: str = "dataset"
) -> list[str]:
    """The entries of ``datasets:`` (or ``probes:``) a section reads, in order: the values, at any
    depth, of its keys ``<kind>``, ``<kind>s`` and ``*_<kind>``/``*_<kind>s`` that name one."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if str(key).rstrip("s") == kind or str(key).rstrip("s").endswith(f"_{kind}"):
                    names = (
                        [value]
                        if isinstance(value, str)
                        else value
                        if isinstance(value, list)
                        else []
                    )
                    found.extend(n for n in names if isinstance(n, str) and n in table)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(section)
    return list(dict.fromkeys(found))


def named_datasets(section: Mapping[str, Any], datasets: Mapping[str, Any]) -> list[str]:
    """The ``datasets:`` entries a section reads (``dataset``,
    ``datasets``, ``*_datasets``, at any depth)."""
    return named_entries(section, datasets, "dataset")


def resolved_section(config: Mapping[str, Any], name: str, schema_path: Path) -> dict[str, Any]:
    """A config's section with its schema's defaults filled (a paper config is read as written)."""
    from lmanatomy.config import fill_defaults

    section = copy.deepcopy(dict(config.get(name) or {}))
    fill_defaults(section, {"$ref": schema_path.name}, schema_path.parent)
    return section


def _paper_config_name(study: Any) -> str:
    path = study.paper_config_path
    return str(path.relative_to(study.root)) if path.is_relative_to(study.root) else str(path)


@dataclass(frozen=True)
class Difference:
    """One key whose value in the run differs from the
    paper config's (``label``: from the schema)."""

    key: str
    label: str
    ours: Any
    theirs: Any
    code: Any = ABSENT  #: the released code's value where it differs from the paper's text

    def sentence(self) -> str:
        code = f" (the released code: {_show(self.code)})" if self.code is not ABSENT else ""
        return (
            f"`{self.key}`"
            + (f" — {self.label}" if self.label else "")
            + f": this run {_show(self.ours)}, the paper {_show(self.theirs)}{code}."
        )


def _at(section: Mapping[str, Any], dotted: str) -> Any:
    node: Any = section
    for part in dotted.split("."):
        node = node.get(part, ABSENT) if isinstance(node, Mapping) else ABSENT
    return node


def compare(
    study: Any, config: Mapping[str, Any]
) -> tuple[list[Difference], list[str], list[Difference]]:
    """(differences of the section and the run-level keys, the datasets it reads, differences of
    those datasets' and probes' entries) between the run's config and the study's paper config."""
    paper = _load(study.paper_config_path)
    run_section = resolved_section(config, study.name, study.schema_path)
    labels = schema_labels(study.schema_path)
    code = (
        resolved_section(_load(study.code_config_path), study.name, study.schema_path)
        if study.code_config_path
        else None
    )
    settings = []
    for key, ours, theirs in differences(
        run_section, resolved_section(paper, study.name, study.schema_path)
    ):
        released = _at(code, key) if code is not None else ABSENT
        settings.append(
            Difference(
                f"{study.name}.{key}",
                _label(labels, key),
                ours,
                theirs,
                released if released != theirs else ABSENT,
            )
        )
    run_labels = schema_labels(study.schema_path.parent / "config.schema.yaml")
    settings += [
        Difference(key, run_labels.get(key, ""), config.get(key, ABSENT), paper.get(key, ABSENT))
        for key in RUN_KEYS
        if config.get(key, ABSENT) != paper.get(key, ABSENT)
    ]
    names = named_datasets(run_section, config.get("datasets") or {})
    entries = []
    for table, _kind, found in (
        ("datasets", "dataset", names),
        ("probes", "probe", named_entries(run_section, config.get("probes") or {}, "probe")),
    ):
        entry_labels = schema_labels(study.schema_path.parent / f"{table}.schema.yaml")
        ours_all, theirs_all = config.get(table) or {}, paper.get(table) or {}
        for name in found:
            entries += [
                Difference(
                    ".".join([table, name, key] if key else [table, name]),
                    _label(entry_labels, f"*.{key}"),
                    ours,
                    theirs,
                )
                for key, ours, theirs in differences(ours_all[name], theirs_all.get(name, ABSENT))
            ]
    return settings, names, entries


def _origin_text(origins: Mapping[str, Mapping[str, Any]], name: str) -> str:
    if name not in origins:
        raise DataError(
            f"dataset '{name}': no recorded provenance (results/<run>/data/{name}.json) to say "
            "what data it is"
        )
    return str(origins[name]["text"])


def deviation_sentences(
    study: Any, config: Mapping[str, Any], origins: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """One sentence per way the run differs from the
    paper's config, and one per dataset on its origin.

    ``study`` is a :class:`lmanatomy.study.Study`; ``origins`` maps a dataset name to the
    provenance fact recorded when the run prepared it (a name without one is an error: the data
    sentence is never guessed). Empty for a study without a paper config. A dataset or probe the
    paper's config lacks is one difference (its whole entry against absent).
    """
    if study.paper_config_path is None:
        return []
    settings, names, entries = compare(study, config)
    sentences = [d.sentence() for d in settings] or [f"`{study.name}`: every key is the paper's."]
    sentences += [f"Data `{name}`: {_origin_text(origins, name)}." for name in names]
    return sentences + [d.sentence() for d in entries]


def deviation_note(
    study: Any, config: Mapping[str, Any], origins: Mapping[str, Mapping[str, Any]]
) -> str:
    """The same comparison in one line for a figure's
    footnote: the keys that differ and the data's origin."""
    if study.paper_config_path is None:
        return ""
    settings, names, entries = compare(study, config)
    keys = ", ".join(d.key for d in settings + entries) or "none"
    data = "; ".join(f"{name}: {_origin_text(origins, name)}" for name in names)
    return (
        f"Differs from the paper's setup ({_paper_config_name(study)}) in: {keys}."
        + (f" Data: {data}." if data else "")
        + " Values: summary.md."
    )


def study_deviations(
    study: Any, config: Mapping[str, Any], origins: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """The summary's paragraph "how this run differs
    from the paper" for one study (Markdown lines)."""
    sentences = deviation_sentences(study, config, origins)
    if not sentences:
        return []
    head = (
        f"How this run differs from the paper's setup (`{_paper_config_name(study)}`, section "
        f"`{study.name}`, schema defaults filled in):"
    )
    return [head, "", *(f"- {s}" for s in sentences), ""]


def notes_of(
    study: Any, config: Mapping[str, Any], dataset_meta: Iterable[str | Path]
) -> list[str]:
    """A table's deviation notes: the same sentences, from its datasets' provenance files."""
    return deviation_sentences(study, config, recorded_origins(dataset_meta))


def note_of(study: Any, config: Mapping[str, Any], dataset_meta: Iterable[str | Path]) -> str:
    """A figure's deviation footnote (:func:`deviation_note`),
    from its datasets' provenance files."""
    return deviation_note(study, config, recorded_origins(dataset_meta))


def recorded_origins(paths: Iterable[str | Path]) -> dict[str, Mapping[str, Any]]:
    """Dataset name → the provenance fact (``origin``)
    its preparation recorded in data/<name>.json."""
    origins = {}
    for path in map(Path, paths):
        origins[path.stem] = json.loads(path.read_text(encoding="utf-8"))["origin"]
    return origins


def planned_origins(study: Any, config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The origin facts of the datasets a study reads, at plan time: the same function
    (:func:`lmanatomy.data.subsets.dataset_origin`) that
    preparing them records, from the same files."""
    from lmanatomy.data.subsets import dataset_origin

    section = config.get(study.name) or {}
    return {
        name: dataset_origin(config, name)
        for name in named_datasets(section, config.get("datasets") or {})
    }
