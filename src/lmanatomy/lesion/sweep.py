"""Every lesion of one model evaluated in one process: one model load, each lesion pruned in memory.

Loading torch, transformers and the model costs more than evaluating a small model on a few
samples, so the default run evaluates the original and all its lesions in one job. For each
lesion the pruned layers are cut from the base checkpoint (``prune_checkpoint``, the same tensors
a saved pruned model holds) and installed into the loaded model (``install_pruned``, the same
function the reload from disk uses); before the next lesion every layer touched is put back from
a copy of the original layer tensors taken right after loading. So each lesion is evaluated on
exactly the model ``load_pruned`` would build, and the scores equal those of one job per lesion
(a test compares the written bytes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from lmanatomy.evaluation import GenerationSettings, evaluate
from lmanatomy.lesion.naming import ORIGINAL
from lmanatomy.lesion.planning import PruningPlan
from lmanatomy.lesion.prune import LayerPruning, layer_tensors, layers_of, load_layer
from lmanatomy.lesion.store import install_pruned, prune_checkpoint


def _snapshot(model: torch.nn.Module, plans: Mapping[str, PruningPlan]) -> dict[int, dict[str, torch.Tensor]]:
    """CPU copies of the original tensors of every layer some lesion prunes (index → tensors)."""
    indices = sorted({i for plan in plans.values() for i in plan.layer_indices})
    if not indices:
        return {}
    layers = layers_of(model, next(iter(plans.values())).architecture)
    return {i: {k: v.detach().to("cpu", copy=True) for k, v in layer_tensors(layers[i]).items()} for i in indices}


@torch.no_grad()
def _restore(model: torch.nn.Module, plan: PruningPlan, originals: Mapping[int, Mapping[str, torch.Tensor]]) -> None:
    """Give ``plan``'s layers back their original shapes and tensors."""
    arch = plan.architecture
    layers = layers_of(model, arch)
    for index in plan.layer_indices:
        whole = LayerPruning(index, (), (), arch.num_heads, arch.num_kv_heads, arch.intermediate_size)
        load_layer(layers[index], whole, originals[index])


def evaluate_lesions(
    base_dir: str | Path,
    variants: list[str],
    plans: Mapping[str, PruningPlan],
    tasks: Mapping[str, Mapping[str, Any]],
    settings: GenerationSettings,
    max_num_samples: int | Mapping[str, int] | None = None,
    device: str = "cpu",
    dtype: str = "float32",
) -> Iterator[tuple[str, pd.DataFrame, list[dict[str, Any]], list[LayerPruning]]]:
    """(variant, predictions, task summaries, layers pruned) for each of ``variants`` in order.

    ``variants``: ``ORIGINAL`` and/or names of ``plans``. The model is loaded once from
    ``base_dir``; a lesion's pruning checks that the parameters removed equal its plan's count.
    """
    from lmanatomy.models import load_model

    unknown = [v for v in variants if v != ORIGINAL and v not in plans]
    if unknown:
        raise KeyError(f"lesions {unknown} have no plan (planned: {', '.join(plans)})")
    model, tokenizer = load_model(base_dir, device, dtype)
    used = {v: plans[v] for v in variants if v != ORIGINAL}
    originals = _snapshot(model, used)
    for variant in variants:
        records: list[LayerPruning] = []
        plan = used.get(variant)
        if plan is not None:
            tensors, records = prune_checkpoint(base_dir, plan)
            install_pruned(model, plan, tensors, records)
        predictions, summaries = evaluate(model, tokenizer, tasks, settings, max_num_samples)
        yield variant, predictions, summaries, records
        if plan is not None:
            _restore(model, plan, originals)
