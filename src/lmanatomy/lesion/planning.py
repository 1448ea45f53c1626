"""How much to cut, per layer: the lesion plan, from the architecture alone.

Harada et al. (2024) lesion a model by removing 0.5% or 2.0% of the WHOLE model's parameters
from 5 consecutive decoder layers, using LLM-Pruner's block-wise mode. LLM-Pruner's knob
(``--pruning_ratio``) is a per-layer channel ratio, not a share of the model, so the plan solves
for that ratio and then rounds the way LLM-Pruner (Torch-Pruning's MetaPruner) does:

* ratio ``r`` = parameters to remove per layer / prunable parameters of one layer, where the
  prunable parameters are the weights of the pruning groups (q, k, v, o and gate, up, down);
* MLP: ``C - int(C * (1 - r))`` neurons of ``C`` (MetaPruner keeps ``int(C * (1 - r))``);
* attention: the same rule on the ``heads * head_dim`` query channels, then floor-divided by
  ``head_dim`` (LLM-Pruner prunes consecutive groups of ``head_dim`` channels, i.e. whole heads).

For Llama-2-7B (layers 4-8) this gives 1 head + 367 neurons per layer at 0.5% (0.490% achieved)
and 4 heads + 1,467 neurons at 2.0% (1.960%), the numbers of the paper's setup.

GQA (SmolLM2: 9 query heads over 3 KV heads; Llama-3: 32 over 8), two modes (``gqa``):

* ``prune_kv_groups`` (LLM-Pruner's own GQA path, its Llama-3 script: the groups are rooted at
  ``k_proj`` with ``head_dim`` consecutive channels): the MetaPruner rule on the ``kv_heads *
  head_dim`` key channels, floor-divided by ``head_dim``, gives whole KV groups; each goes with
  its k and v rows and all of its query heads (q rows, o columns). Here the pruning groups cover
  k and v too, so they count in the per-layer ratio's denominator.
* ``keep_kv_heads``: query heads are removed in equal numbers from every KV group and the KV
  heads are kept (the head count is floored to a multiple of the number of KV groups).

SmolLM2 at 0.5% and 2.0% removes no head in either mode (a KV group is a third of its
attention); its lesions there are MLP-only, and the achieved share (reported next to the
requested one) falls short accordingly.

Layer ranges: a plan holds the inclusive 0-based module indices it prunes (``layers``) and the
range as the config wrote it (``label``, under ``numbering``; see ``naming``). LLM-Pruner's
``--block_*_layer_end`` is exclusive: indices 3..7 are ``--block_attention_layer_start 3
--block_attention_layer_end 8`` (``llm_pruner_args``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmanatomy.errors import ConfigError, RegistryError
from lmanatomy.lesion.naming import (  # noqa: F401
    NUMBERINGS,
    ORIGINAL,
    layer_indices,
    percent_label,
    range_label,
    variant_id,
)

GQA_MODES = ("prune_kv_groups", "keep_kv_heads")
IMPORTANCE_DTYPES = ("float64", "float32", "float16", "bfloat16")

if TYPE_CHECKING:  # torch is imported where a model is built, so that reading plans stays light
    from torch import nn


@dataclass(frozen=True)
class Architecture:
    """The facts of one (homogeneous) decoder layer that pruning needs, plus the model's size."""

    model_type: str
    num_layers: int
    layers_path: str
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    head_parameters: int
    neuron_parameters: int
    total_parameters: int
    kv_head_parameters: int = 0  # one KV head's k and v rows (weights + biases)

    @property
    def is_gqa(self) -> bool:
        return self.num_kv_heads != self.num_heads

    @property
    def group_size(self) -> int:
        """Query heads per KV head."""
        return self.num_heads // self.num_kv_heads

    def prunable_parameters(self, gqa: str = "keep_kv_heads") -> int:
        """Parameters of one layer that the pruning groups cover (every head and every neuron;
        with ``prune_kv_groups`` on a GQA model the KV heads too)."""
        kv = (
            self.num_kv_heads * self.kv_head_parameters
            if self.is_gqa and gqa == "prune_kv_groups"
            else 0
        )
        return (
            self.num_heads * self.head_parameters
            + kv
            + self.intermediate_size * self.neuron_parameters
        )


