"""Integrated gradients of FF neurons (Dai et al. 2022), as Ariyama et al. 2025 use them.

For a prompt s, target token T and FF layer l with activation vector a at the last position,
the layer's activation at that position is replaced by α·a for α on a grid, and

    Attr_i = a_i · Σ_k w_k ∂P(T | s, α_k·a) / ∂a_i        (P: softmax probability of T)

with w_k = 1/m for the code's inclusive grid and Dai's Riemann grid. All neurons of a layer are
scaled together; each layer is attributed on its own (the other layers run unmodified).

Why the fast path is exact. Only the *last* position is modified, and a decoder is causal: the
keys and values of every earlier position are the same for every α. So the prefix is run once,
its key/value cache is shared, and each (prompt, layer, α) becomes one batch row of a single
token. Rows are independent, so one backward pass of Σ_rows P gives every row's gradient. This
batches the m steps, all layers and several prompts into one pass; the straightforward loop
(:func:`reference_attributions`: full sequence, one prompt and one layer per pass, as the
released code does) is kept for the benchmark and the tests.

Why memory stays flat in rows. Hugging Face's cache concatenates the new token's key and value
onto the cached ones, so a pass of R rows would hold R copies of its prompts' prefix keys and
values in every layer (at Pythia-410M shape, ~6 MB per row: 8.3 GB peak at 960 rows). Instead
the rows' attention reads the prefix in place: :func:`shared_prefix_attention`, registered as a
Hugging Face attention implementation for the duration of a pass, scores each row's query
against its own prompt's cached keys by a batched matmul over the pass's prompts, adds the row's
own key, and mixes the cached values the same way. What a row then holds is its own activations
and its scores (heads × prefix length), not a copy of the prefix. Models whose attention does
not go through Hugging Face's attention interface (``_supports_attention_backend``; e.g. BLOOM's
ALiBi, XGLM) keep the per-row cache copies: same numbers, memory growing with rows.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lmanatomy.errors import DataError, NumericalError
from lmanatomy.models import adapter_for

SITES = ("post", "pre")
GRIDS = ("inclusive", "riemann", "trapezoid")
MULTI_TOKEN = ("error", "first")


def alpha_grid(steps: int, grid: str = "inclusive") -> tuple[torch.Tensor, torch.Tensor]:
    """Scaling factors α_k and quadrature weights w_k of the path integral from 0 to 1.

    ``inclusive``: α = linspace(0, 1, m), w = 1/m (the released code's ``scaled_input``);
    ``riemann``: α = k/m for k = 1..m, w = 1/m (Dai et al. 2022, Eq. 3);
    ``trapezoid``: α = linspace(0, 1, m), trapezoid weights (the most accurate for a given m).
    """
    if grid not in GRIDS:
        raise ValueError(f"unknown grid '{grid}' (known: {', '.join(GRIDS)})")
    if steps < (2 if grid == "trapezoid" else 1):
        raise ValueError(f"grid '{grid}' needs at least {2 if grid == 'trapezoid' else 1} steps, got {steps}")
    if grid == "riemann":
        alphas = torch.arange(1, steps + 1, dtype=torch.float64) / steps
        return alphas, torch.full((steps,), 1.0 / steps, dtype=torch.float64)
    alphas = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
    if grid == "inclusive":
        return alphas, torch.full((steps,), 1.0 / steps, dtype=torch.float64)
    weights = torch.full((steps,), 1.0 / (steps - 1), dtype=torch.float64)
    weights[0] = weights[-1] = 0.5 / (steps - 1)
    return alphas, weights


def site_module(model: nn.Module, layer: int, site: str) -> nn.Module:
    """The module whose output is "the activation" of FF layer ``layer``.

    ``post``: the FF nonlinearity's output (the paper's definition, GELU(xW1+b1) in GPT-NeoX);
    ``pre``: the linear feeding it (xW1+b1; what the released code hooks).
    """
    if site not in SITES:
        raise ValueError(f"unknown site '{site}' (known: {', '.join(SITES)})")
    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    if not 0 <= layer < len(layers):
        raise ValueError(f"layer {layer} is outside the model (layers 0..{len(layers) - 1})")
    if site == "post":
        return adapter.ff_activation_module(layers[layer])
    return adapter.ff_input_module(layers[layer])


def target_token(tokenizer: Any, word: str, multi_token: str = "error") -> tuple[int, list[str]]:
    """The single token id of ``word`` (encoded exactly as given, no special tokens) and its tokens.

    The method attributes the probability of one next token, so a word that the tokenizer splits
    is an error naming the word and its pieces, unless ``multi_token='first'`` asks to use the
    first piece (callers then record that they did).
    """
    if multi_token not in MULTI_TOKEN:
        raise ValueError(f"unknown multi_token policy '{multi_token}' (known: {', '.join(MULTI_TOKEN)})")
    ids = tokenizer.encode(word, add_special_tokens=False)
    pieces = tokenizer.convert_ids_to_tokens(ids)
    if not ids:
        raise DataError(f"target word {word!r} encodes to no token at all")
    if len(ids) > 1 and multi_token == "error":
        raise DataError(
            f"target word {word!r} is {len(ids)} tokens {pieces}, but integrated gradients "
            "attributes one next token; use single-token words, or set knowledge.multi_token: "
            "first to attribute the first token"
        )
    return int(ids[0]), [str(p) for p in pieces]


def encode_prompt(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of a prompt as the model reads it (with the tokenizer's own special tokens)."""
    ids = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    if len(ids) < 2:
        raise DataError(f"prompt {prompt!r} is {len(ids)} token(s); the last position needs at least one "
                        "token of context")
    return ids


