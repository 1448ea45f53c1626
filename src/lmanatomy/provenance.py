"""Run provenance: what produced a run's tables and figures.

One JSON document per run with the resolved config, the versions of the software that matter
numerically, each model's source and weight hashes (its provenance.json) and each dataset's
content hash (its sidecar JSON). It is what the report shows and what a reader needs to trace
any number back to a model revision, a data hash and a config.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lmanatomy import __version__

PACKAGES = (
    "torch",
    "transformers",
    "numpy",
    "scipy",
    "scikit-learn",
    "pot",
    "pyarrow",
    "pandas",
    "snakemake",
    "nltk",
    "torch-pruning",
)


def software_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version(), "lmanatomy": __version__}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _read_json(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def collect(
    config: Mapping[str, Any],
    model_files: Mapping[str, str | Path],
    dataset_files: Mapping[str, str | Path],
) -> dict[str, Any]:
    """The provenance document: config, software, models (by name) and datasets (by name)."""
    return {
        "run": config.get("run"),
        "config": json.loads(json.dumps(config, default=str)),
        "software": software_versions(),
        "models": {name: _read_json(path) for name, path in sorted(model_files.items())},
        "datasets": {name: _read_json(path) for name, path in sorted(dataset_files.items())},
    }


def to_markdown(document: Mapping[str, Any]) -> str:
    """A readable rendering: models with their sources and hashes, datasets with their hashes."""
    lines = [f"# Provenance of run `{document['run']}`", "", "## Models", ""]
    lines += ["| model | source | revision / file | weights sha256 |", "|---|---|---|---|"]
    for name, info in document["models"].items():
        origin = info.get("revision") or info.get("file") or info.get("step") or ""
        hashes = ", ".join(
            f"{k}: {v[:16]}…" for k, v in sorted(info.get("weights_sha256", {}).items())
        )
        lines.append(
            f"| {name} | {info.get('source', '')} {info.get('repo') or info.get('package') or ''} "
            f"| {origin} | {hashes} |"
        )
    lines += ["", "## Datasets", "", "| dataset | content sha256 | rows |", "|---|---|---|"]
    for name, info in document["datasets"].items():
        digest = str(info.get("content_sha256") or info.get("sha256") or "")
        lines.append(f"| {name} | {digest[:16]}… | {info.get('rows', '')} |")
    lines += ["", "## Software", ""]
    lines += [f"- {k}: {v}" for k, v in document["software"].items()]
    lines += [
        "",
        "## Config",
        "",
        "```json",
        json.dumps(document["config"], indent=2, sort_keys=True),
        "```",
        "",
    ]
    return "\n".join(lines)
