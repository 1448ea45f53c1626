"""Semantic checks of the ``knowledge`` config section (the schema settles keys and types)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.config import check_model_names
from lmanatomy.errors import ConfigError
from lmanatomy.knowledge.groups import group_of, ordered_words
from lmanatomy.models.registry import ModelEntry, Registry

FORMAT = "knowledge_questions"


def checkpoints(section: Mapping[str, Any], entry: ModelEntry) -> list[str]:
    """The checkpoints the study attributes, in training order (the last one is the final)."""
    chosen = section.get("checkpoints") or list(entry.checkpoints)
    unknown = [c for c in chosen if c not in entry.checkpoints]
    if unknown:
        raise ConfigError(
            "knowledge.checkpoints",
            f"model '{entry.name}' has no checkpoint(s) {unknown} (known: "
            f"{list(entry.checkpoints)})",
        )
    order = {c: i for i, c in enumerate(entry.checkpoints)}
    if [order[c] for c in chosen] != sorted(order[c] for c in chosen):
        raise ConfigError(
            "knowledge.checkpoints",
            "list the checkpoints in training order; the last one is the final checkpoint",
        )
    return list(chosen)


def question_words(config: Mapping[str, Any], name: str) -> tuple[str, set[str]] | None:
    """(file, the words it has questions for) of the question dataset, when the file is on disk.

    Before the download job has run (a dataset under ``data/raw`` not fetched yet), the words are
    not knowable at plan time and ``None`` is returned: the attribution job's own check then names
    the missing word (``lmanatomy.knowledge.prompts``).
    """
    import json

    from lmanatomy.data.layout import dataset_root, resolve

    resolved = resolve(config["datasets"][name], dataset_root(config, name))
    path = resolved.folder / resolved.files[0]
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # the prepare job names the malformed line
    return (str(path), set(data)) if isinstance(data, dict) else None


def check_words_in_questions(
    groups: Mapping[str, Any], config: Mapping[str, Any], name: str
) -> None:
    """Every word of ``knowledge.groups`` has questions
    in the question file (when it is on disk)."""
    found = question_words(config, name)
    if found is None:
        return
    path, known = found
    for group, members in groups.items():
        for index, word in enumerate(members):
            if word not in known:
                raise ConfigError(
                    f"knowledge.groups.{group}[{index}]",
                    f"'{word}' has no questions in {path} ({len(known)} words there)",
                )


def check(config: Mapping[str, Any], registry: Registry) -> None:
    section = config["knowledge"]
    (entry,) = check_model_names("knowledge.model", [section["model"]], registry)
    if not entry.is_series:
        raise ConfigError(
            "knowledge.model",
            f"model '{entry.name}' is not a checkpoint series (it lists no checkpoints)",
        )
    checkpoints(section, entry)
    datasets = config.get("datasets") or {}
    name = section["dataset"]
    if name not in datasets:
        raise ConfigError(
            "knowledge.dataset",
            f"unknown dataset '{name}' (known: {', '.join(sorted(datasets)) or 'none'})",
        )
    if datasets[name]["format"] != FORMAT:
        raise ConfigError(
            "knowledge.dataset",
            f"dataset '{name}' has format '{datasets[name]['format']}', not '{FORMAT}'",
        )
    group_of(section["groups"])
    check_words_in_questions(section["groups"], config, name)
    if "{question}" not in section["template"]:
        raise ConfigError(
            "knowledge.template",
            f"template {section['template']!r} has no {{question}} placeholder",
        )
    try:
        section["template"].format(question="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            "knowledge.template",
            f"template {section['template']!r} may only use {{question}} ({exc})",
        ) from None
    neurons = entry.ff_neurons
    if neurons is not None and section["top_k"] > neurons:
        raise ConfigError(
            "knowledge.top_k",
            f"top_k={section['top_k']} exceeds the {neurons} FF neurons of model '{entry.name}'",
        )
    pairs = len(ordered_words(section["groups"])) * (len(ordered_words(section["groups"])) - 1) // 2
    if section["emd_shards"] > pairs:
        raise ConfigError(
            "knowledge.emd_shards", f"{section['emd_shards']} shards for only {pairs} word pairs"
        )