@dataclass(frozen=True)
class Attributions:
    """Result of one attribution run over prompts × layers.

    ``scores[p, j, i]``: attribution of neuron i of layer ``layers[j]`` for prompt p;
    ``probability[p]``: P(T | s) of the unmodified model; ``rank[p]``: how many tokens the
    unmodified model ranks above T (0: T is its greedy answer); ``activation[p, j, i]``: a_i.
    """

    scores: np.ndarray
    probability: np.ndarray
    rank: np.ndarray
    activation: np.ndarray
    layers: tuple[int, ...]


def _check_finite(values: torch.Tensor, what: str) -> None:
    if not torch.isfinite(values).all():
        raise NumericalError(f"{what} contains NaN or inf")


def _accepts(model: nn.Module, argument: str) -> bool:
    return argument in inspect.signature(model.forward).parameters


class _Replace:
    """A forward hook that overwrites the last position of chosen batch rows with given vectors."""

    def __init__(self) -> None:
        self.rows: torch.Tensor | None = None
        self.values: torch.Tensor | None = None
        self.captured: torch.Tensor | None = None

    def __call__(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor | None:
        self.captured = output[:, -1, :].detach()
        if self.rows is None:
            return None
        output = output.clone()
        output[self.rows, -1, :] = self.values.to(output.dtype)
        return output


SHARED_PREFIX = "lmanatomy_shared_prefix"


@dataclass(frozen=True)
class SharedPrefix:
    """The cached prefix of a pass's prompts and which prompt each row continues.

    ``keys[l]``, ``values[l]``: layer l's cached keys and values of the pass's prompts,
    (prompts, kv heads, width, head dim), already position-encoded; ``bias``: (prompts, width),
    0 for a real token and -inf for padding; ``slot``: for each row, its place in a
    (prompts × rows_per_prompt) grid, i.e. prompt ·
    rows_per_prompt + its index among the prompt's rows.
    """

    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]
    bias: torch.Tensor
    slot: torch.Tensor
    rows_per_prompt: int


def _to_grid(rows: torch.Tensor, prefix: SharedPrefix) -> torch.Tensor:
    """(R, heads, k) per row → (prompts, heads, rows_per_prompt, k), empty slots zero."""
    n, width = prefix.bias.shape[0], prefix.rows_per_prompt
    grid = rows.new_zeros((n * width, *rows.shape[1:])).index_copy(0, prefix.slot, rows)
    return grid.view(n, width, *rows.shape[1:]).transpose(1, 2)