@dataclass(frozen=True)
class PruningPlan:
    """Per-layer removal counts for one (share, layer range) lesion, and what they achieve."""

    layers: tuple[int, int]
    share: float
    ratio: float
    heads: int
    kv_heads: int
    neurons: int
    architecture: Architecture
    label: str = ""
    numbering: str = "zero_based_inclusive"
    gqa: str = "keep_kv_heads"
    importance_dtype: str = "float64"

    @property
    def layer_indices(self) -> list[int]:
        return list(range(self.layers[0], self.layers[1] + 1))

    @property
    def range_name(self) -> str:
        """The range as written and the indices pruned: ``4-8 [idx 3-7]``."""
        return f"{self.label or range_label(self.layers)} [idx {self.layers[0]}-{self.layers[1]}]"

    @property
    def removed_parameters(self) -> int:
        arch = self.architecture
        per_layer = self.heads * arch.head_parameters + self.neurons * arch.neuron_parameters
        if arch.is_gqa:  # MHA: a head's k and v rows are already in head_parameters
            per_layer += self.kv_heads * arch.kv_head_parameters
        return per_layer * len(self.layer_indices)

    @property
    def achieved_share(self) -> float:
        return self.removed_parameters / self.architecture.total_parameters

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": list(self.layers),
            "share": self.share,
            "ratio": self.ratio,
            "heads": self.heads,
            "kv_heads": self.kv_heads,
            "neurons": self.neurons,
            "removed_parameters": self.removed_parameters,
            "achieved_share": self.achieved_share,
            "architecture": asdict(self.architecture),
            "label": self.label,
            "numbering": self.numbering,
            "gqa": self.gqa,
            "importance_dtype": self.importance_dtype,
            "llm_pruner_args": llm_pruner_args(self),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PruningPlan:
        first, last = data["layers"]
        return cls(
            layers=(int(first), int(last)),
            share=float(data["share"]),
            ratio=float(data["ratio"]),
            heads=int(data["heads"]),
            kv_heads=int(data["kv_heads"]),
            neurons=int(data["neurons"]),
            architecture=Architecture(**data["architecture"]),
            label=str(data.get("label", "")),
            numbering=str(data.get("numbering", "zero_based_inclusive")),
            gqa=str(data.get("gqa", "keep_kv_heads")),
            importance_dtype=str(data.get("importance_dtype", "float64")),
        )


def llm_pruner_args(plan: PruningPlan) -> dict[str, Any]:
    """The LLM-Pruner (hf_prune.py) arguments of the same lesion: exclusive layer ends."""
    first, last = plan.layers
    return {
        "pruning_ratio": plan.ratio,
        "block_wise": True,
        "block_attention_layer_start": first,
        "block_attention_layer_end": last + 1,
        "block_mlp_layer_start": first,
        "block_mlp_layer_end": last + 1,
    }


def _as_module(model_or_config: Any) -> nn.Module:
    """A module tree (meta device when built here) from a
    model, a transformers config or a registry entry."""
    import torch
    from torch import nn

    from lmanatomy.models.loading import meta_model
    from lmanatomy.models.registry import ModelEntry

    if isinstance(model_or_config, nn.Module):
        return model_or_config
    if isinstance(model_or_config, ModelEntry):
        return meta_model(model_or_config)
    from transformers import AutoModelForCausalLM, PretrainedConfig

    if isinstance(model_or_config, PretrainedConfig):
        with torch.device("meta"):
            return AutoModelForCausalLM.from_config(model_or_config)
    raise TypeError(
        "plan() takes a model, a transformers config or a registry entry, got "
        f"{type(model_or_config).__name__}"
    )


def _weight_in(module: nn.Module) -> int:
    return int(module.weight.shape[1])


def _weight_out(module: nn.Module) -> int:
    return int(module.weight.shape[0])


def _bias(module: nn.Module) -> int:
    return 1 if getattr(module, "bias", None) is not None else 0


