"""Probe specs: what an extraction captures, named by adapter role, and how it pools tokens.

A probe is the `probes:` config entry (workflow/schemas/probes.schema.yaml) as a validated,
immutable object. This module does not import torch, so that config validation (every
``snakemake -n``) can check probes cheaply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lmanatomy.errors import ConfigError

MODULE_ROLES = ("linears", "ff_activation", "ff_input", "residual", "hidden_states")
CAPTURES = ("output", "input")
POOLS = ("mean", "last", "eos", "all")
LAST_LAYERS = ("raw", "normed")
STORE_DTYPES = ("float16", "float32")
STARTS = ("tokenizer", "bos_or_eos")


@dataclass(frozen=True)
class Probe:
    """One probe: modules by role, output or input, pooling over tokens, storage settings.

    ``pool``: ``mean`` over the text's real tokens (special tokens the tokenizer adds count, pad
    does not); ``last`` real token; ``eos`` = the tokenizer's EOS id, appended by the pipeline
    where the tokenizer does not add it and checked to be the last real token; ``all`` = one row
    per text × position. ``last_layer`` (``hidden_states`` only): the last entry is the raw output
    of the last decoder layer (``raw``) or the final norm's output (``normed``, what
    ``output_hidden_states`` returns). ``start``: what precedes a text's tokens — ``tokenizer``
    = the special tokens as the tokenizer adds them; ``bos_or_eos`` = the tokenizer's leading
    special tokens when it adds any, else its EOS token (Kojima et al.'s rule: XGLM and Llama-2
    get their tokenizer's ``</s>`` / ``<s>``, BLOOM, whose tokenizer adds nothing, ``</s>``), so
    that a text never starts cold and generation can start from the same token.
    """

    modules: str
    pool: str
    capture: str = "output"
    last_layer: str = "raw"
    dtype: str = "float32"
    batch_size: int = 16
    rows_per_shard: int = 256
    max_length: int = 512
    start: str = "tokenizer"
    name: str | None = None

    def __post_init__(self) -> None:
        key = self._key
        for field, choices in (
            ("modules", MODULE_ROLES),
            ("capture", CAPTURES),
            ("pool", POOLS),
            ("last_layer", LAST_LAYERS),
            ("dtype", STORE_DTYPES),
            ("start", STARTS),
        ):
            value = getattr(self, field)
            if value not in choices:
                raise ConfigError(
                    key(field), f"unknown value '{value}' (known: {', '.join(choices)})"
                )
        for field in ("batch_size", "rows_per_shard", "max_length"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(key(field), f"must be an integer >= 1, got {value!r}")
        if self.modules == "hidden_states" and self.capture != "output":
            raise ConfigError(
                key("capture"), "hidden_states are layer outputs; capture must be 'output'"
            )
        if self.pool == "eos" and self.max_length < 2:
            raise ConfigError(
                key("max_length"),
                "pool 'eos' needs room for one text token and the EOS token (>= 2)",
            )

    def _key(self, field: str) -> str:
        return f"probes.{self.name}.{field}" if self.name else f"probe.{field}"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | Probe, name: str | None = None) -> Probe:
        """A probe from a config entry (the schema's
        keys; missing keys take the schema defaults)."""
        if isinstance(spec, Probe):
            return (
                spec if name is None or spec.name == name else dataclasses.replace(spec, name=name)
            )
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"probes.{name}" if name else "probe",
                f"a probe is a mapping, got {type(spec).__name__}",
            )
        allowed = {f.name for f in dataclasses.fields(cls)} - {"name"}
        unknown = sorted(set(spec) - allowed)
        prefix = f"probes.{name}" if name else "probe"
        if unknown:
            raise ConfigError(
                f"{prefix}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )
        for required in ("modules", "pool"):
            if required not in spec:
                raise ConfigError(f"{prefix}.{required}", "required key is missing")
        return cls(**dict(spec), name=name)

    def replace(self, **changes: Any) -> Probe:
        """A copy with some settings changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def spec(self) -> dict[str, Any]:
        """The full spec (every key, defaults included), as recorded in a store's manifest."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def check_probes(probes: Mapping[str, Any]) -> dict[str, Probe]:
    """Validate every configured probe (run at config time; errors name ``probes.<name>.<key>``)."""
    return {name: Probe.from_spec(spec, name) for name, spec in probes.items()}
