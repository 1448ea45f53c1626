"""Structural pruning by L1 group importance, as LLM-Pruner's block-wise L1 mode does it.

A pruning group is every weight that goes when one unit goes:

* attention head: its ``head_dim`` output channels of q, k, v and input channels of o (GQA: q and
  o only, because the KV heads are kept);
* MLP neuron: its output channel of gate and up and its input channel of down.

Importance of a channel = L1 norm of its weights in one member, averaged over the group's members
(Torch-Pruning's ``MagnitudeImportance(p=1, group_reduction="mean")``); a head's importance is
the sum over its ``head_dim`` channels (LLM-Pruner's consecutive groups). The lowest go.

GQA, two modes (``plan.gqa``):

* ``keep_kv_heads``: query heads scored as above from q and o only, the lowest removed in equal
  numbers per KV group. Leaving k and v out changes no decision: within one group every query
  head shares the same k and v channels, which would add the same constant to each of them.
* ``prune_kv_groups`` (LLM-Pruner's Llama-3 path): a group is one KV head with all its query
  heads, rooted at ``k_proj``; its members are k and v rows (``kv_heads * head_dim`` channels)
  and q rows and o columns (``group_size`` times as many). LLM-Pruner's MagnitudeImportance
  aligns a longer member to the root by ``imp.view(len // n, n).sum(0)`` (n = the root's channel
  count), averages the members, and sums ``head_dim`` consecutive channels per KV group
  (LLMPruner/pruner/hf_llama_pruner.py and torch_pruning's MetaPruner at commit 128a07d). Note
  what the fold does: key channel c collects the q/o channels c, c + n, c + 2n, … — query heads of
  other groups in HF's head order — while the pruning then removes the group's own query heads.
  ``kv_group_importance`` reproduces that, quirk included.

``plan.importance_dtype``: weights are cast to it before scoring and every reduction is rounded
to it (accumulated in float32, as a GPU reduction does); LLM-Pruner on a GPU halves the model
first, so its scores are float16. float64 is exact.

The work happens on plain tensors (``prune_layer_tensors``), so that a workflow job can prune
straight from the base checkpoint's safetensors without building the model, and the same function
prunes a live model (``prune_model``). Biases are sliced with their channels and never scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from lmanatomy.errors import DataError
from lmanatomy.lesion.planning import Architecture, PruningPlan

ATTENTION = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj")
MLP = ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


@dataclass(frozen=True)
class LayerPruning:
    """What was removed from one layer (indices into the original heads and neurons, ascending)."""

    layer: int
    removed_heads: tuple[int, ...]
    removed_neurons: tuple[int, ...]
    num_heads: int
    num_kv_heads: int
    intermediate_size: int

    def to_dict(self) -> dict[str, object]:
        return {
            "removed_heads": list(self.removed_heads),
            "removed_neurons": list(self.removed_neurons),
            "num_heads": self.num_heads,
            "num_key_value_heads": self.num_kv_heads,
            "intermediate_size": self.intermediate_size,
        }


DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def _reduce(values: torch.Tensor, dim: int, dtype: str, mean: bool = False) -> torch.Tensor:
    """Sum (or mean) along ``dim`` as a reduction in ``dtype``
    gives it: float32 accumulation, result rounded."""
    if dtype == "float64":
        values = values.to(torch.float64)
        return values.mean(dim=dim) if mean else values.sum(dim=dim)
    acc = values.to(torch.float32)
    return (acc.mean(dim=dim) if mean else acc.sum(dim=dim)).to(DTYPES[dtype])


def _rows_l1(weight: torch.Tensor, dtype: str = "float64") -> torch.Tensor:
    """L1 norm of every output channel (row) of a Linear
    weight, the weight cast to ``dtype`` first."""
    return _reduce(weight.detach().to(DTYPES[dtype]).abs(), 1, dtype)


def _cols_l1(weight: torch.Tensor, dtype: str = "float64") -> torch.Tensor:
    """L1 norm of every input channel (column) of a
    Linear weight, the weight cast to ``dtype`` first."""
    return _reduce(weight.detach().to(DTYPES[dtype]).abs(), 0, dtype)


def _mean(members: list[torch.Tensor], dtype: str) -> torch.Tensor:
    return _reduce(torch.stack(members), 0, dtype, mean=True)


def head_importance(
    tensors: Mapping[str, torch.Tensor], arch: Architecture, dtype: str = "float64"
) -> torch.Tensor:
    """Importance of every query head of one layer: mean
    over members of channel L1, summed per head."""
    q = _rows_l1(tensors["self_attn.q_proj.weight"], dtype)
    o = _cols_l1(tensors["self_attn.o_proj.weight"], dtype)
    if arch.is_gqa:
        channel = _mean([q, o], dtype)
    else:
        k = _rows_l1(tensors["self_attn.k_proj.weight"], dtype)
        v = _rows_l1(tensors["self_attn.v_proj.weight"], dtype)
        channel = _mean([q, k, v, o], dtype)
    return _reduce(channel.view(arch.num_heads, arch.head_dim), 1, dtype)


def _fold(imp: torch.Tensor, size: int, dtype: str) -> torch.Tensor:
    """LLM-Pruner's alignment of a member longer than the root:
    ``imp.view(len // size, size).sum(0)``."""
    return _reduce(imp.view(len(imp) // size, size), 0, dtype)


def kv_group_importance(
    tensors: Mapping[str, torch.Tensor], arch: Architecture, dtype: str = "float64"
) -> torch.Tensor:
    """Importance of every KV group (rooted at k_proj) as
    LLM-Pruner's GQA path scores it (module docstring)."""
    k = _rows_l1(tensors["self_attn.k_proj.weight"], dtype)
    v = _rows_l1(tensors["self_attn.v_proj.weight"], dtype)
    n = len(k)
    q = _fold(_rows_l1(tensors["self_attn.q_proj.weight"], dtype), n, dtype)
    o = _fold(_cols_l1(tensors["self_attn.o_proj.weight"], dtype), n, dtype)
    return _reduce(_mean([k, v, q, o], dtype).view(arch.num_kv_heads, arch.head_dim), 1, dtype)


def neuron_importance(tensors: Mapping[str, torch.Tensor], dtype: str = "float64") -> torch.Tensor:
    """Importance of every MLP neuron of one layer: mean of gate-row, up-row and down-column L1."""
    gate = _rows_l1(tensors["mlp.gate_proj.weight"], dtype)
    up = _rows_l1(tensors["mlp.up_proj.weight"], dtype)
    down = _cols_l1(tensors["mlp.down_proj.weight"], dtype)
    return _mean([gate, up, down], dtype)


def _lowest(scores: torch.Tensor, count: int) -> list[int]:
    """Indices of the ``count`` lowest scores, ties to the lower index (stable), ascending."""
    order = torch.argsort(scores, stable=True)
    return sorted(int(i) for i in order[:count])


def heads_to_remove(scores: torch.Tensor, arch: Architecture, count: int) -> list[int]:
    """The lowest-importance heads; for GQA the lowest ``count / groups`` within every KV group."""
    if not arch.is_gqa:
        return _lowest(scores, count)
    per_group = count // arch.num_kv_heads
    removed = []
    for group in range(arch.num_kv_heads):
        offset = group * arch.group_size
        removed += [
            offset + i for i in _lowest(scores[offset : offset + arch.group_size], per_group)
        ]
    return sorted(removed)


def _keep(total: int, removed: list[int]) -> torch.Tensor:
    gone = set(removed)
    return torch.tensor([i for i in range(total) if i not in gone], dtype=torch.long)


def _channels(heads: torch.Tensor, head_dim: int) -> torch.Tensor:
    """Channel indices of whole heads."""
    return (heads[:, None] * head_dim + torch.arange(head_dim)[None, :]).reshape(-1)


def prune_layer_tensors(
    tensors: Mapping[str, torch.Tensor], plan: PruningPlan, layer: int
) -> tuple[dict[str, torch.Tensor], LayerPruning]:
    """Slice one layer's q/k/v/o and gate/up/down tensors (keys relative to the layer).

    Returns the new tensors (contiguous, same dtype) and what was removed.
    """
    arch = plan.architecture
    missing = [f"{m}.weight" for m in ATTENTION + MLP if f"{m}.weight" not in tensors]
    if missing:
        raise DataError(f"layer {layer}: tensors {missing} are missing")
    dtype = plan.importance_dtype
    groups: list[int] = []
    if arch.is_gqa and plan.gqa == "prune_kv_groups":
        groups = _lowest(kv_group_importance(tensors, arch, dtype), plan.kv_heads)
        heads = [g * arch.group_size + r for g in groups for r in range(arch.group_size)]
    else:
        heads = heads_to_remove(head_importance(tensors, arch, dtype), arch, plan.heads)
    neurons = _lowest(neuron_importance(tensors, dtype), plan.neurons)
    kept_heads = _keep(arch.num_heads, heads)
    kept_neurons = _keep(arch.intermediate_size, neurons)
    q_channels = _channels(kept_heads, arch.head_dim)
    # MHA: head h of q is head h of k and v. GQA: the KV heads of the groups kept.
    kv_channels = (
        q_channels
        if not arch.is_gqa
        else _channels(_keep(arch.num_kv_heads, groups), arch.head_dim)
    )
    rows = {
        "self_attn.q_proj": q_channels,
        "self_attn.k_proj": kv_channels,
        "self_attn.v_proj": kv_channels,
        "mlp.gate_proj": kept_neurons,
        "mlp.up_proj": kept_neurons,
    }
    cols = {"self_attn.o_proj": q_channels, "mlp.down_proj": kept_neurons}
    out: dict[str, torch.Tensor] = {}
    for module, index in rows.items():
        out[f"{module}.weight"] = tensors[f"{module}.weight"].index_select(0, index).contiguous()
        if f"{module}.bias" in tensors:
            out[f"{module}.bias"] = tensors[f"{module}.bias"].index_select(0, index).contiguous()
    for module, index in cols.items():
        out[f"{module}.weight"] = tensors[f"{module}.weight"].index_select(1, index).contiguous()
        if f"{module}.bias" in tensors:  # output bias of o / down: unchanged
            out[f"{module}.bias"] = tensors[f"{module}.bias"].clone()
    record = LayerPruning(
        layer=layer,
        removed_heads=tuple(heads),
        removed_neurons=tuple(neurons),
        num_heads=arch.num_heads - len(heads),
        num_kv_heads=arch.num_kv_heads - len(groups)
        if arch.is_gqa
        else arch.num_kv_heads - len(heads),
        intermediate_size=arch.intermediate_size - len(neurons),
    )
    return out, record


def _replace_linear(parent: nn.Module, name: str, out_features: int, in_features: int) -> None:
    old = getattr(parent, name)
    new = nn.Linear(
        in_features,
        out_features,
        bias=old.bias is not None,
        device=old.weight.device,
        dtype=old.weight.dtype,
    )
    setattr(parent, name, new)


def resize_layer(
    layer: nn.Module, num_heads: int, num_kv_heads: int, intermediate_size: int
) -> None:
    """Give one decoder layer the shapes of a pruned layer (weights are loaded afterwards).

    Stock modules read the head count from their weights' shapes, except the number of query
    heads per KV head (``num_key_value_groups``), which is set here per layer.
    """
    attn, mlp = layer.self_attn, layer.mlp
    head_dim = int(attn.head_dim)
    hidden = int(attn.q_proj.weight.shape[1])
    if num_heads % num_kv_heads:
        raise DataError(f"{num_heads} query heads do not split evenly over {num_kv_heads} KV heads")
    _replace_linear(attn, "q_proj", num_heads * head_dim, hidden)
    _replace_linear(attn, "k_proj", num_kv_heads * head_dim, hidden)
    _replace_linear(attn, "v_proj", num_kv_heads * head_dim, hidden)
    _replace_linear(attn, "o_proj", int(attn.o_proj.weight.shape[0]), num_heads * head_dim)
    attn.num_key_value_groups = num_heads // num_kv_heads
    _replace_linear(mlp, "gate_proj", intermediate_size, hidden)
    _replace_linear(mlp, "up_proj", intermediate_size, hidden)
    _replace_linear(mlp, "down_proj", int(mlp.down_proj.weight.shape[0]), intermediate_size)


def layer_tensors(layer: nn.Module) -> dict[str, torch.Tensor]:
    """The q/k/v/o and gate/up/down parameters of a live layer, keyed relative to the layer."""
    names = {f"{m}.{p}" for m in ATTENTION + MLP for p in ("weight", "bias")}
    return {name: tensor for name, tensor in layer.state_dict().items() if name in names}


def load_layer(layer: nn.Module, record: LayerPruning, tensors: Mapping[str, torch.Tensor]) -> None:
    """Resize a layer to ``record``'s shapes and load
    its pruned tensors (every one must be used)."""
    resize_layer(layer, record.num_heads, record.num_kv_heads, record.intermediate_size)
    result = layer.load_state_dict(dict(tensors), strict=False)
    if result.unexpected_keys:
        raise DataError(f"layer {record.layer}: unexpected pruned tensors {result.unexpected_keys}")
    expected = set(layer_tensors(layer))
    if expected - set(tensors):
        raise DataError(
            f"layer {record.layer}: pruned tensors missing for {sorted(expected - set(tensors))}"
        )


@torch.no_grad()
def prune_model(model: nn.Module, plan: PruningPlan) -> list[LayerPruning]:
    """Prune a live model in place, layer by layer; returns what was removed from each layer."""
    from lmanatomy.lesion.planning import architecture_of

    if architecture_of(model) != plan.architecture:
        raise DataError("the plan was made for another architecture than this model's")
    layers = list(layers_of(model, plan.architecture))
    records = []
    for index in plan.layer_indices:
        tensors, record = prune_layer_tensors(layer_tensors(layers[index]), plan, index)
        load_layer(layers[index], record, tensors)
        records.append(record)
    return records


def layers_of(model: nn.Module, arch: Architecture) -> nn.ModuleList:
    obj: object = model
    for part in arch.layers_path.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]
