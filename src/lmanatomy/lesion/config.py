"""Checks of the ``lesion`` config section against the registry and the named datasets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.config import check_dataset_names, check_layer_range
from lmanatomy.errors import ConfigError
from lmanatomy.lesion.naming import layer_indices
from lmanatomy.models.registry import Registry


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Model known (prunable: checked as the lesion study's need), layer ranges inside it, tasks
    known and backed by datasets of their format."""
    from lmanatomy.evaluation.tasks import TASKS

    section = config["lesion"]
    name = section["model"]
    if name not in registry:
        raise ConfigError(
            "lesion.model", f"unknown model '{name}' (known: {', '.join(sorted(registry))})"
        )
    entry = registry[
        name
    ]  # its pruning groups are a need (lmanatomy.models.needs), checked with every study's
    numbering = section["layer_numbering"]
    for index, layers in enumerate(section["layer_ranges"]):
        key = f"lesion.layer_ranges[{index}]"
        first, last = layer_indices(layers, numbering, key)
        try:
            check_layer_range(key, [first, last], entry)
        except ConfigError as exc:
            detail = str(exc).removeprefix(f"config key '{key}': ")
            raise ConfigError(
                key, f"{list(layers)} ({numbering}) = indices {first}..{last}: {detail}"
            ) from None
    for task, settings in section["tasks"].items():
        if task not in TASKS:
            raise ConfigError(
                f"lesion.tasks.{task}", f"unknown task (known: {', '.join(sorted(TASKS))})"
            )
        check_dataset_names(
            f"lesion.tasks.{task}.dataset", settings["dataset"], config, [TASKS[task].format]
        )


def task_root(config: Mapping[str, Any], task: str) -> str | None:
    """The data root of a lesion task's dataset (None: the download folder)."""
    from lmanatomy.data.layout import dataset_root

    return dataset_root(config, config["lesion"]["tasks"][task]["dataset"])


def fewshot_download(config: Mapping[str, Any], task: str) -> list[str]:
    """``[data/raw/<file>]`` when the config's llm-jp-eval version fixes a
    task's few-shots as rows of an upstream file that the task's data root
    lacks (the workflow's download rule then fetches it), else ``[]``."""
    from pathlib import Path

    from lmanatomy.data.layout import RAW_ROOT
    from lmanatomy.evaluation.versions import fixed_fewshot_file

    rel = fixed_fewshot_file(task, config["lesion"]["llm_jp_eval"])
    root = task_root(config, task)
    if rel is None or (root is not None and (Path(root) / rel).is_file()):
        return []
    return [f"{RAW_ROOT}/{rel}"]
