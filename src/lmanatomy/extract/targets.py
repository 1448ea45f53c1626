"""Which modules a probe hooks: adapter roles resolved on one model, with store column names.

Column names are stable across architectures in shape (``layers.<i>.<path in the layer>``,
``layers.<i>`` for a decoder layer, ``hidden_states.<k>``) so that analyses can group columns by
layer without knowing the model family.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from lmanatomy.errors import ExtractError
from lmanatomy.extract.probe import Probe
from lmanatomy.models.adapters import adapter_for


@dataclass(frozen=True)
class Target:
    """One hooked module: its store column, the decoder layer it belongs to, output or input."""

    column: str
    module: nn.Module
    layer: int
    capture: str
    role: str

    @property
    def module_name(self) -> str:
        """The path inside the decoder layer ('' for the layer itself or a hidden state)."""
        parts = self.column.split(".", 2)
        return parts[2] if self.column.startswith("layers.") and len(parts) == 3 else ""


def resolve_targets(model: nn.Module, probe: Probe) -> list[Target]:
    """The probe's modules on ``model``, in forward order (layer by layer)."""
    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    if not layers:
        raise ExtractError(f"{type(model).__name__} has no decoder layers")
    role, capture = probe.modules, probe.capture
    targets: list[Target] = []
    for index, layer in enumerate(layers):
        if role == "linears":
            for name, module in adapter.linears(layer):
                targets.append(Target(f"layers.{index}.{name}", module, index, capture, role))
        elif role == "ff_activation":
            module = adapter.ff_activation_module(layer)
            targets.append(
                Target(f"layers.{index}.{adapter.ff_activation}", module, index, capture, role)
            )
        elif role == "ff_input":
            module = adapter.ff_input_module(layer)
            targets.append(
                Target(f"layers.{index}.{adapter.ff_input}", module, index, capture, role)
            )
        elif role == "residual":
            targets.append(Target(f"layers.{index}", layer, index, capture, role))
        elif role == "hidden_states":
            # hidden_states[k] for k < L is the input of decoder layer k (embeddings for k = 0).
            targets.append(Target(f"hidden_states.{index}", layer, index, "input", role))
    if role == "hidden_states":
        last = len(layers)
        if probe.last_layer == "raw":
            targets.append(Target(f"hidden_states.{last}", layers[-1], last - 1, "output", role))
        else:
            targets.append(
                Target(
                    f"hidden_states.{last}",
                    adapter.final_norm_module(model),
                    last - 1,
                    "output",
                    role,
                )
            )
    _check_distinct(targets)
    return targets


def _check_distinct(targets: list[Target]) -> None:
    """A module object shared between layers would fire its hook once per use: refuse it."""
    seen: dict[tuple[int, str], str] = {}
    for target in targets:
        key = (id(target.module), target.capture)
        if key in seen:
            raise ExtractError(
                f"modules '{seen[key]}' and '{target.column}' are the same object; "
                "hooking it cannot tell the two apart"
            )
        seen[key] = target.column
