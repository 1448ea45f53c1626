"""Semantic checks of the ``atlas`` config section."""

from __future__ import annotations

from typing import Any, Mapping

from lmanatomy.atlas.plan import reasons
from lmanatomy.config import check_model_names
from lmanatomy.errors import ConfigError
from lmanatomy.models.registry import Registry


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Each atlas model exists and at least two enabled studies run on it (else nothing to set side by side)."""
    section = config["atlas"]
    check_model_names("atlas.models", section["models"], registry)
    for index, model in enumerate(section["models"]):
        why = reasons(config, model)
        if sum(1 for reason in why.values() if not reason) < 2:
            detail = "; ".join(f"{study}: {reason}" for study, reason in why.items() if reason)
            raise ConfigError(f"atlas.models[{index}]", f"model '{model}' has fewer than two studies to compare ({detail})")
