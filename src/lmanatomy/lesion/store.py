"""Pruned models on disk: the pruned layers' tensors + a shape map + a reference to the base.

A pruned layer has shapes that stock ``from_pretrained`` refuses, and a full copy per lesion
would cost 13 GB per pruned Llama-2-7B (10 in the paper's setup). So a pruned model is stored as

* ``pruned_layers.safetensors``: only the sliced q/k/v/o and gate/up/down tensors of the pruned
  layers (full checkpoint key names, the base checkpoint's dtype), never a pickle;
* ``shape_map.json``: per pruned layer the heads kept, KV heads, intermediate size and the removed
  head and neuron indices; the plan; and the base model's folder and weight hashes (from its
  ``provenance.json``).

Reloading builds the base model, resizes the pruned layers per the shape map and loads the
tensors; a base whose recorded weight hashes differ from the ones the pruning saw is an error,
because the unpruned layers would then come from other weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from lmanatomy.errors import DataError
from lmanatomy.lesion.planning import PruningPlan
from lmanatomy.lesion.prune import (
    ATTENTION,
    MLP,
    LayerPruning,
    layers_of,
    load_layer,
    prune_layer_tensors,
)

FORMAT = "lmanatomy-pruned/1"
TENSORS = "pruned_layers.safetensors"
SHAPE_MAP = "shape_map.json"


def _key_files(base_dir: Path) -> dict[str, Path]:
    """Tensor name → safetensors file of a (possibly sharded) checkpoint folder."""
    index = base_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        return {key: base_dir / name for key, name in weight_map.items()}
    from safetensors import safe_open

    files = sorted(base_dir.glob("*.safetensors"))
    if not files:
        raise DataError(f"{base_dir}: no .safetensors weights")
    out: dict[str, Path] = {}
    for path in files:
        with safe_open(str(path), framework="pt") as fh:
            out.update({key: path for key in fh.keys()})
    return out


def read_layer_tensors(
    base_dir: str | Path, layers_path: str, layer: int
) -> dict[str, torch.Tensor]:
    """One layer's q/k/v/o and gate/up/down tensors straight
    from a checkpoint, keyed relative to the layer."""
    from safetensors import safe_open

    base_dir = Path(base_dir)
    files = _key_files(base_dir)
    prefix = f"{layers_path}.{layer}."
    wanted = {f"{prefix}{m}.{p}": f"{m}.{p}" for m in ATTENTION + MLP for p in ("weight", "bias")}
    out: dict[str, torch.Tensor] = {}
    for key, short in wanted.items():
        if key in files:
            with safe_open(str(files[key]), framework="pt") as fh:
                out[short] = fh.get_tensor(key)
    if not out:
        raise DataError(
            f"{base_dir}: no tensors named '{prefix}*' (is this the model the plan was made for?)"
        )
    return out


def base_reference(base_dir: str | Path) -> dict[str, Any]:
    from lmanatomy.models.loading import read_provenance

    provenance = read_provenance(base_dir)
    if "weights_sha256" not in provenance:
        raise DataError(
            f"{base_dir}/provenance.json has no weights_sha256; re-run its fetch/convert rule"
        )
    return {
        "path": str(base_dir),
        "name": provenance.get("name"),
        "weights_sha256": provenance["weights_sha256"],
    }


def prune_checkpoint(
    base_dir: str | Path, plan: PruningPlan
) -> tuple[dict[str, torch.Tensor], list[LayerPruning]]:
    """Prune the plan's layers from a prepared model folder without building the model.

    The parameters actually removed (counted from tensor sizes) must equal the plan's count.
    """
    arch = plan.architecture
    tensors: dict[str, torch.Tensor] = {}
    records = []
    removed = 0
    for index in plan.layer_indices:
        original = read_layer_tensors(base_dir, arch.layers_path, index)
        pruned, record = prune_layer_tensors(original, plan, index)
        removed += sum(t.numel() for t in original.values()) - sum(
            t.numel() for t in pruned.values()
        )
        tensors.update({f"{arch.layers_path}.{index}.{name}": t for name, t in pruned.items()})
        records.append(record)
    if removed != plan.removed_parameters:
        raise DataError(
            f"{base_dir}: pruning removed {removed:,} parameters, the plan says "
            f"{plan.removed_parameters:,}"
        )
    return tensors, records


def shape_map(
    plan: PruningPlan, records: list[LayerPruning], base: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "base": base,
        "plan": plan.to_dict(),
        "layers": {str(r.layer): r.to_dict() for r in records},
        "tensors": TENSORS,
    }


def save_pruned(
    out_dir: str | Path, tensors: dict[str, torch.Tensor], mapping: dict[str, Any]
) -> Path:
    """Write tensors and shape map into ``out_dir``
    (assembled in a scratch folder, then renamed)."""
    from safetensors.torch import save_file

    from lmanatomy.models.loading import move_into_place, scratch_dir

    out_dir = Path(out_dir)
    tmp = scratch_dir(out_dir)
    save_file(
        {k: v.contiguous() for k, v in sorted(tensors.items())},
        str(tmp / TENSORS),
        metadata={"format": FORMAT},
    )
    (tmp / SHAPE_MAP).write_text(
        json.dumps(mapping, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return move_into_place(tmp, out_dir)


def read_shape_map(pruned_dir: str | Path) -> dict[str, Any]:
    path = Path(pruned_dir) / SHAPE_MAP
    if not path.is_file():
        raise DataError(f"{pruned_dir} is not a pruned model folder (no {SHAPE_MAP})")
    mapping = json.loads(path.read_text(encoding="utf-8"))
    if mapping.get("format") != FORMAT:
        raise DataError(f"{path}: format '{mapping.get('format')}' is not '{FORMAT}'")
    return mapping


def check_base(mapping: dict[str, Any], base_dir: str | Path) -> None:
    """Fail unless ``base_dir``'s recorded weight hashes are those the pruning read."""
    current = base_reference(base_dir)["weights_sha256"]
    if current != mapping["base"]["weights_sha256"]:
        raise DataError(
            f"base model {base_dir}: weights sha256 {current} differ from "
            f"{mapping['base']['weights_sha256']} recorded when this model was pruned; prune "
            "again from the current base"
        )


