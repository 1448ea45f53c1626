"""A(s, w_i) = |w_i · ∂D/∂w_i|: how much one input s "activates" each parameter (Wang et al. 2024).

D(s) is the largest logit at the last position, i.e. the logit of the token the model would
predict next. Zeroing a weight w_i changes D by about w_i · ∂D/∂w_i (first-order Taylor), so
A(s, w_i) estimates that weight's influence on the prediction. The parameters are every 2-D
weight inside the decoder layers (for Llama: q, k, v, o, gate, up, down), as the architecture
adapter lists them; the embedding and lm_head are excluded, as in the paper. Inputs are scored
one at a time (batch size 1): per-sample gradients are the point.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from lmanatomy.errors import DataError, NumericalError
from lmanatomy.models.adapters import adapter_for
from lmanatomy.paramact.dots import layer_dot


@dataclass(frozen=True)
class LayerWeights:
    """The scored weights of one decoder layer: names (relative to the layer) and parameters."""

    index: int
    names: tuple[str, ...]
    params: tuple[nn.Parameter, ...]

    @property
    def size(self) -> int:
        return sum(p.numel() for p in self.params)


def decoder_weights(model: nn.Module) -> list[LayerWeights]:
    """Every decoder layer's linear weights, in adapter
    order (layer order, then registration order)."""
    adapter = adapter_for(model)
    layers = []
    for index, layer in enumerate(adapter.decoder_layers(model)):
        pairs = [(name, module.weight) for name, module in adapter.linears(layer)]
        if not pairs:
            raise DataError(
                f"decoder layer {index} of {type(model).__name__} has no linear weights to score"
            )
        names, params = zip(*pairs, strict=True)
        layers.append(LayerWeights(index, tuple(names), tuple(params)))
    return layers


@dataclass
class Scores:
    """A(s, ·) for one input: per decoder layer, one tensor per weight (same shape as the weight).

    ``D`` is the largest last-position logit, ``token_id`` the token it belongs to, ``n_tokens``
    the input length. Tensors are in the model's dtype and on its device.
    """

    layers: list[list[torch.Tensor]]
    names: list[tuple[str, ...]]
    D: float
    token_id: int
    n_tokens: int

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        """Streams the layers in order (each a list of per-weight tensors)."""
        return iter(self.layers)

    def layer_vector(self, layer: int) -> torch.Tensor:
        """One layer's scores as a flat vector (weights concatenated in adapter order)."""
        return torch.cat([t.reshape(-1) for t in self.layers[layer]])

    def layer_norms_sq(self) -> list[float]:
        """Squared L2 norm per layer (float32 products, float64 sums)."""
        return [layer_dot(tensors, tensors) for tensors in self.layers]


def _accepts(model: nn.Module, argument: str) -> bool:
    try:
        return argument in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


class ParameterActivation:
    """Scores inputs with one model: ``score(input_ids) -> Scores``.

    Construction resolves the decoder weights once and makes sure they require gradients (nothing
    else is changed: gradients are taken with ``torch.autograd.grad`` for these weights only, so
    no ``.grad`` is written and the embedding / lm_head gradients are never computed).
    """

    def __init__(self, model: nn.Module):
        self.model = model
        self.weights = decoder_weights(model)
        self._params = [p for layer in self.weights for p in layer.params]
        for param in self._params:
            if not param.requires_grad:
                param.requires_grad_(True)
        # Only the last position's logits are needed: skip the lm_head on every other position.
        self._last_only = _accepts(model, "logits_to_keep")
        self.device = self._params[0].device

    @property
    def layer_sizes(self) -> list[int]:
        return [layer.size for layer in self.weights]

    @property
    def layer_devices(self) -> list[torch.device]:
        """Where each layer's weights live (several GPUs
        when the model was loaded with device_map)."""
        return [layer.params[0].device for layer in self.weights]

    @property
    def num_layers(self) -> int:
        return len(self.weights)

    def tokenize(self, tokenizer: Any, text: str) -> torch.Tensor:
        """Token ids of ``text`` with the tokenizer's own
        special tokens (BOS for Llama), shape (1, T)."""
        if not isinstance(text, str) or not text:
            raise DataError(f"cannot score an empty or non-string input: {text!r}")
        return tokenizer(text, return_tensors="pt").input_ids

    def score(self, input_ids: torch.Tensor) -> Scores:
        """A(s, w) for every decoder weight, for one input of shape (1, T) or (T,)."""
        ids = input_ids.reshape(1, -1).to(self.device)
        if ids.shape[1] == 0:
            raise DataError("cannot score an input of zero tokens")
        kwargs: dict[str, Any] = {"use_cache": False}
        if self._last_only:
            kwargs["logits_to_keep"] = 1
        with torch.enable_grad():
            logits = self.model(input_ids=ids, **kwargs).logits[0, -1]
            if logits.dtype in (torch.float16, torch.bfloat16):
                logits = logits.float()  # the max and its gradient's seed in float32
            D, token = logits.max(dim=-1)
            if not torch.isfinite(D):
                raise NumericalError(
                    f"D (the largest last-position logit) is {float(D.detach())} for an input of "
                    f"{ids.shape[1]} tokens"
                )
            grads = torch.autograd.grad(D, self._params)
        scores: list[list[torch.Tensor]] = []
        position = 0
        for layer in self.weights:
            tensors = []
            for param in layer.params:
                grad = grads[position]
                position += 1
                # In place: the gradient buffer becomes |w ⊙ ∂D/∂w|, no second model-sized copy.
                tensors.append(grad.mul_(param.detach()).abs_())
            scores.append(tensors)
        return Scores(
            scores,
            [layer.names for layer in self.weights],
            float(D.detach()),
            int(token),
            int(ids.shape[1]),
        )


def activation_scores(model: nn.Module, tokenizer: Any, text: str) -> Scores:
    """A(s, w_i) = |w_i · ∂D/∂w_i| for one text, per decoder layer (see :class:`Scores`)."""
    scorer = ParameterActivation(model)
    return scorer.score(scorer.tokenize(tokenizer, text))


def check_finite(norms_sq: Sequence[float], where: str) -> None:
    """NaN/inf anywhere in a layer shows up in its norm: one cheap check per layer."""
    for layer, value in enumerate(norms_sq):
        if not (value == value and value != float("inf")):
            raise NumericalError(f"{where}: A has NaN or inf values in decoder layer {layer}")
