"""Checks of the ``lesion`` config section against the registry and the named datasets."""

from __future__ import annotations

from typing import Any, Mapping

from lmanatomy.config import check_dataset_names, check_layer_range
from lmanatomy.errors import ConfigError
from lmanatomy.lesion.naming import layer_indices
from lmanatomy.models.registry import Registry

# Families whose decoder layers have LLM-Pruner's groups: self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj.
SUPPORTED_FAMILIES = ("llama", "mistral", "qwen2")


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Model known and prunable, layer ranges inside it, tasks known and backed by datasets of their format."""
    from lmanatomy.evaluation.tasks import TASKS

    section = config["lesion"]
    name = section["model"]
    if name not in registry:
        raise ConfigError("lesion.model", f"unknown model '{name}' (known: {', '.join(sorted(registry))})")
    entry = registry[name]
    if entry.model_type not in SUPPORTED_FAMILIES:
        raise ConfigError(
            "lesion.model", f"model '{name}' has model_type '{entry.model_type}'; pruning supports {', '.join(SUPPORTED_FAMILIES)}"
        )
    numbering = section["layer_numbering"]
    for index, layers in enumerate(section["layer_ranges"]):
        key = f"lesion.layer_ranges[{index}]"
        first, last = layer_indices(layers, numbering, key)
        try:
            check_layer_range(key, [first, last], entry)
        except ConfigError as exc:
            detail = str(exc).removeprefix(f"config key '{key}': ")
            raise ConfigError(key, f"{list(layers)} ({numbering}) = indices {first}..{last}: {detail}") from None
    for task, settings in section["tasks"].items():
        if task not in TASKS:
            raise ConfigError(f"lesion.tasks.{task}", f"unknown task (known: {', '.join(sorted(TASKS))})")
        check_dataset_names(f"lesion.tasks.{task}.dataset", settings["dataset"], config, [TASKS[task].format])