def _from_grid(grid: torch.Tensor, prefix: SharedPrefix) -> torch.Tensor:
    """(prompts, heads, rows_per_prompt, k) → (R, heads, k), the rows' own slots."""
    n, heads, width, k = grid.shape
    return grid.transpose(1, 2).reshape(n * width, heads, k)[prefix.slot]


def shared_prefix_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    shared_prefix: SharedPrefix | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention of one-token rows over their prompt's cached prefix and their own key.

    ``query``: (R, heads, 1, d); ``key``, ``value``: the rows' own (R, kv heads, 1, d). Equal to
    attending over [prefix keys, own key] with the padding masked, as the cache would compute it,
    without materialising the prefix per row. Grouped-query heads share the cached kv heads.
    """
    if shared_prefix is None:
        raise RuntimeError(f"attention implementation '{SHARED_PREFIX}' needs the shared_prefix argument")
    if query.shape[2] != 1:
        raise ValueError(f"shared-prefix attention takes one token per row, got {query.shape[2]}")
    layer = module.layer_idx
    keys, values = shared_prefix.keys[layer], shared_prefix.values[layer]
    rows, heads, _, dim = query.shape
    kv_heads = keys.shape[1]
    groups = heads // kv_heads
    scale = dim**-0.5 if scaling is None else scaling
    q = query[:, :, 0, :]  # (R, heads, d)
    # Prefix scores: queries of one prompt in a grid, kv head h serving query heads h·g … h·g+g-1.
    grid = _to_grid(q, shared_prefix)  # (n, heads, W_rows, d)
    n, _, width_rows, _ = grid.shape
    grid = grid.reshape(n, kv_heads, groups * width_rows, dim)
    prefix_scores = torch.matmul(grid, keys.transpose(-1, -2)) * scale  # (n, kv, g·W_rows, W)
    prefix_scores = prefix_scores.view(n, heads, width_rows, -1) + shared_prefix.bias[:, None, None, :].to(prefix_scores.dtype)
    prefix_scores = _from_grid(prefix_scores, shared_prefix)  # (R, heads, W)
    own_key = key[:, :, 0, :].repeat_interleave(groups, dim=1)  # (R, heads, d): the rows' own, not the prefix
    own_value = value[:, :, 0, :].repeat_interleave(groups, dim=1)
    own_scores = (q * own_key).sum(-1, keepdim=True) * scale  # (R, heads, 1)
    weights = torch.softmax(torch.cat([prefix_scores, own_scores], dim=-1), dim=-1, dtype=torch.float32).to(query.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=module.training)
    mixed = _to_grid(weights[..., :-1], shared_prefix).reshape(n, kv_heads, groups * width_rows, -1)
    out = _from_grid(torch.matmul(mixed, values).view(n, heads, width_rows, dim), shared_prefix)  # (R, heads, d)
    out = out + weights[..., -1:] * own_value
    return out[:, None, :, :], weights[:, :, None, :]


def shares_prefix(model: nn.Module) -> bool:
    """Whether the rows can read the prefix in place: the
    model's attention goes through Hugging Face's interface."""
    return bool(getattr(model, "_supports_attention_backend", False))


@contextmanager
def _shared_prefix_attention(model: nn.Module):
    """Route the model's attention through :func:`shared_prefix_attention` for the duration."""
    from transformers import AttentionInterface

    if SHARED_PREFIX not in AttentionInterface._global_mapping:
        AttentionInterface.register(SHARED_PREFIX, shared_prefix_attention)
    configs = {id(c): c for c in (model.config, getattr(model.config, "get_text_config", lambda: model.config)())}.values()
    before = [(c, c._attn_implementation) for c in configs]
    try:
        for config, _ in before:
            config._attn_implementation = SHARED_PREFIX
        yield
    finally:
        for config, implementation in before:
            config._attn_implementation = implementation


