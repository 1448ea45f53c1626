"""Shared pieces of the extraction tests: texts, tiny models and an independent reference.

The reference runs the model on one text at a time (no padding, no batching), takes hidden states
from ``output_hidden_states`` and recomputes every decoder-layer linear's output from its input
with the weights (``x @ Wᵀ + b``, or ``x @ W + b`` for GPT-2's Conv1D), then pools with NumPy.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from lmanatomy.models.adapters import adapter_for
from lmanatomy.testing import tiny_model, tiny_tokenizer

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "a",
    "Der schnelle braune Fuchs springt.",
    "素早い茶色の狐が川辺の怠惰な犬を飛び越えます。",
    "def add(a, b): return a + b",
    "",
    "Question: is the sky blue? Answer: yes.",
]
IDS = [f"t{i}" for i in range(len(TEXTS))]

# Tiny models gain nothing from intra-op threads, and on a shared 2-core machine OpenMP's waiting
# threads cost several times the work itself.
torch.set_num_threads(1)
LABELS = ["en", "en", "de", "ja", "code", "none", "en"]


@functools.cache
def model_of(family: str, seed: int = 0):
    return tiny_model(family, seed=seed, tokenizer=tiny_tokenizer())


def sequences(tokenizer, texts=TEXTS, eos: bool = False) -> list[list[int]]:
    """Token ids as the tokenizer gives them, with the EOS id appended when ``eos``."""
    out = [list(tokenizer(t)["input_ids"]) for t in texts]
    return [s + [tokenizer.eos_token_id] for s in out] if eos else out


def _manual_linear(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if isinstance(module, nn.Linear):
        y = x @ module.weight.T
    else:  # GPT-2 Conv1D: weight stored as (in, out)
        y = x @ module.weight
    return y + module.bias if module.bias is not None else y


def reference(model: nn.Module, seqs: list[list[int]]) -> dict[str, list[np.ndarray]]:
    """Column name → per-text ``[tokens, width]`` activations, one unpadded forward per text."""
    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    n_layers = len(layers)
    linears = [
        (f"layers.{i}.{name}", mod)
        for i, layer in enumerate(layers)
        for name, mod in adapter.linears(layer)
    ]
    out: dict[str, list[np.ndarray]] = {}

    def add(key: str, value: torch.Tensor) -> None:
        out.setdefault(key, []).append(value.detach().to(torch.float32).numpy().copy())

    for seq in seqs:
        inputs: dict[str, torch.Tensor] = {}
        handles = [
            mod.register_forward_hook(
                lambda m, a, o, key=key, inputs=inputs: inputs.__setitem__(
                    key, a[0][0].detach().clone()
                )
            )
            for key, mod in linears
        ]
        try:
            with torch.no_grad():
                hidden = model(torch.tensor([seq]), output_hidden_states=True).hidden_states
        finally:
            for h in handles:
                h.remove()
        with torch.no_grad():
            for key, mod in linears:
                add(key, _manual_linear(mod, inputs[key]))
                add(f"{key}#input", inputs[key])
            for k in range(n_layers + 1):
                add(f"hidden_states.{k}", hidden[k][0])
            raw = _raw_last(model, adapter, seq)
            add("hidden_states.raw", raw)
            for i, layer in enumerate(layers):
                if adapter.ff_activation is not None and adapter.ff_input is not None:
                    pre = torch.from_numpy(out[f"layers.{i}.{adapter.ff_input}"][-1])
                    add(
                        f"layers.{i}.{adapter.ff_activation}",
                        adapter.ff_activation_module(layer)(pre),
                    )
                add(f"layers.{i}", hidden[i + 1][0] if i < n_layers - 1 else raw)
    return out


def _raw_last(model: nn.Module, adapter, seq: list[int]) -> torch.Tensor:
    """The last decoder layer's own output: output_hidden_states'
    last entry with the final norm removed."""
    parent_path, _, attr = adapter.final_norm.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    norm = getattr(parent, attr)
    setattr(parent, attr, nn.Identity())
    try:
        with torch.no_grad():
            return model(torch.tensor([seq]), output_hidden_states=True).hidden_states[-1][0]
    finally:
        setattr(parent, attr, norm)


def pool(per_text: list[np.ndarray], mode: str) -> np.ndarray:
    if mode == "mean":
        return np.stack([a.mean(axis=0) for a in per_text])
    if mode in ("last", "eos"):
        return np.stack([a[-1] for a in per_text])
    return np.concatenate(per_text, axis=0)
