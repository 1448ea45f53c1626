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

GQA (SmolLM2: 9 query heads over 3 KV heads; Llama-3: 32 over 8): query heads are removed in
equal numbers from every KV group and the KV heads are kept (removing a KV head would remove
its whole group). So the head count is further floored to a multiple of the number of KV
groups: SmolLM2 prunes heads only in steps of 3 (one per group, a third of its attention), which
at 0.5% and 2.0% rounds to zero heads — its lesions there are MLP-only, and the achieved share
(reported next to the requested one) falls short accordingly.

Layer ranges are inclusive, as the paper writes them ("4-8" = layers 4, 5, 6, 7, 8, 0-based
module indices). LLM-Pruner's ``--block_*_layer_end`` is exclusive: paper "4-8" is
``--block_attention_layer_start 4 --block_attention_layer_end 9`` (``llm_pruner_args``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmanatomy.errors import ConfigError, RegistryError
from lmanatomy.lesion.config import SUPPORTED_FAMILIES
from lmanatomy.lesion.naming import ORIGINAL, percent_label, variant_id  # noqa: F401 (re-exported)

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

    @property
    def is_gqa(self) -> bool:
        return self.num_kv_heads != self.num_heads

    @property
    def group_size(self) -> int:
        """Query heads per KV head."""
        return self.num_heads // self.num_kv_heads

    @property
    def prunable_parameters(self) -> int:
        """Parameters of one layer that the pruning groups cover (every head and every neuron)."""
        return self.num_heads * self.head_parameters + self.intermediate_size * self.neuron_parameters


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

    @property
    def layer_indices(self) -> list[int]:
        return list(range(self.layers[0], self.layers[1] + 1))

    @property
    def removed_parameters(self) -> int:
        arch = self.architecture
        per_layer = self.heads * arch.head_parameters + self.neurons * arch.neuron_parameters
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
            "llm_pruner_args": llm_pruner_args(self),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PruningPlan":
        first, last = data["layers"]
        return cls(
            layers=(int(first), int(last)),
            share=float(data["share"]),
            ratio=float(data["ratio"]),
            heads=int(data["heads"]),
            kv_heads=int(data["kv_heads"]),
            neurons=int(data["neurons"]),
            architecture=Architecture(**data["architecture"]),
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


def _as_module(model_or_config: Any) -> "nn.Module":
    """A module tree (meta device when built here) from a model, a transformers config or a registry entry."""
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
    raise TypeError(f"plan() takes a model, a transformers config or a registry entry, got {type(model_or_config).__name__}")


def _weight_in(module: "nn.Module") -> int:
    return int(module.weight.shape[1])


def _weight_out(module: "nn.Module") -> int:
    return int(module.weight.shape[0])


def _bias(module: "nn.Module") -> int:
    return 1 if getattr(module, "bias", None) is not None else 0


def _layer_facts(layer: "nn.Module") -> tuple[int, ...]:
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
    """The pruning-relevant facts of a Llama-like model (meta device is enough)."""
    from lmanatomy.models.adapters import adapter_for, parameter_count

    model = _as_module(model_or_config)
    adapter = adapter_for(model)
    if adapter.family not in SUPPORTED_FAMILIES:
        raise RegistryError(
            f"lesion pruning supports the Llama-like families {SUPPORTED_FAMILIES}, not '{adapter.family}'"
        )
    layers = adapter.decoder_layers(model)
    facts = {_layer_facts(layer) for layer in layers}
    if len(facts) != 1:
        raise RegistryError(f"decoder layers of this {adapter.family} model differ in shape ({sorted(facts)}); the plan assumes equal layers")
    hidden, heads, kv_heads, head_dim, intermediate = facts.pop()
    if heads % kv_heads:
        raise RegistryError(f"{heads} query heads do not divide into {kv_heads} KV heads")
    attn, mlp = layers[0].self_attn, layers[0].mlp
    # One query head: its head_dim rows of q (weights + bias) and head_dim input columns of o.
    head = head_dim * (_weight_in(attn.q_proj) + _bias(attn.q_proj)) + head_dim * _weight_out(attn.o_proj)
    if kv_heads == heads:  # MHA: a head also takes its k and v rows (LLM-Pruner's attention group)
        head += head_dim * (_weight_in(attn.k_proj) + _bias(attn.k_proj) + _weight_in(attn.v_proj) + _bias(attn.v_proj))
    neuron = (_weight_in(mlp.gate_proj) + _bias(mlp.gate_proj) + _weight_in(mlp.up_proj) + _bias(mlp.up_proj)
              + _weight_out(mlp.down_proj))
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
    )


def _removed(channels: int, ratio: float) -> int:
    """Channels MetaPruner removes at a per-layer ratio: all but ``int(channels * (1 - ratio))``."""
    return channels - int(channels * (1.0 - ratio))


def plan_for(arch: Architecture, layers: tuple[int, int] | list[int], share: float) -> PruningPlan:
    """The plan for a known architecture (see the module docstring for the rounding)."""
    if len(layers) != 2:
        raise ConfigError("layers", f"a layer range is [first, last], got {list(layers)}")
    first, last = int(layers[0]), int(layers[1])
    if not 0 <= first <= last < arch.num_layers:
        raise ConfigError("layers", f"layer range [{first}, {last}] is outside the model (layers 0..{arch.num_layers - 1})")
    if not 0.0 < share < 1.0:
        raise ConfigError("share", f"the share of the model to remove must lie in (0, 1), got {share}")
    n_layers = last - first + 1
    ratio = share * arch.total_parameters / n_layers / arch.prunable_parameters
    if ratio >= 1.0:
        raise ConfigError("share", f"removing {share:.2%} of the model from {n_layers} layers needs more than all their prunable weights")
    neurons = _removed(arch.intermediate_size, ratio)
    heads = _removed(arch.num_heads * arch.head_dim, ratio) // arch.head_dim
    heads = heads // arch.num_kv_heads * arch.num_kv_heads if arch.is_gqa else heads
    if heads >= arch.num_heads or neurons >= arch.intermediate_size:
        raise ConfigError("share", f"a per-layer ratio of {ratio:.3f} would remove every head or every neuron of a layer")
    return PruningPlan(
        layers=(first, last),
        share=float(share),
        ratio=ratio,
        heads=heads,
        kv_heads=0 if arch.is_gqa else heads,
        neurons=neurons,
        architecture=arch,
    )


def plan(model_or_config: Any, layers: tuple[int, int] | list[int] = (4, 8), share: float = 0.005) -> PruningPlan:
    """Heads and MLP neurons to remove per layer so that ``share`` of the WHOLE model goes, from ``layers`` only.

    ``model_or_config``: a model (the meta device suffices), a transformers config or a registry
    entry. ``layers``: inclusive (first, last) decoder-layer indices, as the paper writes them.
    """
    return plan_for(architecture_of(model_or_config), layers, share)


def plan_variants(model_or_config: Any, shares: list[float], layer_ranges: list[list[int]]) -> dict[str, PruningPlan]:
    """Every (share, layer range) plan by lesion name, share-major as the paper's Table 1 orders its columns."""
    arch = architecture_of(model_or_config)
    return {variant_id(s, r): plan_for(arch, r, s) for s in shares for r in layer_ranges}


def save_plans(plans: dict[str, PruningPlan], path: str | Path) -> None:
    from lmanatomy.tables import atomic_write_text

    atomic_write_text(path, json.dumps({k: p.to_dict() for k, p in plans.items()}, indent=1) + "\n")


def read_plans(path: str | Path) -> dict[str, PruningPlan]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {k: PruningPlan.from_dict(v) for k, v in data.items()}
