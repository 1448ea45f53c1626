"""The neuron census: how many neurons a model has, from its architecture alone.

A neuron is one output channel of one linear map inside a decoder layer (embedding and lm_head
excluded); this is the unit the language study ranks, so the census must reproduce Table 3 of
Kojima et al. 2024 exactly. Counting runs on the meta device: no weights, no download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from lmanatomy.errors import RegistryError
from lmanatomy.models.adapters import LinearInfo, adapter_for
from lmanatomy.models.loading import count_parameters, meta_model
from lmanatomy.models.registry import ModelEntry, Registry, load_registry

if TYPE_CHECKING:  # pandas is imported where the table is built, so that counting stays light
    import pandas as pd


@dataclass(frozen=True)
class Census:
    """Layers and neurons of one model; ``linears`` describes one (the first) decoder layer."""

    name: str
    display: str
    layers: int
    neurons: int
    neurons_per_layer: tuple[int, ...]
    linears: tuple[LinearInfo, ...]
    parameters: int

    def as_row(self) -> dict[str, object]:
        return {
            "model": self.display,
            "registry_name": self.name,
            "layers": self.layers,
            "neurons": self.neurons,
            "parameters": self.parameters,
            "linears_per_layer": " ".join(
                f"{info.name}:{info.out_features}" for info in self.linears
            ),
        }


def census_of_model(
    model: nn.Module, name: str, display: str, parameters: int | None = None
) -> Census:
    """Count layers and neurons of a model object (meta-device or with real weights)."""
    from lmanatomy.models.adapters import parameter_count

    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    per_layer = tuple(
        sum(info.out_features for info in adapter.linear_infos(layer)) for layer in layers
    )
    return Census(
        name=name,
        display=display,
        layers=len(layers),
        neurons=sum(per_layer),
        neurons_per_layer=per_layer,
        linears=tuple(adapter.linear_infos(layers[0])),
        parameters=parameters if parameters is not None else parameter_count(model),
    )


def census_of(entry: ModelEntry) -> Census:
    """Count layers and neurons of a registry entry by building it on the meta device."""
    return census_of_model(meta_model(entry), entry.name, entry.display, count_parameters(entry))


def verify_census(entry: ModelEntry, path: str | Path) -> Census:
    """Check the registry's architecture facts against the real weights in ``path``.

    The census is computed from the registry alone; this loads the prepared model and fails if
    its layers, per-layer neurons or parameter count differ, so a wrong registry entry cannot
    silently change every count downstream.
    """
    from lmanatomy.models.loading import load_model

    planned = census_of(entry)
    model, _ = load_model(path, device="cpu", trust_remote_code=entry.trust_remote_code)
    actual = census_of_model(model, entry.name, entry.display)
    for field_name in ("layers", "neurons_per_layer", "parameters"):
        if getattr(planned, field_name) != getattr(actual, field_name):
            raise RegistryError(
                f"model '{entry.name}': registry architecture gives "
                f"{field_name}={getattr(planned, field_name)} but the weights in {path} give "
                f"{getattr(actual, field_name)}"
            )
    return actual


def census(name: str, registry: Registry | None = None) -> Census:
    """Census of a model by registry name (the default registry is ``config/models.yaml``)."""
    registry = registry if registry is not None else load_registry()
    return census_of(registry[name])


def census_table(
    entries: list[ModelEntry], verified: dict[str, str | Path] | None = None
) -> pd.DataFrame:
    """Table 3 of Kojima et al. 2024 (model, layers, neurons) plus parameters and per-layer linears.

    ``verified`` maps model names to prepared folders whose weights are checked against the
    registry (see :func:`verify_census`); the table records which rows were checked.
    """
    import pandas as pd

    verified = verified or {}
    rows = []
    for entry in entries:
        row = census_of(entry).as_row()
        if entry.name in verified:
            verify_census(entry, verified[entry.name])
        row["checked_against_weights"] = entry.name in verified
        rows.append(row)
    return pd.DataFrame(rows)
