"""Every lesion of one model evaluated in one process: one model load, each lesion pruned in memory.

Loading torch, transformers and the model costs more than evaluating a small model on a few
samples, so the default run evaluates the original and all its lesions in one job. For each
lesion the pruned layers are cut from the base checkpoint (``prune_checkpoint``, the same tensors
a saved pruned model holds) and installed into the loaded model (``install_pruned``, the same
function the reload from disk uses); before the next lesion every layer touched is put back from
a copy of the original layer tensors taken right after loading. So each lesion is evaluated on
exactly the model ``load_pruned`` would build, and the scores equal those of one job per lesion
(a test compares the written bytes).

When the original is evaluated before lesions, its prompt passes are recorded for the layers in
front of each lesion's first pruned layer and replayed into that lesion instead of recomputed
(``lmanatomy.lesion.replay``: same bits, fewer layers run; ``reuse_prefix_layers=False`` computes
everything, the reference the tests compare against).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from lmanatomy.evaluation import GenerationSettings, evaluate
from lmanatomy.lesion.naming import ORIGINAL
from lmanatomy.lesion.planning import PruningPlan
from lmanatomy.lesion.prune import LayerPruning, layer_tensors, layers_of, load_layer
from lmanatomy.lesion.replay import PromptStates, supports_replay
from lmanatomy.lesion.store import install_pruned, prune_checkpoint


def _snapshot(
    model: torch.nn.Module, plans: Mapping[str, PruningPlan]
) -> dict[int, dict[str, torch.Tensor]]:
    """CPU copies of the original tensors of every layer some lesion prunes (index → tensors)."""
    indices = sorted({i for plan in plans.values() for i in plan.layer_indices})
    if not indices:
        return {}
    layers = layers_of(model, next(iter(plans.values())).architecture)
    return {
        i: {k: v.detach().to("cpu", copy=True) for k, v in layer_tensors(layers[i]).items()}
        for i in indices
    }


@torch.no_grad()
def _restore(
    model: torch.nn.Module, plan: PruningPlan, originals: Mapping[int, Mapping[str, torch.Tensor]]
) -> None:
    """Give ``plan``'s layers back their original shapes and tensors."""
    arch = plan.architecture
    layers = layers_of(model, arch)
    for index in plan.layer_indices:
        whole = LayerPruning(
            index, (), (), arch.num_heads, arch.num_kv_heads, arch.intermediate_size
        )
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
    reuse_prefix_layers: bool = True,
) -> Iterator[tuple[str, pd.DataFrame, list[dict[str, Any]], list[LayerPruning]]]:
    """(variant, predictions, task summaries, layers pruned) for each of ``variants`` in order.

    ``variants``: ``ORIGINAL`` and/or names of ``plans``. The model is loaded once from
    ``base_dir``; a lesion's pruning checks that the parameters removed equal its plan's count.
    ``reuse_prefix_layers``: lesions after the original replay its prompt states (module docstring).
    """
    from lmanatomy.models import load_model

    unknown = [v for v in variants if v != ORIGINAL and v not in plans]
    if unknown:
        raise KeyError(f"lesions {unknown} have no plan (planned: {', '.join(plans)})")
    model, tokenizer = load_model(base_dir, device, dtype)
    used = {v: plans[v] for v in variants if v != ORIGINAL}
    originals = _snapshot(model, used)
    states = _prompt_states(model, variants, used) if reuse_prefix_layers else None
    for variant in variants:
        records: list[LayerPruning] = []
        plan = used.get(variant)
        if plan is not None:
            tensors, records = prune_checkpoint(base_dir, plan)
            install_pruned(model, plan, tensors, records)
        with _reuse(states, model, plan):
            hook = states.prompt_pass if states is not None else None
            predictions, summaries = evaluate(
                model, tokenizer, tasks, settings, max_num_samples, prompt_pass=hook
            )
        yield variant, predictions, summaries, records
        if plan is not None:
            _restore(model, plan, originals)


def _prompt_states(
    model: torch.nn.Module, variants: list[str], plans: Mapping[str, PruningPlan]
) -> PromptStates | None:
    """The recorder for the lesions evaluated after the original,
    None when there are none (or no replay is possible)."""
    if ORIGINAL not in variants or not supports_replay(model):
        return None
    later = [plans[v] for v in variants[variants.index(ORIGINAL) + 1 :] if v in plans]
    states = (
        PromptStates(later[0].architecture, (min(p.layer_indices) for p in later))
        if later
        else None
    )
    return states if states is not None and states.starts else None


def _reuse(
    states: PromptStates | None, model: torch.nn.Module, plan: PruningPlan | None
) -> AbstractContextManager[Any]:
    """Record on the original, replay into a lesion
    whose start was recorded, else compute as usual."""
    if states is None:
        return nullcontext()
    if plan is None:
        return states.recording(model)
    start = min(plan.layer_indices)
    return states.replaying(model, start) if states.can_replay(start) else nullcontext()