def _prefix_tensors(cache: Any) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """Per-layer cached keys and values of a Hugging Face
    cache (``layers[i].keys`` in transformers ≥ 4.56)."""
    layers = getattr(cache, "layers", None)
    if layers is None:
        raise RuntimeError("this transformers version's cache has no .layers; shared-prefix attention needs "
                           "transformers ≥ 4.56")
    return tuple(layer.keys for layer in layers), tuple(layer.values for layer in layers)


def _pad_right(sequences: Sequence[Sequence[int]], pad: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long, device=device)
    mask = torch.zeros((len(sequences), width), dtype=torch.long, device=device)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(list(seq), dtype=torch.long, device=device)
        mask[row, : len(seq)] = 1
    return ids, mask


def _target_probability(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    probs = torch.softmax(logits[:, -1, :].float(), dim=-1)
    return probs.gather(1, targets[:, None])[:, 0]


def _target_rank(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    last = logits[:, -1, :]
    return (last > last.gather(1, targets[:, None])).sum(dim=1)


def batched_attributions(
    model: nn.Module,
    prompts: Sequence[Sequence[int]],
    targets: Sequence[int],
    layers: Sequence[int] | None = None,
    steps: int = 20,
    site: str = "post",
    grid: str = "inclusive",
    max_rows: int = 2048,
    pad_token_id: int = 0,
    share_prefix: bool = False,
) -> Attributions:
    """Integrated gradients of every neuron of ``layers`` for every prompt, batched.

    ``prompts`` are token-id sequences (≥ 2 tokens), ``targets`` one token id per prompt. A pass
    holds at most ``max_rows`` rows of one token each (rows = prompts × layers × steps), but
    always at least one (prompt, layer) unit of ``steps`` rows. ``share_prefix=True``: rows read
    the cached prefix in place (:func:`shares_prefix` models only), memory flat in ``max_rows``;
    False (the default) copies it per row. The workflow uses the copy: in place, a row's result
    depends on which rows share its pass (the grid's width) at the 1e-7 level, so an attribution
    job that resumes from its complete shards would not reproduce the uninterrupted run's bits —
    the reproducibility test caught this (a rebuilt shard moved the EMD distances).
    """
    if share_prefix and not shares_prefix(model):
        raise ValueError(f"{type(model).__name__} does not route attention through Hugging Face's interface; "
                         "use share_prefix=False")
    share = bool(share_prefix)
    if len(prompts) != len(targets):
        raise ValueError(f"{len(prompts)} prompts but {len(targets)} targets")
    if not prompts:
        raise ValueError("no prompts to attribute")
    n_layers_model = len(adapter_for(model).decoder_layers(model))
    layers = tuple(range(n_layers_model)) if layers is None else tuple(int(layer) for layer in layers)
    for seq in prompts:
        if len(seq) < 2:
            raise DataError(f"a prompt of {len(seq)} token(s) has no context before its last position")
    alphas, weights = alpha_grid(steps, grid)
    device = next(model.parameters()).device
    hooks = {layer: _Replace() for layer in layers}
    handles = [site_module(model, layer, site).register_forward_hook(hooks[layer]) for layer in layers]
    kwargs_positions = _accepts(model, "position_ids")
    units_per_pass = max(1, max_rows // steps)
    prompts_per_chunk = max(1, units_per_pass // len(layers))
    parts = []
    try:
        for start in range(0, len(prompts), prompts_per_chunk):
            chunk = prompts[start : start + prompts_per_chunk]
            chunk_targets = torch.tensor(list(targets[start : start + prompts_per_chunk]), device=device)
            parts.append(
                _attribute_chunk(
                    model, chunk, chunk_targets, layers, hooks, alphas, weights, units_per_pass, pad_token_id, kwargs_positions, device,
                    share,
                )
            )
    finally:
        for handle in handles:
            handle.remove()
    return Attributions(*(np.concatenate(column) for column in zip(*parts, strict=True)), layers=layers)


def _attribute_chunk(model, chunk, targets, layers, hooks, alphas, weights, units_per_pass, pad, with_positions, device, shared):
    """Prefix pass once, then the baseline pass, then the IG passes for one chunk of prompts."""
    n = len(chunk)
    prefix_ids, prefix_mask = _pad_right([seq[:-1] for seq in chunk], pad, device)
    last = torch.tensor([seq[-1] for seq in chunk], dtype=torch.long, device=device)
    last_position = torch.tensor([len(seq) - 1 for seq in chunk], dtype=torch.long, device=device)
    width = prefix_ids.shape[1]
    for hook in hooks.values():
        hook.rows = None
    with torch.no_grad():
        extra = {"position_ids": torch.arange(width, device=device).expand(n, width)} if with_positions else {}
        cache = model(input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True, **extra).past_key_values
        if shared:
            keys, values = _prefix_tensors(cache)
            del cache
            bias = torch.zeros(prefix_mask.shape, dtype=torch.float32, device=device).masked_fill(prefix_mask == 0, float("-inf"))

        def step_inputs(rows: torch.Tensor) -> dict[str, Any]:
            """One token per row after its prompt's prefix (rows are grouped by prompt)."""
            inputs: dict[str, Any] = dict(input_ids=last[rows][:, None])
            if with_positions:
                inputs["position_ids"] = last_position[rows][:, None]
            if not shared:  # per-row copies of the prefix cache
                copied = copy.deepcopy(cache)
                copied.batch_select_indices(rows)
                ones = torch.ones((len(rows), 1), dtype=torch.long, device=device)
                return inputs | dict(attention_mask=torch.cat([prefix_mask[rows], ones], dim=1), past_key_values=copied, use_cache=True)
            prompts, counts = torch.unique_consecutive(rows, return_counts=True)
            if len(prompts) != len(torch.unique(rows)):
                raise ValueError("rows of a pass must be grouped by prompt")
            per_prompt = int(counts.max())
            starts = torch.cumsum(counts, 0) - counts
            within = torch.arange(len(rows), device=device) - starts.repeat_interleave(counts)
            slot = torch.arange(len(prompts), device=device).repeat_interleave(counts) * per_prompt + within
            prefix = SharedPrefix(
                keys=tuple(k[prompts] for k in keys), values=tuple(v[prompts] for v in values), bias=bias[prompts],
                slot=slot, rows_per_prompt=per_prompt,
            )
            return inputs | dict(use_cache=False, shared_prefix=prefix)

        attention = _shared_prefix_attention if shared else (lambda model: nullcontext())
        everyone = torch.arange(n, device=device)
        with attention(model):
            baseline = model(**step_inputs(everyone))
        probability = _target_probability(baseline.logits, targets)
        rank = _target_rank(baseline.logits, targets)
        base = torch.stack([hooks[layer].captured for layer in layers], dim=1)  # (n, L, d_ff)
    _check_finite(base, "FF activations")
    steps = len(alphas)
    alphas_d = alphas.to(device=device, dtype=torch.float32)
    weights_d = weights.to(device=device, dtype=torch.float64)
    scores = torch.zeros(base.shape, dtype=torch.float64, device=device)
    units = [(p, j) for p in range(n) for j in range(len(layers))]
    for start in range(0, len(units), units_per_pass):
        batch = units[start : start + units_per_pass]
        unit_prompt = torch.tensor([p for p, _ in batch], device=device)
        rows_prompt = unit_prompt.repeat_interleave(steps)
        leaves = {}
        for j, layer in enumerate(layers):
            mine = [u for u, (_, jj) in enumerate(batch) if jj == j]
            if not mine:
                hooks[layer].rows = None
                continue
            mine_t = torch.tensor(mine, device=device)
            rows = (mine_t[:, None] * steps + torch.arange(steps, device=device)[None, :]).reshape(-1)
            scaled = alphas_d[None, :, None] * base[unit_prompt[mine_t], j][:, None, :].float()
            leaf = scaled.reshape(-1, base.shape[-1]).requires_grad_(True)
            hooks[layer].rows, hooks[layer].values = rows, leaf
            leaves[j] = (mine_t, leaf)
        with attention(model):
            out = model(**step_inputs(rows_prompt))
        prob = _target_probability(out.logits, targets[rows_prompt])
        grads = torch.autograd.grad(prob.sum(), [leaf for _, leaf in leaves.values()])
        del out, prob
        for (j, (mine_t, _)), grad in zip(leaves.items(), grads, strict=True):
            grad = grad.reshape(len(mine_t), steps, -1).double()
            integral = (grad * weights_d[None, :, None]).sum(dim=1)
            prompts_of = unit_prompt[mine_t]
            scores[prompts_of, j] = integral * base[prompts_of, j].double()
        for hook in hooks.values():
            hook.rows = hook.values = None
    _check_finite(scores, "attributions")
    return scores.cpu().numpy(), probability.double().cpu().numpy(), rank.cpu().numpy(), base.double().cpu().numpy()


def reference_attributions(
    model: nn.Module,
    prompts: Sequence[Sequence[int]],
    targets: Sequence[int],
    layers: Sequence[int] | None = None,
    steps: int = 20,
    site: str = "post",
    grid: str = "inclusive",
) -> Attributions:
    """The straightforward loop: one prompt, one layer, one full-sequence pass of m rows at a time.

    This is how the released code computes attributions; it is the benchmark's baseline.
    """
    n_layers_model = len(adapter_for(model).decoder_layers(model))
    layers = tuple(range(n_layers_model)) if layers is None else tuple(int(layer) for layer in layers)
    alphas, weights = alpha_grid(steps, grid)
    device = next(model.parameters()).device
    scores, probability, rank, activation = [], [], [], []
    for seq, target in zip(prompts, targets, strict=True):
        ids = torch.tensor([list(seq)], dtype=torch.long, device=device)
        per_layer, acts = [], []
        for layer in layers:
            hook = _Replace()
            handle = site_module(model, layer, site).register_forward_hook(hook)
            try:
                with torch.no_grad():
                    logits = model(input_ids=ids).logits
                base = hook.captured[0]
                prob = _target_probability(logits, torch.tensor([target], device=device))
                top = _target_rank(logits, torch.tensor([target], device=device))
                scaled = (alphas.to(device, torch.float32)[:, None] * base[None, :].float()).requires_grad_(True)
                hook.rows, hook.values = torch.arange(steps, device=device), scaled
                out = model(input_ids=ids.expand(steps, -1)).logits
                p = _target_probability(out, torch.full((steps,), target, device=device))
                (grad,) = torch.autograd.grad(p.sum(), [scaled])
            finally:
                handle.remove()
            integral = (grad.double() * weights.to(device)[:, None]).sum(dim=0)
            per_layer.append((integral * base.double()).cpu().numpy())
            acts.append(base.double().cpu().numpy())
        scores.append(per_layer)
        activation.append(acts)
        probability.append(float(prob[0]))
        rank.append(int(top[0]))
    return Attributions(np.asarray(scores), np.asarray(probability), np.asarray(rank), np.asarray(activation), layers)


def integrated_gradients(
    model: nn.Module,
    tokenizer: Any,
    prompt: str,
    target: str | int,
    layer: int,
    steps: int = 20,
    site: str = "post",
    grid: str = "inclusive",
    multi_token: str = "error",
) -> np.ndarray:
    """Attribution of every FF neuron of one layer for one prompt and target, shape (d_ff,).

    ``target`` is a token id or the exact string to encode (e.g. ``" Cat"`` with its leading
    space); a string that is several tokens is an error unless ``multi_token='first'``.
    """
    target_id = target if isinstance(target, int) else target_token(tokenizer, target, multi_token)[0]
    result = batched_attributions(
        model, [encode_prompt(tokenizer, prompt)], [target_id], layers=[layer], steps=steps, site=site, grid=grid,
        pad_token_id=tokenizer.pad_token_id or 0,
    )
    return result.scores[0, 0]
