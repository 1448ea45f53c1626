"""What each study needs from a model's structure, checked at plan time on the meta device.

Every study declares the named parts it uses (:data:`STUDY_NEEDS`); :func:`missing_parts` builds
the model from its registry facts (no weights) and says which of them it lacks, and why. The
config check turns the first one into a one-line refusal naming the config entry, the model and
the part, before any job runs.

Parts:

* ``layers`` — a ModuleList of decoder layers (every study);
* ``linears`` — ``nn.Linear`` maps inside the layers (census, language, paramact);
* ``final_norm`` — the norm after the last layer (hidden states with ``last_layer: normed``);
* ``ff_activation`` / ``ff_input`` — the FF nonlinearity's output / the linear feeding it
  (knowledge, site ``post`` / ``pre``);
* ``pruning_groups`` — LLM-Pruner's attention and MLP groups as separate projections
  (``self_attn.{q,k,v,o}_proj``, ``mlp.{gate,up,down}_proj``; lesion), no fused projection and
  no other weights indexed by head or neuron (:func:`pruning_reason`; OLMo-2's ``q_norm`` /
  ``k_norm`` span all heads and would need slicing with them; Qwen3's per-head ones do not).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from lmanatomy.errors import RegistryError
from lmanatomy.models.registry import ModelEntry

STUDY_NEEDS: dict[str, tuple[str, ...]] = {
    "census": ("layers", "linears"),
    "language": ("layers", "linears"),
    "paramact": ("layers", "linears"),
    "redundancy": ("layers",),
    "knowledge": ("layers", "ff_activation"),
    "lesion": ("layers", "pruning_groups"),
}
PRUNING_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
PRUNING_MLP = ("gate_proj", "up_proj", "down_proj")


def _entry_key(entry: ModelEntry) -> str:
    return json.dumps(
        {"name": entry.name, "config": dict(entry.config), "remote": entry.trust_remote_code},
        sort_keys=True,
        default=str,
    )


def _facts_entry(key: str) -> ModelEntry:
    data = json.loads(key)
    return ModelEntry(
        name=data["name"],
        source="facts",
        config=data["config"],
        display=data["name"],
        trust_remote_code=data["remote"],
    )


@functools.lru_cache(maxsize=64)  # one meta build per entry, however many studies and checks use it
def _meta(key: str) -> Any:
    """The meta-device model of a serialised entry (no weights)."""
    from lmanatomy.models.loading import meta_model

    return meta_model(_facts_entry(key))


@functools.lru_cache(maxsize=64)
def _structure(key: str) -> tuple[tuple[str, str], ...]:
    """(part, reason) for every part the model lacks; ``key`` is a serialised entry (cacheable)."""
    from lmanatomy.models.adapters import REMOTE_CODE_ADAPTERS, adapter_for

    entry = _facts_entry(key)
    if entry.model_type in REMOTE_CODE_ADAPTERS:
        adapter = REMOTE_CODE_ADAPTERS[entry.model_type]
        lacks = dict(adapter.missing)
        lacks["pruning_groups"] = (
            "remote modelling code: its projections cannot be inspected offline"
        )
        return tuple(lacks.items())
    model = _meta(key)
    adapter = adapter_for(model)
    lacks = dict(adapter.missing)
    layers = adapter.decoder_layers(model)
    if not any(adapter.linears(layer) for layer in layers):
        lacks["linears"] = "no nn.Linear inside the decoder layers"
    reason = pruning_reason(layers[0], adapter.fused)
    if reason:
        lacks["pruning_groups"] = reason
    return tuple(lacks.items())


def pruning_reason(layer: Any, fused: Mapping[str, str]) -> str:
    """Why LLM-Pruner's attention/MLP groups cannot be cut from this layer ('' when they can).

    What removing a head or a neuron needs (the pruning code slices exactly these): separate
    ``self_attn.{q,k,v,o}_proj`` and ``mlp.{gate,up,down}_proj`` Linears, a ``head_dim``
    that divides the q and k widths, and no other weights inside ``self_attn`` / ``mlp``
    that are indexed by head or neuron. A norm of width ``head_dim`` is applied to every
    head alike (Qwen3's ``q_norm`` / ``k_norm``), so removing a head leaves it as it is;
    norms outside ``self_attn`` / ``mlp`` (Gemma-2's pre/post feed-forward norms) act on
    the hidden size, which pruning keeps. A norm across all heads (OLMo-2's ``q_norm``
    of width heads × head_dim) would have to be sliced too.
    """
    from torch import nn

    if fused:
        name, what = next(iter(fused.items()))
        return (
            f"fused projection '{name}' ({what} in one Linear); the pruning groups need them apart"
        )
    attn, mlp = getattr(layer, "self_attn", None), getattr(layer, "mlp", None)
    for parent, label, names in ((attn, "self_attn", PRUNING_ATTENTION), (mlp, "mlp", PRUNING_MLP)):
        absent = [n for n in names if not isinstance(getattr(parent, n, None), nn.Linear)]
        if parent is None or absent:
            return f"no separate {label}.{'/'.join(absent or names)} Linear(s)"
    head_dim = getattr(attn, "head_dim", None)
    if not isinstance(head_dim, int) or head_dim < 1:
        return "self_attn has no integer head_dim, so its heads cannot be told apart"
    for proj in ("q_proj", "k_proj"):
        if getattr(attn, proj).out_features % head_dim:
            return (
                f"self_attn.{proj} has {getattr(attn, proj).out_features} outputs, not a multiple "
                f"of head_dim {head_dim}"
            )
    for parent, label, names in ((attn, "self_attn", PRUNING_ATTENTION), (mlp, "mlp", PRUNING_MLP)):
        for name, module in parent.named_children():
            shapes = [tuple(p.shape) for p in module.parameters()]
            if name in names or not shapes:
                continue
            if label == "self_attn" and all(shape == (head_dim,) for shape in shapes):
                continue  # per-head norm, the same for every head
            units = "heads" if label == "self_attn" else "neurons"
            what = f"normalises across all {units}" if "norm" in name else f"has weights {shapes}"
            return f"{label}.{name} {what}; removing a head or neuron would need it sliced too"
    return ""


def neuron_count(entry: ModelEntry) -> int:
    """The census's neurons (outputs of every decoder-layer
    Linear), from the same meta build as the needs."""
    from lmanatomy.models.adapters import REMOTE_CODE_ADAPTERS
    from lmanatomy.models.census import census_of, census_of_model

    if entry.model_type in REMOTE_CODE_ADAPTERS:
        return census_of(entry).neurons
    return census_of_model(
        _meta(_entry_key(entry)), entry.name, entry.display, parameters=0
    ).neurons


def missing_parts(entry: ModelEntry, needs: tuple[str, ...]) -> list[tuple[str, str]]:
    """(part, reason) for each of ``needs`` the model lacks, in the order asked."""
    try:
        lacks = dict(_structure(_entry_key(entry)))
    except RegistryError:
        raise  # already names the model
    except Exception as exc:  # transformers refused to build it from these facts
        raise RegistryError(
            f"model '{entry.name}': cannot build its architecture from the registry facts: {exc}"
        ) from None
    return [(part, lacks[part]) for part in needs if part in lacks]


def needs_of(
    study: str, section: Mapping[str, Any] | None = None, probe: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    """The parts ``study`` needs, given its config
    section (knowledge's site) and probe (last_layer)."""
    needs = STUDY_NEEDS.get(study, ("layers",))
    if study == "knowledge" and (section or {}).get("site") == "pre":
        needs = ("layers", "ff_input")
    if (probe or {}).get("modules") == "hidden_states" and (probe or {}).get(
        "last_layer"
    ) == "normed":
        needs = needs + ("final_norm",)
    return needs


def require_parts(entry: ModelEntry, study: str, needs: tuple[str, ...]) -> None:
    """A one-line :class:`RegistryError` naming the model and the first missing part, if any."""
    missing = missing_parts(entry, needs)
    if missing:
        part, reason = missing[0]
        raise RegistryError(
            f"{study} needs the {part.replace('_', ' ')} of model '{entry.name}' "
            f"({entry.model_type}): {reason}"
        )


def token_needs(probe: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The special tokens a probe relies on: ``eos``
    (pool: eos), ``start`` (a leading BOS, else EOS)."""
    probe = probe or {}
    needs: tuple[str, ...] = ()
    if probe.get("pool") == "eos":
        needs += ("eos",)
    if probe.get("start") == "bos_or_eos":
        needs += ("start",)
    return needs


def missing_tokens(entry: ModelEntry, needs: tuple[str, ...]) -> list[str]:
    """Which of ``needs`` the entry's tokenizer cannot give; ``[]`` when not knowable at plan time.

    Only a ``source: path`` folder has its tokenizer on disk before any job runs (loaded here
    without weights); a Hub model's tokenizer arrives with the download job, whose extraction then
    names the missing token (``lmanatomy.extract.tokens``).
    """
    if not needs or entry.source != "path" or entry.path is None:
        return []
    from transformers import AutoTokenizer

    from lmanatomy.extract.tokens import leading_ids

    tokenizer = AutoTokenizer.from_pretrained(entry.path, trust_remote_code=entry.trust_remote_code)
    has_eos = tokenizer.eos_token_id is not None
    missing = []
    if "eos" in needs and not has_eos:
        missing.append("an EOS token (the probe pools at the EOS token the pipeline appends)")
    if "start" in needs and not has_eos and not leading_ids(tokenizer):
        missing.append(
            "a BOS token it adds or an EOS token (every text and generation starts from one, "
            "start: bos_or_eos)"
        )
    return missing


def require_tokens(entry: ModelEntry, study: str, needs: tuple[str, ...]) -> None:
    """A one-line :class:`RegistryError` naming the model,
    its tokenizer folder and the first missing token."""
    missing = missing_tokens(entry, needs)
    if missing:
        raise RegistryError(
            f"{study} needs {missing[0]}, but the tokenizer of model '{entry.name}' in "
            f"{entry.path} has none"
        )
