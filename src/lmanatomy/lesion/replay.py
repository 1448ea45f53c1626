"""The layers in front of a lesion, computed once: the
original's prompt states replayed into each lesion.

A lesion of layers L..L+4 leaves layers 0..L−1 as they are, so on a prompt's tokens those layers
compute in the lesioned model exactly what they compute in the original: same weights, same
input ids, mask and positions, same tensor shapes (the batches are the same), hence the same bits.
While the original is evaluated, every *prompt pass* — a task's shared prefix, and each batch's
prefill inside ``generate`` — records, for every layer below the deepest lesion start, the keys
and values it appends to the KV cache, and the hidden state leaving layer L−1 for every lesion
start L. A lesion starting at L then *replays* that pass: layers 0..L−1 append the recorded keys
and values and hand the recorded state on to layer L, instead of computing. The generated tokens
(decode steps) differ between models, so they are always computed by every layer.

Each replayed pass first checks that its input ids and attention mask equal the recorded pass's,
so a replay can only ever stand in for the very computation it recorded. The recorded tensors are
kept in host memory (on the default run ~0.8 GB: the job's peak RSS went from 1.97 to 2.74 GB)
and copied to the model's device when replayed. Supported caches: the
plain full-attention ``DynamicLayer`` (sliding-window layers keep a trimmed cache, which
``supports_replay`` rules out).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lmanatomy.errors import DataError
from lmanatomy.lesion.planning import Architecture
from lmanatomy.lesion.prune import layers_of


def supports_replay(model: nn.Module) -> bool:
    """Whether every layer of ``model`` keeps a full-attention KV cache (no sliding windows)."""
    layer_types = getattr(model.config, "layer_types", None) or []
    return all(kind == "full_attention" for kind in layer_types) and not getattr(
        model.config, "sliding_window", None
    )


@dataclass
class _Pass:
    """What one prompt pass of the original computed in the layers a lesion leaves untouched."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor | None
    keys: dict[int, torch.Tensor] = field(default_factory=dict)  # layer → keys it appended
    values: dict[int, torch.Tensor] = field(default_factory=dict)
    outputs: dict[int, torch.Tensor] = field(
        default_factory=dict
    )  # start L → state leaving layer L−1


class _Tap(nn.Module):
    """Stands in for decoder layer ``index``: the first call of an armed pass (its prefill) is
    recorded or replayed by ``states``; every other call (decode steps) goes to the layer itself."""

    def __init__(self, layer: nn.Module, index: int, states: PromptStates):
        super().__init__()
        self.layer = layer
        self.index = index
        self.states = states
        self.armed = False

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not self.armed:
            return self.layer(hidden_states, *args, **kwargs)
        self.armed = False
        return self.states._prefill(self, hidden_states, args, kwargs)


