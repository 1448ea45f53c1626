"""Fixing language-specific neurons during generation (Kojima et al. 2024, §4).

A chosen neuron is one output channel of one decoder-layer linear. During generation a forward
hook on that linear overwrites the channel with a fixed value — the median of the neuron's
per-text mean activation over the target language's texts — at every position of every
forward call (the prompt and each generated token), in every layer that holds a chosen neuron.

Rows of one batch may carry different interventions (no intervention, top, bottom or both, for
different languages), so that all conditions of a run share the batched forward passes: each
hooked linear gets a (patterns × channels) mask and value matrix, each row picks its pattern,
and rows without an intervention pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

import numpy as np
import pandas as pd
import torch
from torch import nn

from lmanatomy.errors import DataError
from lmanatomy.hooks import hooks

NEURON_COLUMNS = ("module", "channel", "value")


def resolve_module(model: nn.Module, column: str) -> nn.Module:
    """The module behind a store column name
    ``layers.<i>.<name>`` (via the architecture adapter)."""
    from lmanatomy.models.adapters import adapter_for

    parts = column.split(".", 2)
    if len(parts) != 3 or parts[0] != "layers" or not parts[1].isdigit():
        raise DataError(f"module name '{column}' is not of the form layers.<index>.<name>")
    layers = adapter_for(model).decoder_layers(model)
    index = int(parts[1])
    if index >= len(layers):
        raise DataError(f"module '{column}': the model has {len(layers)} decoder layers")
    try:
        return layers[index].get_submodule(parts[2])
    except AttributeError:
        raise DataError(
            f"module '{column}': decoder layer {index} has no submodule '{parts[2]}'"
        ) from None


def _width(module: nn.Module) -> int:
    if isinstance(module, nn.Linear):
        return module.out_features
    weight = getattr(module, "weight", None)
    if weight is not None and type(module).__name__ == "Conv1D":
        return int(weight.shape[1])
    raise DataError(
        f"{type(module).__name__} is not a linear map; only linear output channels can be fixed"
    )


class NeuronIntervention:
    """Forward hooks that fix chosen output channels, row by row of a batch.

    ``patterns`` are the distinct interventions of a batch: each a frame with columns module,
    channel, value (the neurons to fix and their values) or ``None`` (no intervention).
    ``assignment`` gives each batch row its pattern; without it there must be one pattern, which
    applies to every row of any batch. Storing patterns rather than rows keeps the memory at
    (patterns × hooked channels) however many seeds share a pattern. Use as a context manager;
    :meth:`keep_rows` follows a batch that drops finished rows.
    """

    def __init__(
        self,
        model: nn.Module,
        patterns: Sequence[pd.DataFrame | None],
        assignment: Sequence[int] | None = None,
    ):
        if len(patterns) == 0:
            raise DataError("an intervention needs at least one pattern")
        if assignment is None and len(patterns) != 1:
            raise DataError(
                f"{len(patterns)} intervention patterns need an assignment of batch rows to "
                "patterns"
            )
        self.model = model
        self.patterns = len(patterns)
        self.masks: dict[str, torch.Tensor] = {}
        self.values: dict[str, torch.Tensor] = {}
        self.modules: dict[str, nn.Module] = {}
        self._hooks = ExitStack()
        for pattern, neurons in enumerate(patterns):
            if neurons is None or len(neurons) == 0:
                continue
            missing = [c for c in NEURON_COLUMNS if c not in neurons.columns]
            if missing:
                raise DataError(
                    f"intervention pattern {pattern}: neuron frame lacks columns {missing}"
                )
            for column, group in neurons.groupby("module", sort=True):
                self._add(
                    pattern, str(column), group["channel"].to_numpy(), group["value"].to_numpy()
                )
        self.assignment: torch.Tensor | None = None
        if assignment is not None:
            rows = torch.as_tensor(list(assignment), dtype=torch.long)
            if rows.numel() == 0 or rows.min() < 0 or rows.max() >= len(patterns):
                raise DataError(f"intervention assignment must index the {len(patterns)} patterns")
            device = next(model.parameters()).device
            self.assignment = rows.to(device)

    @property
    def rows(self) -> int | None:
        """Batch rows the intervention expects (``None``: any batch, one pattern for all)."""
        return None if self.assignment is None else int(self.assignment.numel())

    def _add(self, pattern: int, column: str, channels: np.ndarray, values: np.ndarray) -> None:
        if column not in self.modules:
            module = resolve_module(self.model, column)
            parameter = next(module.parameters())
            width = _width(module)
            self.modules[column] = module
            self.masks[column] = torch.zeros(
                self.patterns, width, dtype=torch.bool, device=parameter.device
            )
            self.values[column] = torch.zeros(
                self.patterns, width, dtype=parameter.dtype, device=parameter.device
            )
        width = self.masks[column].shape[1]
        if channels.min() < 0 or channels.max() >= width:
            raise DataError(
                f"module '{column}' has {width} output channels; got channels "
                f"{channels.min()}..{channels.max()}"
            )
        if not np.isfinite(values).all():
            raise DataError(f"module '{column}': fixed values contain NaN or inf")
        index = torch.tensor(np.asarray(channels, dtype=np.int64), device=self.masks[column].device)
        self.masks[column][pattern, index] = True
        self.values[column][pattern, index] = torch.tensor(
            np.asarray(values, dtype=np.float64), device=index.device
        ).to(self.values[column].dtype)

    @property
    def neurons(self) -> int:
        """How many (pattern, neuron) pairs are fixed."""
        return int(sum(int(mask.sum()) for mask in self.masks.values()))

    def keep_rows(self, keep: torch.Tensor) -> None:
        """Keep only the batch rows ``keep`` (indices), as a generation loop drops finished rows."""
        if self.assignment is not None:
            self.assignment = self.assignment[keep.to(self.assignment.device)]

    def _hook(self, column: str):
        def overwrite(module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
            mask, values = self.masks[column], self.values[column]
            if self.assignment is not None:
                if output.shape[0] != self.assignment.numel():
                    raise DataError(
                        f"module '{column}': batch of {output.shape[0]} rows but the intervention "
                        f"assigns {self.assignment.numel()}"
                    )
                mask, values = mask[self.assignment], values[self.assignment]
            shape = (mask.shape[0],) + (1,) * (output.ndim - 2) + (mask.shape[1],)
            return torch.where(mask.view(shape), values.view(shape).to(output.dtype), output)

        return overwrite

    def __enter__(self) -> NeuronIntervention:
        self._hooks.enter_context(
            hooks([(module, self._hook(column)) for column, module in self.modules.items()])
        )
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.close()
