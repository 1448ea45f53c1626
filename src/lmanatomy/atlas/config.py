"""Semantic checks of the ``atlas`` config section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.atlas.plan import reasons
from lmanatomy.config import check_model_names
from lmanatomy.errors import ConfigError
from lmanatomy.models.registry import Registry


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Each atlas model exists and at least two enabled
    studies run on it (else nothing to set side by side)."""
    section = config["atlas"]
    check_model_names("atlas.models", section["models"], registry)
    for index, model in enumerate(section["models"]):
        why = reasons(config, model)
        if sum(1 for reason in why.values() if not reason) < 2:
            detail = "; ".join(f"{study}: {reason}" for study, reason in why.items() if reason)
            raise ConfigError(
                f"atlas.models[{index}]",
                f"model '{model}' has fewer than two studies to compare ({detail})",
            )
    check_language_lesions(config)


def check_language_lesions(config: Mapping[str, Any]) -> None:
    """The cross-study lesion's languages, k and tasks exist
    in the language and lesion studies it draws on."""
    section = config["atlas"].get("language_lesions") or {}
    language, lesion = config.get("language") or {}, config.get("lesion") or {}
    if not section or not language or not lesion:
        return
    for index, name in enumerate(section.get("languages", [])):
        if name not in language["languages"]:
            raise ConfigError(
                f"atlas.language_lesions.languages[{index}]",
                f"'{name}' is not one of the language study's languages "
                f"({', '.join(language['languages'])})",
            )
    if section.get("k", 0) > language["k"]:
        raise ConfigError(
            "atlas.language_lesions.k",
            f"{section['k']} exceeds the language study's k = {language['k']} (its selection)",
        )
    from lmanatomy.evaluation.tasks import task_spec

    for index, task in enumerate(section.get("tasks", [])):
        if task not in lesion["tasks"]:
            raise ConfigError(
                f"atlas.language_lesions.tasks[{index}]",
                f"'{task}' is not a task of the lesion study ({', '.join(lesion['tasks'])})",
            )
        if task_spec(task).main_metric != "exact_match":
            raise ConfigError(
                f"atlas.language_lesions.tasks[{index}]",
                f"'{task}' is scored by {task_spec(task).main_metric}; the paired change needs an "
                "exact-match task",
            )