def apply_pruned(model: torch.nn.Module, pruned_dir: str | Path) -> torch.nn.Module:
    """Resize ``model``'s pruned layers per the shape map and load the pruned tensors (in place)."""
    from safetensors.torch import load_file

    pruned_dir = Path(pruned_dir)
    mapping = read_shape_map(pruned_dir)
    plan = PruningPlan.from_dict(mapping["plan"])
    saved = load_file(str(pruned_dir / mapping["tensors"]))
    records = [
        LayerPruning(
            int(key),
            tuple(entry["removed_heads"]),
            tuple(entry["removed_neurons"]),
            entry["num_heads"],
            entry["num_key_value_heads"],
            entry["intermediate_size"],
        )
        for key, entry in mapping["layers"].items()
    ]
    return install_pruned(model, plan, saved, records)


def install_pruned(
    model: torch.nn.Module,
    plan: PruningPlan,
    tensors: dict[str, torch.Tensor],
    records: list[LayerPruning],
) -> torch.nn.Module:
    """Resize the recorded layers of ``model`` and load
    their pruned tensors (full checkpoint keys), in place.

    Shared by the reload from disk and the in-memory lesions of one evaluation job, so that both
    give the model the same tensors in the same dtype and device.
    """
    arch = plan.architecture
    layers = layers_of(model, arch)
    for record in sorted(records, key=lambda r: r.layer):
        prefix = f"{arch.layers_path}.{record.layer}."
        weight = layers[
            record.layer
        ].self_attn.q_proj.weight  # the layer's own device (device_map="auto" spreads layers)
        device, dtype = weight.device, weight.dtype
        own = {
            k[len(prefix) :]: v.to(device=device, dtype=dtype)
            for k, v in tensors.items()
            if k.startswith(prefix)
        }
        load_layer(layers[record.layer], record, own)
    return model


def load_pruned(
    pruned_dir: str | Path,
    device: str = "cpu",
    dtype: str = "float32",
    base_dir: str | Path | None = None,
    attn_implementation: str | None = None,
):
    """(model, tokenizer) of a pruned model: the base model with the pruned layers swapped in."""
    from lmanatomy.models.loading import load_model

    mapping = read_shape_map(pruned_dir)
    base_dir = Path(base_dir if base_dir is not None else mapping["base"]["path"])
    check_base(mapping, base_dir)
    model, tokenizer = load_model(
        base_dir, device=device, dtype=dtype, attn_implementation=attn_implementation
    )
    return apply_pruned(model, pruned_dir), tokenizer
