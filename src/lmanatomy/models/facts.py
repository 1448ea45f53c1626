"""Registry facts checked before any job: required keys per model_type, divisibility, config.json.

A registry entry's ``config`` is what planning builds the model from. A sizing key it leaves out
is filled by the transformers config class's default, which for many families is a real model's
value (Qwen2's ``num_key_value_heads`` defaults to 32, Qwen3's ``head_dim`` to 128, Gemma-2's to
256): the census would then be wrong without a word. So every sizing key whose class default is
not ``None`` must be written down (a ``None`` default means "derived from the other keys", as in
the model's own config.json).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lmanatomy.errors import RegistryError
from lmanatomy.models.registry import ModelEntry

# The keys (in any family's spelling) that set a layer's shape and so every count downstream.
SIZE_KEYS = (
    "hidden_size",
    "n_embd",
    "d_model",
    "intermediate_size",
    "ffn_dim",
    "n_inner",
    "num_hidden_layers",
    "n_layer",
    "num_layers",
    "num_attention_heads",
    "n_head",
    "attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
)


def _config_class(model_type: str) -> Any | None:
    """The transformers config class of ``model_type``, or None when it is not built in."""
    from transformers import CONFIG_MAPPING

    try:
        return CONFIG_MAPPING[model_type]
    except KeyError:
        return None


@functools.cache
def required_keys(model_type: str) -> tuple[str, ...]:
    """Sizing keys an entry of ``model_type`` must
    state: those whose class default is a fixed value.

    A default derived from other keys (Llama's ``head_dim`` = hidden / heads, its KV heads = heads)
    follows them when they change, as the model's own config.json implies when it omits the key;
    a fixed default (Qwen2's 32 KV heads) stays put, and is then required.
    """
    cls = _config_class(model_type)
    if cls is None:
        return ()
    defaults = cls().to_dict()
    present = [
        key
        for key in SIZE_KEYS
        if isinstance(defaults.get(key), int) and not isinstance(defaults.get(key), bool)
    ]
    required = []
    for key in present:
        if not any(_follows(cls, defaults, key, other) for other in present if other != key):
            required.append(key)
    return tuple(required)


def _follows(cls: Any, defaults: Mapping[str, Any], key: str, other: str) -> bool:
    """Whether the default of ``key`` changes when
    ``other`` doubles (a config the class refuses: no)."""
    try:
        return cls(**{other: defaults[other] * 2}).to_dict().get(key) != defaults[key]
    except Exception:  # the class's own validation (divisibility) refused the doubled value
        return False


def _aliases(model_type: str, key: str) -> set[str]:
    """``key`` and every name transformers maps onto it for this family (``n_layer`` ↔
    ``num_hidden_layers``)."""
    cls = _config_class(model_type)
    mapping: Mapping[str, str] = getattr(cls, "attribute_map", {}) if cls is not None else {}
    names = {key}
    for alias, target in mapping.items():
        if target == key:
            names.add(alias)
        if alias == key:
            names.add(target)
    return names


def missing_keys(entry: ModelEntry) -> list[str]:
    """Required sizing keys the entry leaves to a default."""
    facts = entry.config
    return [
        key
        for key in required_keys(entry.model_type)
        if not _aliases(entry.model_type, key) & set(facts)
    ]


def check_facts(entry: ModelEntry) -> None:
    """Required keys present and head counts that divide; a
    :class:`RegistryError` naming the entry otherwise."""
    if entry.trust_remote_code and _config_class(entry.model_type) is None:
        return  # the family's config class is remote code: nothing to compare its defaults with
    if _config_class(entry.model_type) is None:
        raise RegistryError(
            f"model '{entry.name}': model_type '{entry.model_type}' is not built into transformers "
            "(set trust_remote_code: true if the repository ships its own code)"
        )
    missing = missing_keys(entry)
    if missing:
        raise RegistryError(
            f"model '{entry.name}' ({entry.model_type}): config lacks {', '.join(missing)} (the "
            "transformers default would be used silently; copy it from the model's config.json)"
        )
    check_divisibility(entry)


def check_divisibility(entry: ModelEntry) -> None:
    """hidden size by heads (unless head_dim is explicit), query heads by KV heads."""
    from lmanatomy.models.loading import hf_config

    config = hf_config(entry)
    hidden = getattr(config, "hidden_size", None)
    heads = getattr(config, "num_attention_heads", None)
    kv = getattr(config, "num_key_value_heads", None)
    explicit_head_dim = any(k in entry.config for k in ("head_dim", "kv_channels"))
    if hidden and heads and not explicit_head_dim and hidden % heads:
        raise RegistryError(
            f"model '{entry.name}': hidden size {hidden} is not divisible by {heads} attention "
            "heads"
        )
    if heads and kv and heads % kv:
        raise RegistryError(
            f"model '{entry.name}': {heads} attention heads do not divide into {kv} key-value heads"
        )


def read_config_json(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise RegistryError(
            f"{folder}: no config.json (a model folder needs config.json, safetensors and a "
            "tokenizer)"
        )
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def check_against_config_json(entry: ModelEntry, folder: str | Path) -> None:
    """Every fact the registry states equals the downloaded
    ``config.json``'s value (numbers compared as numbers)."""
    actual = read_config_json(folder)
    for key, value in entry.config.items():
        if key not in actual:
            # a fact config.json leaves to its class default; the census check covers its effect
            continue
        if _differs(value, actual[key]):
            raise RegistryError(
                f"model '{entry.name}': registry says {key}={value!r} but "
                f"{Path(folder) / 'config.json'} says {actual[key]!r}"
            )


def _differs(expected: Any, actual: Any) -> bool:
    if (
        isinstance(expected, (int, float))
        and isinstance(actual, (int, float))
        and not isinstance(expected, bool)
    ):
        return float(expected) != float(actual)
    return expected != actual
