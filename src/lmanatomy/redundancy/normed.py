"""The last hidden state after the final norm, derived
from the raw store instead of a second extraction.

``hidden_eos_normed`` differs from ``hidden_eos`` only in its last entry: the final norm's output
instead of the last decoder layer's, at the same EOS token. The norm acts on each token's vector
alone, so applying the model's own final-norm module to the stored raw EOS vectors gives what the
second extraction pass over the whole dataset computes. Checked bit for bit: on the default run's
SmolLM2-135M store (650 JSTS sentences × 576 dims, float32 on CPU, 2026-12-08) all 374,400 values
are equal, and a test compares a tiny model's two extracted stores. Derived only where that was
checked: both probes alike but for ``last_layer`` (raw → normed), float32 stores, float32 on CPU;
anything else is extracted as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lmanatomy.errors import StoreError
from lmanatomy.extract.probe import Probe


def derivable(probe: Mapping[str, Any], other: Mapping[str, Any], device: str, dtype: str) -> bool:
    """Whether ``other``'s store can be derived from
    ``probe``'s (module docstring): no torch needed."""
    raw, normed = Probe.from_spec(probe), Probe.from_spec(other)
    alike = raw.replace(last_layer="normed") == normed
    return (
        alike
        and raw.last_layer == "raw"
        and raw.dtype == "float32"
        and device == "cpu"
        and dtype == "float32"
    )


class NormedLastLayer:
    """A raw ``hidden_states`` store read as if its
    last entry had been taken after the final norm."""

    def __init__(self, store: Any, norm: Any):
        probe = store.probe
        if (
            probe.get("modules") != "hidden_states"
            or probe.get("last_layer") != "raw"
            or store.dtype != np.float32
        ):
            raise StoreError(
                f"{store.path}: only a float32 store of raw hidden states can give the normed "
                f"last layer (probe {probe.get('modules')}, last_layer {probe.get('last_layer')}, "
                f"dtype {store.dtype})"
            )
        self.store = store
        self.norm = norm
        self.last = max(int(c.rsplit(".", 1)[1]) for c in store.columns)

    @property
    def columns(self) -> list[str]:
        return self.store.columns

    def ids(self) -> list[str]:
        return self.store.ids()

    def read(self, columns: Sequence[str]) -> np.ndarray:
        """The columns side by side, the last hidden state
        through the final norm (one column at a time)."""
        import torch

        parts = []
        for column in columns:
            values = self.store.read([column])
            if column == f"hidden_states.{self.last}":
                with torch.no_grad():
                    values = self.norm(torch.from_numpy(values)).numpy()
            parts.append(values)
        return np.concatenate(parts, axis=1)


def normed_view(store: Any, model_dir: str | Path, dtype: str = "float32") -> NormedLastLayer:
    """``store`` seen with its last hidden state after
    ``model_dir``'s final norm (the model loaded on CPU)."""
    from lmanatomy.models.adapters import adapter_for
    from lmanatomy.models.loading import load_model

    model, _ = load_model(model_dir, device="cpu", dtype=dtype)
    return NormedLastLayer(store, adapter_for(model).final_norm_module(model))
