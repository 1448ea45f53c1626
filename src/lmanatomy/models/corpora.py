"""Training corpora of ``local`` models, by builder name (``train.corpus.builder`` in the registry).

A builder is a module with ``build(spec) -> (lines, required_tokens)`` and ``inputs(spec) ->
files read``. Builders are found by name and imported on use, so that the models package imports
no study, and planning a workflow (which asks for the inputs) imports no torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from lmanatomy.errors import RegistryError
from lmanatomy.models.registry import ModelEntry

CORPUS_BUILDERS = {"knowledge_qa": "lmanatomy.knowledge.corpus"}


def _builder(entry: ModelEntry) -> tuple[ModuleType, Mapping[str, Any]]:
    spec = entry.train.get("corpus")
    known = ", ".join(sorted(CORPUS_BUILDERS))
    if not isinstance(spec, Mapping) or "builder" not in spec:
        raise RegistryError(
            f"model '{entry.name}': train.corpus must name its builder (known: {known})"
        )
    if spec["builder"] not in CORPUS_BUILDERS:
        raise RegistryError(
            f"model '{entry.name}': unknown corpus builder '{spec['builder']}' (known: {known})"
        )
    return importlib.import_module(CORPUS_BUILDERS[spec["builder"]]), spec


def corpus_for(entry: ModelEntry) -> tuple[list[str], list[str]]:
    """The training lines of a ``local`` entry and the strings its tokenizer must keep whole."""
    module, spec = _builder(entry)
    return module.build(spec)


def corpus_inputs(entry: ModelEntry) -> list[str]:
    """The files a ``local`` entry's corpus is written from (inputs of its training rule)."""
    module, spec = _builder(entry)
    return module.inputs(spec)