def _layer_facts(layer: nn.Module) -> tuple[int, ...]:
    attn, mlp = layer.self_attn, layer.mlp
    head_dim = int(attn.head_dim)
    return (
        _weight_in(attn.q_proj),
        _weight_out(attn.q_proj) // head_dim,
        _weight_out(attn.k_proj) // head_dim,
        head_dim,
        _weight_out(mlp.gate_proj),
    )


def architecture_of(model_or_config: Any) -> Architecture:
    """The pruning-relevant facts of a model with LLM-Pruner's groups (meta device is enough).

    Which models have them is a need, not a family list
    (:func:`lmanatomy.models.needs.pruning_reason`): Llama, Mistral, Qwen2, Qwen3 and Gemma-2 do;
    fused projections or norms across heads are refused.
    """
    from lmanatomy.models.adapters import adapter_for, parameter_count
    from lmanatomy.models.needs import pruning_reason

    model = _as_module(model_or_config)
    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    reasons = {pruning_reason(layer, adapter.fused) for layer in layers} - {""}
    if reasons:
        raise RegistryError(
            f"lesion pruning needs LLM-Pruner's attention and MLP groups; this {adapter.family} "
            f"model: {sorted(reasons)[0]}"
        )
    facts = {_layer_facts(layer) for layer in layers}
    if len(facts) != 1:
        raise RegistryError(
            f"decoder layers of this {adapter.family} model differ in shape ({sorted(facts)}); "
            "the plan assumes equal layers"
        )
    hidden, heads, kv_heads, head_dim, intermediate = facts.pop()
    if heads % kv_heads:
        raise RegistryError(f"{heads} query heads do not divide into {kv_heads} KV heads")
    attn, mlp = layers[0].self_attn, layers[0].mlp
    # One query head: its head_dim rows of q (weights + bias) and head_dim input columns of o.
    head = head_dim * (_weight_in(attn.q_proj) + _bias(attn.q_proj)) + head_dim * _weight_out(
        attn.o_proj
    )
    if kv_heads == heads:  # MHA: a head also takes its k and v rows (LLM-Pruner's attention group)
        head += head_dim * (
            _weight_in(attn.k_proj)
            + _bias(attn.k_proj)
            + _weight_in(attn.v_proj)
            + _bias(attn.v_proj)
        )
    kv_head = head_dim * (
        _weight_in(attn.k_proj) + _bias(attn.k_proj) + _weight_in(attn.v_proj) + _bias(attn.v_proj)
    )
    neuron = (
        _weight_in(mlp.gate_proj)
        + _bias(mlp.gate_proj)
        + _weight_in(mlp.up_proj)
        + _bias(mlp.up_proj)
        + _weight_out(mlp.down_proj)
    )
    return Architecture(
        model_type=adapter.family,
        num_layers=len(layers),
        layers_path=adapter.layers,
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
        head_parameters=head,
        neuron_parameters=neuron,
        total_parameters=parameter_count(model),
        kv_head_parameters=kv_head,
    )


def _removed(channels: int, ratio: float) -> int:
    """Channels MetaPruner removes at a per-layer ratio: all but ``int(channels * (1 - ratio))``."""
    return channels - int(channels * (1.0 - ratio))


def _heads(arch: Architecture, ratio: float, gqa: str) -> tuple[int, int]:
    """(query heads, KV heads) removed per layer at a per-layer channel ratio."""
    if not arch.is_gqa:
        heads = _removed(arch.num_heads * arch.head_dim, ratio) // arch.head_dim
        return heads, heads
    if gqa == "prune_kv_groups":  # rooted at k_proj: whole KV groups, each with its query heads
        groups = _removed(arch.num_kv_heads * arch.head_dim, ratio) // arch.head_dim
        return groups * arch.group_size, groups
    heads = _removed(arch.num_heads * arch.head_dim, ratio) // arch.head_dim
    return heads // arch.num_kv_heads * arch.num_kv_heads, 0


