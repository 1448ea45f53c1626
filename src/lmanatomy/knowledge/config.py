"""Semantic checks of the ``knowledge`` config section (the schema settles keys and types)."""

from __future__ import annotations

from typing import Any, Mapping

from lmanatomy.config import check_model_names
from lmanatomy.errors import ConfigError
from lmanatomy.knowledge.groups import group_of, ordered_words
from lmanatomy.models.registry import ModelEntry, Registry

FORMAT = "knowledge_questions"


def ff_neurons(entry: ModelEntry) -> int | None:
    """FF neurons of the whole model (layers × FF width) from registry facts; None if not stated."""
    facts = entry.config
    width = facts.get("intermediate_size") or facts.get("ffn_dim") or facts.get("n_inner")
    if width is None:
        hidden = facts.get("hidden_size") or facts.get("n_embd")
        width = 4 * hidden if hidden and entry.model_type in ("gpt2", "bloom") else None
    return int(width) * entry.num_layers if width else None


def checkpoints(section: Mapping[str, Any], entry: ModelEntry) -> list[str]:
    """The checkpoints the study attributes, in training order (the last one is the final)."""
    chosen = section.get("checkpoints") or list(entry.checkpoints)
    unknown = [c for c in chosen if c not in entry.checkpoints]
    if unknown:
        raise ConfigError("knowledge.checkpoints", f"model '{entry.name}' has no checkpoint(s) {unknown} (known: {list(entry.checkpoints)})")
    order = {c: i for i, c in enumerate(entry.checkpoints)}
    if [order[c] for c in chosen] != sorted(order[c] for c in chosen):
        raise ConfigError("knowledge.checkpoints", "list the checkpoints in training order; the last one is the final checkpoint")
    return list(chosen)


def check(config: Mapping[str, Any], registry: Registry) -> None:
    section = config["knowledge"]
    (entry,) = check_model_names("knowledge.model", [section["model"]], registry)
    if not entry.is_series:
        raise ConfigError("knowledge.model", f"model '{entry.name}' is not a checkpoint series (it lists no checkpoints)")
    checkpoints(section, entry)
    datasets = config.get("datasets") or {}
    name = section["dataset"]
    if name not in datasets:
        raise ConfigError("knowledge.dataset", f"unknown dataset '{name}' (known: {', '.join(sorted(datasets)) or 'none'})")
    if datasets[name]["format"] != FORMAT:
        raise ConfigError("knowledge.dataset", f"dataset '{name}' has format '{datasets[name]['format']}', not '{FORMAT}'")
    group_of(section["groups"])
    if "{question}" not in section["template"]:
        raise ConfigError("knowledge.template", f"template {section['template']!r} has no {{question}} placeholder")
    try:
        section["template"].format(question="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError("knowledge.template", f"template {section['template']!r} may only use {{question}} ({exc})") from None
    neurons = ff_neurons(entry)
    if neurons is not None and section["top_k"] > neurons:
        raise ConfigError("knowledge.top_k", f"top_k={section['top_k']} exceeds the {neurons} FF neurons of model '{entry.name}'")
    pairs = len(ordered_words(section["groups"])) * (len(ordered_words(section["groups"])) - 1) // 2
    if section["emd_shards"] > pairs:
        raise ConfigError("knowledge.emd_shards", f"{section['emd_shards']} shards for only {pairs} word pairs")