class PromptStates:
    """Prompt passes of the original, recorded once and
    replayed into every lesion starting at one of ``starts``.

    Use: ``with states.recording(model): evaluate(..., prompt_pass=states.prompt_pass)`` on the
    original, then per lesion ``with states.replaying(model, start): evaluate(...)`` with the same
    tasks, prompts and settings (checked pass by pass).
    """

    def __init__(self, architecture: Architecture, starts: Iterable[int]):
        self.architecture = architecture
        self.starts = sorted(
            {int(s) for s in starts if int(s) > 0}
        )  # a lesion from layer 0 has nothing before it
        if any(s >= architecture.num_layers for s in self.starts):
            raise DataError(
                f"lesion starts {self.starts} go beyond the model's {architecture.num_layers} "
                "layers"
            )
        self._passes: list[_Pass] = []
        self._recorded = False
        self._mode: str | None = None
        self._start = 0
        self._cursor = 0
        self._current: _Pass | None = None
        self._taps: list[_Tap] = []

    @property
    def depth(self) -> int:
        """Layers recorded: those below the deepest start."""
        return max(self.starts, default=0)

    def can_replay(self, start: int) -> bool:
        return self._recorded and start in self.starts

    @contextmanager
    def recording(self, model: nn.Module) -> Iterator[PromptStates]:
        """Record every prompt pass run inside the block (on the original model)."""
        if self._recorded:
            raise RuntimeError("prompt states were recorded already")
        with self._tapped(model, "record", self.depth):
            yield self
        self._recorded = True

    @contextmanager
    def replaying(self, model: nn.Module, start: int) -> Iterator[PromptStates]:
        """Replay the recorded passes, in order, into layers
        0..start−1 of a lesion starting at ``start``."""
        if not self.can_replay(start):
            raise RuntimeError(f"no recorded prompt states for a lesion starting at layer {start}")
        self._start, self._cursor = start, 0
        with self._tapped(model, "replay", start):
            yield self
        if self._cursor != len(self._passes):
            raise DataError(
                f"the lesion ran {self._cursor} prompt passes, the original {len(self._passes)}"
            )

    @contextmanager
    def _tapped(self, model: nn.Module, mode: str, depth: int) -> Iterator[None]:
        layers = layers_of(model, self.architecture)
        self._taps = [_Tap(layers[i], i, self) for i in range(depth)]
        for tap in self._taps:
            layers[tap.index] = tap
        self._mode = mode
        try:
            yield
        finally:
            for tap in self._taps:
                layers[tap.index] = tap.layer
            self._taps, self._mode, self._current = [], None, None

    @contextmanager
    def prompt_pass(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> Iterator[None]:
        """One prompt pass (the generation code's hook): its first
        forward through the tapped layers is the prefill."""
        if self._mode is None:
            yield
            return
        if self._mode == "record":
            self._current = _Pass(
                input_ids.detach().clone(),
                None if attention_mask is None else attention_mask.detach().clone(),
            )
            self._passes.append(self._current)
        else:
            self._current = self._next_pass(input_ids, attention_mask)
        for tap in self._taps:
            tap.armed = True
        try:
            yield
        finally:
            fired = [tap.index for tap in self._taps if not tap.armed]
            for tap in self._taps:
                tap.armed = False
            self._current = None
        if len(fired) != len(self._taps):
            raise RuntimeError(
                f"prompt pass reached layers {fired} of the {len(self._taps)} tapped"
            )

    def _next_pass(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> _Pass:
        """The recorded pass to replay now, after checking it ran on exactly these tokens."""
        if self._cursor >= len(self._passes):
            raise DataError(
                f"the lesion runs more prompt passes than the {len(self._passes)} recorded"
            )
        recorded = self._passes[self._cursor]
        same_mask = (attention_mask is None) == (recorded.attention_mask is None) and (
            attention_mask is None or torch.equal(attention_mask, recorded.attention_mask)
        )
        if not (torch.equal(input_ids, recorded.input_ids) and same_mask):
            raise DataError(
                f"prompt pass {self._cursor}: its tokens differ from the original's recorded pass"
            )
        self._cursor += 1
        return recorded

    def _prefill(
        self, tap: _Tap, hidden_states: torch.Tensor, args: tuple, kwargs: dict[str, Any]
    ) -> torch.Tensor:
        cache = kwargs.get("past_key_values")
        if cache is None:
            raise DataError("a prompt pass without a KV cache cannot be recorded or replayed")
        current = self._current
        assert current is not None
        device = hidden_states.device
        if self._mode == "replay":
            keys, values = current.keys[tap.index].to(device), current.values[tap.index].to(device)
            cache.update(keys, values, tap.index)
            return (
                current.outputs[self._start].to(device)
                if tap.index == self._start - 1
                else hidden_states
            )
        before = cache.get_seq_length(tap.index)
        out = tap.layer(hidden_states, *args, **kwargs)
        layer_cache = cache.layers[tap.index]
        if type(layer_cache).__name__ != "DynamicLayer":
            raise DataError(
                f"layer {tap.index}: replay needs a full-attention DynamicLayer cache, not "
                f"{type(layer_cache).__name__}"
            )
        current.keys[tap.index] = _host_copy(layer_cache.keys[..., before:, :])
        current.values[tap.index] = _host_copy(layer_cache.values[..., before:, :])
        if tap.index + 1 in self.starts:
            current.outputs[tap.index + 1] = _host_copy(out)
        return out


def _host_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A copy in host memory (exact: a copy changes no
    bit), so a GPU holds none of the recorded passes."""
    return tensor.detach().to("cpu", copy=True)