def plan_for(
    arch: Architecture,
    layers: tuple[int, int] | list[int],
    share: float,
    gqa: str = "prune_kv_groups",
    label: str = "",
    numbering: str = "zero_based_inclusive",
    importance_dtype: str = "float64",
) -> PruningPlan:
    """The plan for a known architecture; ``layers`` are
    inclusive 0-based indices (see the module docstring)."""
    if len(layers) != 2:
        raise ConfigError("layers", f"a layer range is [first, last], got {list(layers)}")
    first, last = int(layers[0]), int(layers[1])
    if not 0 <= first <= last < arch.num_layers:
        raise ConfigError(
            "layers",
            f"layer range {label or f'[{first}, {last}]'} (indices {first}..{last}) is outside "
            f"the model (indices 0..{arch.num_layers - 1})",
        )
    if not 0.0 < share < 1.0:
        raise ConfigError(
            "share", f"the share of the model to remove must lie in (0, 1), got {share}"
        )
    if gqa not in GQA_MODES:
        raise ConfigError("gqa", f"unknown GQA mode '{gqa}' (known: {', '.join(GQA_MODES)})")
    if importance_dtype not in IMPORTANCE_DTYPES:
        raise ConfigError(
            "importance_dtype",
            f"unknown dtype '{importance_dtype}' (known: {', '.join(IMPORTANCE_DTYPES)})",
        )
    n_layers = last - first + 1
    ratio = share * arch.total_parameters / n_layers / arch.prunable_parameters(gqa)
    if ratio >= 1.0:
        raise ConfigError(
            "share",
            f"removing {share:.2%} of the model from {n_layers} layers needs more than all their "
            "prunable weights",
        )
    neurons = _removed(arch.intermediate_size, ratio)
    heads, kv_heads = _heads(arch, ratio, gqa)
    if heads >= arch.num_heads or neurons >= arch.intermediate_size:
        raise ConfigError(
            "share",
            f"a per-layer ratio of {ratio:.3f} would remove every head or every neuron of a layer",
        )
    return PruningPlan(
        layers=(first, last),
        share=float(share),
        ratio=ratio,
        heads=heads,
        kv_heads=kv_heads,
        neurons=neurons,
        architecture=arch,
        label=label or range_label((first, last)),
        numbering=numbering,
        gqa=gqa if arch.is_gqa else "prune_kv_groups",  # MHA: heads and KV heads are one
        importance_dtype=importance_dtype,
    )


def plan(
    model_or_config: Any,
    layers: tuple[int, int] | list[int] = (3, 7),
    share: float = 0.005,
    gqa: str = "prune_kv_groups",
) -> PruningPlan:
    """Heads and MLP neurons to remove per layer so that
    ``share`` of the WHOLE model goes, from ``layers`` only.

    ``model_or_config``: a model (the meta device suffices), a transformers config or a registry
    entry. ``layers``: inclusive 0-based (first, last)
    module indices (the paper's 「4-8層」 is (3, 7)).
    """
    return plan_for(architecture_of(model_or_config), layers, share, gqa)


def plan_variants(
    model_or_config: Any,
    shares: list[float],
    layer_ranges: list[list[int]],
    numbering: str,
    gqa: str = "prune_kv_groups",
    importance_dtype: str = "float64",
) -> dict[str, PruningPlan]:
    """Every (share, layer range) plan by lesion name,
    share-major as the paper's Table 1 orders its columns.

    ``layer_ranges`` are read under ``numbering`` (see ``naming``).
    """
    arch = architecture_of(model_or_config)
    return {
        variant_id(s, r, numbering): plan_for(
            arch, layer_indices(r, numbering), s, gqa, range_label(r), numbering, importance_dtype
        )
        for s in shares
        for r in layer_ranges
    }


def save_plans(plans: dict[str, PruningPlan], path: str | Path) -> None:
    from lmanatomy.tables import atomic_write_text

    atomic_write_text(path, json.dumps({k: p.to_dict() for k, p in plans.items()}, indent=1) + "\n")


def read_plans(path: str | Path) -> dict[str, PruningPlan]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {k: PruningPlan.from_dict(v) for k, v in data.items()}
