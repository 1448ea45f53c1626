"""Validation experiments 1 and 2 of Wang, Dai & Sui
(2024): pruning guided by the activation patterns.

Criterion. The released code (``wanda_test.py`` → ``lib/util/prune_ori.py``, functions
``prune_wanda`` and ``prune_wanda_pro``, commit 9350311) prunes with Wanda: a weight's score is
|W_ij| · ‖X_j‖₂ (‖X_j‖ the L2 norm of input feature j over every calibration token), and in each
output row of each linear the ``int(columns · ratio)`` lowest-scoring weights are zeroed. Layers
are pruned in order, each with inputs that went through the already pruned layers before it.
``magnitude`` (|W_ij|, same per-row rule) is offered for comparison.

Experiment 1 (per-layer ratios). ``prune_wanda_pro`` replaces the uniform ratio by a hard-coded
ratio per layer (for Llama-2-7B: 0.570 at layer 0, 0.46–0.47 in layers 3–10, rising to 0.573 at
layer 31; mean exactly 0.5; correlation −0.94 with the code's own recorded C4 counts). The
formula that turned counts into ratios is not in the released code; :func:`allocate_ratios`
makes the relation explicit — denser layers (finding 1) are pruned less — and keeps the global
sparsity exactly, so that it can be computed from any run's counts.

Experiment 2 (calibration × evaluation). The same uniform Wanda pruning with calibration inputs
from one dataset at a time (the code's ``--jz_set``), each pruned model scored on every
evaluation set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from lmanatomy.errors import ConfigError, DataError
from lmanatomy.hooks import hooks

CRITERIA = ("wanda", "magnitude")


def allocate_ratios(
    density: Sequence[float], sizes: Sequence[int], sparsity: float, spread: float
) -> np.ndarray:
    """Per-layer prune ratios from a density profile, at the global ``sparsity``.

    S_i = s − spread · (d_i − d̄) / max_j |d_j − d̄|, with d̄ the size-weighted mean density: the
    densest layer is pruned ``spread`` less than ``s`` (or the sparsest ``spread`` more), and
    Σ S_i·n_i = s·Σ n_i exactly, because the offsets are centred with the same weights.
    """
    d = np.asarray(density, dtype=np.float64)
    n = np.asarray(sizes, dtype=np.float64)
    if d.shape != n.shape or d.ndim != 1 or len(d) == 0:
        raise DataError(
            f"density ({d.shape}) and layer sizes ({n.shape}) must be equal-length vectors"
        )
    if not 0.0 < sparsity < 1.0:
        raise ConfigError("paramact.validation.sparsity", f"must lie in (0, 1), got {sparsity}")
    if spread < 0:
        raise ConfigError("paramact.validation.spread", f"must be ≥ 0, got {spread}")
    centred = d - (d * n).sum() / n.sum()
    scale = np.abs(centred).max()
    flat = scale <= 1e-12 * max(
        float(np.abs(d).max()), 1e-300
    )  # equal densities: rounding, not a profile
    ratios = np.full_like(d, sparsity) if flat else sparsity - spread * centred / scale
    if (ratios < 0).any() or (ratios >= 1).any():
        raise ConfigError(
            "paramact.validation.spread",
            f"spread {spread} gives ratios outside [0, 1): "
            f"{ratios.min():.3f} .. {ratios.max():.3f}",
        )
    return ratios


def row_mask(scores: torch.Tensor, ratio: float) -> torch.Tensor:
    """True where a weight is pruned: in each row, the ``int(columns · ratio)`` lowest scores
    (ties broken by position, as a stable sort does)."""
    k = int(scores.shape[1] * ratio)
    mask = torch.zeros_like(scores, dtype=torch.bool)
    if k:
        order = torch.sort(scores.float(), dim=1, stable=True).indices[:, :k]
        mask.scatter_(1, order, True)
    return mask


class _Stop(Exception):
    """Raised by a hook to end a forward pass once the layer being pruned has seen its input."""


def input_sq_norms(
    model: nn.Module,
    layer: nn.Module,
    linears: Sequence[tuple[str, nn.Module]],
    calibration: Sequence[torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Σ over calibration tokens of x_j² for every input feature j of each linear of ``layer``.

    The forward pass stops after ``layer`` (nothing later is needed), so the cost of pruning
    layer i is i+1 layers per calibration input.
    """
    sums = {
        name: torch.zeros(module.weight.shape[1], dtype=torch.float64) for name, module in linears
    }

    def collect(name: str) -> Callable:
        def hook(_module: nn.Module, inputs: tuple, _output: torch.Tensor) -> None:
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).double()
            sums[name] += (x * x).sum(dim=0).cpu()

        return hook

    def stop(_module: nn.Module, _inputs: tuple, _output: object) -> None:
        raise _Stop

    device = next(model.parameters()).device
    with (
        hooks([*((module, collect(name)) for name, module in linears), (layer, stop)]),
        torch.no_grad(),
    ):
        for ids in calibration:
            try:
                model(input_ids=ids.reshape(1, -1).to(device), use_cache=False)
            except _Stop:
                pass
    return sums


def prune_model(
    model: nn.Module,
    ratios: Sequence[float],
    calibration: Sequence[torch.Tensor],
    criterion: str = "wanda",
) -> list[float]:
    """Prune every decoder layer in order with its ratio; returns the sparsity reached per layer."""
    from lmanatomy.models.adapters import adapter_for

    if criterion not in CRITERIA:
        raise ConfigError(
            "paramact.validation.criterion",
            f"unknown criterion '{criterion}' (known: {', '.join(CRITERIA)})",
        )
    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    if len(ratios) != len(layers):
        raise DataError(f"{len(ratios)} prune ratios for {len(layers)} decoder layers")
    if criterion == "wanda" and not calibration:
        raise DataError("Wanda pruning needs calibration inputs")
    reached = []
    for layer, ratio in zip(layers, ratios, strict=True):
        linears = adapter.linears(layer)
        norms = input_sq_norms(model, layer, linears, calibration) if criterion == "wanda" else {}
        zeros = total = 0
        with torch.no_grad():
            for name, module in linears:
                weight = module.weight
                scores = weight.detach().abs().float()
                if criterion == "wanda":
                    scores = scores * norms[name].sqrt().float().to(weight.device).reshape(1, -1)
                mask = row_mask(scores, float(ratio))
                weight[mask] = 0
                zeros += int(mask.sum())
                total += mask.numel()
        reached.append(zeros / total)
    return reached
