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
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

#: Section keys whose values name entries of ``datasets:`` (also any ``*_datasets``).
DATASET_KEYS = ("dataset", "datasets")


def _load(path: Path) -> Any:
    from lmanatomy.yamlfile import load_yaml

    return load_yaml(path)


def _resolved(schema: Mapping[str, Any], base: Path) -> Mapping[str, Any]:
    while "$ref" in schema:  # a property that is a reference: the referenced file's schema
        path = base / schema["$ref"]
        schema, base = _load(path), path.parent
    return schema


def label_of(description: str) -> str:
    """The first clause of a schema description: what the key is, without the why."""
    for stop in ("; ", " — "):
        description = description.split(stop)[0]
    return description.strip().rstrip(".")


def schema_labels(schema_path: Path) -> dict[str, str]:
    """Dotted key (below the section) → label, for every described property, nested ones included."""
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


def differences(run: Any, paper: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted key, run value, paper value) of every leaf that differs; mappings are compared key by key."""
    if isinstance(run, Mapping) and isinstance(paper, Mapping):
        for key in list(run) + [k for k in paper if k not in run]:
            yield from differences(run.get(key), paper.get(key), f"{prefix}{key}." if prefix or key else "")
        return
    if run != paper:
        yield prefix.rstrip("."), run, paper


def _label(labels: Mapping[str, str], key: str) -> str:
    parts = key.split(".")
    for i in range(len(parts), 0, -1):  # the key itself, else its nearest described parent (or a `*` entry)
        for candidate in (".".join(parts[:i]), ".".join([*parts[: i - 1], "*"])):
            if candidate in labels:
                return labels[candidate]
    return ""


def _show(value: Any) -> str:
    return "absent" if value is None else f"`{value}`"


def named_datasets(section: Mapping[str, Any], datasets: Mapping[str, Any]) -> list[str]:
    """The ``datasets:`` entries a section reads: values of its dataset keys, at any depth."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in DATASET_KEYS or str(key).endswith("_datasets"):
                    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
                    found.extend(n for n in names if isinstance(n, str) and n in datasets)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(section)
    return list(dict.fromkeys(found))


def resolved_section(config: Mapping[str, Any], name: str, schema_path: Path) -> dict[str, Any]:
    """A config's section with its schema's defaults filled (a paper config is read as written)."""
    from lmanatomy.config import fill_defaults

    section = copy.deepcopy(dict(config.get(name) or {}))
    fill_defaults(section, {"$ref": schema_path.name}, schema_path.parent)
    return section


def study_deviations(study: Any, config: Mapping[str, Any], origins: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The lines of "how this run differs from the paper" for one study (Markdown bullets).

    ``study`` is a :class:`lmanatomy.study.Study`; ``origins`` maps a dataset name to the
    provenance fact recorded when the run prepared it.
    """
    if study.paper_config_path is None:
        return []
    paper = _load(study.paper_config_path)
    relative = study.paper_config_path.relative_to(study.root) if study.paper_config_path.is_relative_to(study.root) else study.paper_config_path
    run_section = resolved_section(config, study.name, study.schema_path)
    paper_section = resolved_section(paper, study.name, study.schema_path)
    labels = schema_labels(study.schema_path)
    lines = [f"How this run differs from the paper's setup (`{relative}`, section `{study.name}`, schema defaults filled):", ""]
    for key, ours, theirs in differences(run_section, paper_section):
        label = _label(labels, key)
        lines.append(f"- `{study.name}.{key}`" + (f" — {label}" if label else "") + f": this run {_show(ours)}, the paper {_show(theirs)}")
    if len(lines) == 2:
        lines.append(f"- `{study.name}`: every key is the paper's")
    run_data, paper_data = config.get("datasets") or {}, paper.get("datasets") or {}
    data_labels = schema_labels(Path(study.schema_path).parent / "datasets.schema.yaml")
    for name in named_datasets(run_section, run_data):
        origin = origins.get(name, {}).get("text", "no provenance recorded")
        lines.append(f"- data `{name}`: {origin}" + ("" if name in paper_data else "; the paper's config has no dataset of that name"))
        if name in paper_data:
            for key, ours, theirs in differences(run_data[name], paper_data[name]):
                label = _label(data_labels, f"*.{key}")
                lines.append(f"  - `datasets.{name}.{key}`" + (f" — {label}" if label else "") + f": this run {_show(ours)}, the paper {_show(theirs)}")
    return lines + [""]


def recorded_origins(paths: Iterable[str | Path]) -> dict[str, Mapping[str, Any]]:
    """Dataset name → the provenance fact (``origin``) its preparation recorded in data/<name>.json."""
    origins = {}
    for path in map(Path, paths):
        origins[path.stem] = json.loads(path.read_text(encoding="utf-8"))["origin"]
    return origins
