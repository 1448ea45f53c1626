"""LLMDcos: per decoder layer, the cosine between two inputs' activation vectors A(s, ·).

For one layer, the vector holds A(s, w) for every scored weight of that layer. Because A ≥ 0,
LLMDcos lies in [0, 1]: 1 when two inputs activate the layer's parameters in the same
proportions. Only three numbers per layer are needed — the dot product and the two squared
norms — so pairs are accumulated layer by layer without keeping any input's full vector around
longer than the pair needs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from lmanatomy.errors import DataError, NumericalError
from lmanatomy.paramact.dots import layer_dot
from lmanatomy.paramact.plan import deep_range
from lmanatomy.paramact.scores import Scores

# One input's activations: Scores, or per layer either a list of tensors or one flat vector.
LayerInput = Scores | Sequence[torch.Tensor | np.ndarray | Sequence[torch.Tensor]]


def cosine(dot: float, norm_sq_a: float, norm_sq_b: float, where: str = "") -> float:
    """dot / (‖a‖·‖b‖); an all-zero vector has no direction, which is an error, not a NaN."""
    if norm_sq_a <= 0.0 or norm_sq_b <= 0.0:
        raise NumericalError(f"{where}LLMDcos undefined: an activation vector is all zero")
    return dot / math.sqrt(norm_sq_a * norm_sq_b)


def _as_layers(x: LayerInput) -> list[list[torch.Tensor]]:
    if isinstance(x, Scores):
        return x.layers
    layers = []
    for layer in x:
        if isinstance(layer, np.ndarray):
            layers.append([torch.from_numpy(np.ascontiguousarray(layer))])
        elif isinstance(layer, torch.Tensor):
            layers.append([layer])
        else:
            layers.append(list(layer))
    return layers


def llmdcos(a: LayerInput, b: LayerInput) -> np.ndarray:
    """LLMDcos of two inputs, one value per decoder layer (float64 array of length L)."""
    la, lb = _as_layers(a), _as_layers(b)
    if len(la) != len(lb):
        raise DataError(f"the two inputs have {len(la)} and {len(lb)} layers")
    out = np.empty(len(la), dtype=np.float64)
    for index, (x, y) in enumerate(zip(la, lb, strict=True)):
        out[index] = cosine(
            layer_dot(x, y), layer_dot(x, x), layer_dot(y, y), where=f"layer {index}: "
        )
    return out


def deep_mean(values: np.ndarray | Sequence[float], num_layers: int) -> float:
    """The paper's summary of a per-layer curve: the
    mean over layers L/2 .. L−3 (0-based, inclusive)."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (num_layers,):
        raise DataError(f"expected one value per layer ({num_layers}), got shape {values.shape}")
    first, last = deep_range(num_layers)
    return float(values[first : last + 1].mean())
