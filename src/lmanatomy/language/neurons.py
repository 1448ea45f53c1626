"""The neuron table: every neuron's global index ↔ (layer, module, channel).

The language study ranks all neurons of a model as one long vector (Table 3 counts them). Every
index in that vector must be traceable to a module output channel, both to hook the module
during generation and to say where the language-specific neurons live (Fig 2). The order is the
census order: decoder layer, then the adapter's linear order inside the layer (module
registration order), then output channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError

if TYPE_CHECKING:  # torch only where a model is at hand: table and figure jobs run without it
    from torch import nn


def module_column(layer: int, name: str) -> str:
    """The activation store's column name of one decoder-layer linear: ``layers.<i>.<name>``."""
    return f"layers.{layer}.{name}"


@dataclass(frozen=True)
class ModuleSpan:
    """One decoder-layer linear and the range of global neuron indices its channels occupy."""

    column: str
    layer: int
    name: str
    offset: int
    width: int

    @property
    def stop(self) -> int:
        return self.offset + self.width


class NeuronTable:
    """Global neuron index ↔ (layer, module, channel), in census order."""

    def __init__(self, spans: Sequence[tuple[int, str, int]]):
        built, offset = [], 0
        for layer, name, width in spans:
            if width <= 0:
                raise DataError(
                    f"module layers.{layer}.{name} has width {width}; a module needs at least one "
                    "channel"
                )
            built.append(
                ModuleSpan(module_column(layer, name), int(layer), name, offset, int(width))
            )
            offset += int(width)
        columns = [span.column for span in built]
        if len(set(columns)) != len(columns):
            raise DataError("the neuron table names a module twice")
        self.spans: tuple[ModuleSpan, ...] = tuple(built)
        self._offsets = np.array([span.offset for span in built], dtype=np.int64)

    @classmethod
    def from_model(cls, model: nn.Module) -> NeuronTable:
        """The table of a model object (real or on the meta device) via its architecture adapter."""
        from lmanatomy.models.adapters import adapter_for

        adapter = adapter_for(model)
        return cls(
            [
                (index, info.name, info.out_features)
                for index, layer in enumerate(adapter.decoder_layers(model))
                for info in adapter.linear_infos(layer)
            ]
        )

    @classmethod
    def from_entry(cls, entry) -> NeuronTable:
        """The table of a registry entry, from architecture
        facts alone (meta device, no weights)."""
        from lmanatomy.models.loading import meta_model

        return cls.from_model(meta_model(entry))

    def __len__(self) -> int:
        return self.spans[-1].stop if self.spans else 0

    @property
    def num_layers(self) -> int:
        return max(span.layer for span in self.spans) + 1 if self.spans else 0

    @property
    def columns(self) -> list[str]:
        return [span.column for span in self.spans]

    def locate(self, indices: Iterable[int]) -> pd.DataFrame:
        """(index, layer, module, channel) of global neuron indices."""
        index = np.asarray(
            list(indices) if not isinstance(indices, np.ndarray) else indices, dtype=np.int64
        )
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise DataError(
                f"neuron index out of range 0..{len(self) - 1}: "
                f"{int(index.min())}..{int(index.max())}"
            )
        which = np.searchsorted(self._offsets, index, side="right") - 1
        spans = [self.spans[i] for i in which]
        return pd.DataFrame(
            {
                "index": index,
                "layer": np.array([s.layer for s in spans], dtype=np.int64),
                "module": [s.column for s in spans],
                "channel": index - self._offsets[which],
            }
        )

    def frame(self) -> pd.DataFrame:
        """Every neuron: index, layer, module, channel (module as a categorical)."""
        n = len(self)
        which = np.repeat(np.arange(len(self.spans)), [span.width for span in self.spans])
        return pd.DataFrame(
            {
                "index": np.arange(n, dtype=np.int64),
                "layer": np.array([span.layer for span in self.spans], dtype=np.int64)[which],
                "module": pd.Categorical.from_codes(which, categories=self.columns),
                "channel": np.arange(n, dtype=np.int64) - self._offsets[which],
            }
        )
