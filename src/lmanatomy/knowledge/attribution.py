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
against its own prompt's cached keys, adds the row's own key, and mixes the cached values the
same way. What a row then holds is its own activations and its scores (heads × prefix length),
not a copy of the prefix. This is the default; models whose attention does not go through
Hugging Face's attention interface (``_supports_attention_backend``; e.g. BLOOM's ALiBi, XGLM)
keep the per-row cache copies: same numbers to ~1e-7, memory growing with rows.

Why the result does not depend on the pass. Each prompt's prefix comes from a pass over that
prompt alone, every IG pass has the same number of rows, and a row's attention is computed at a
fixed slot of its prompt's same-shaped products: a row's attribution is the same bits whether it
shares a pass with all, some or none of the other prompts, so a job resumed from its complete
shards reproduces the uninterrupted run (tested: ``test_a_rows_result_is_the_same_bits_…``).
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
from lmanatomy.hooks import hooks
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
        raise ValueError(
            f"grid '{grid}' needs at least {2 if grid == 'trapezoid' else 1} steps, got {steps}"
        )
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
        raise ValueError(
            f"unknown multi_token policy '{multi_token}' (known: {', '.join(MULTI_TOKEN)})"
        )
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
        raise DataError(
            f"prompt {prompt!r} is {len(ids)} token(s); the last position needs at least one "
            "token of context"
        )
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
class PromptPrefix:
    """One prompt's cached prefix, computed from that prompt alone (no padding, batch of one).

    ``keys[l]``, ``values[l]``: layer l's keys and values of the prefix, (kv heads, length, head
    dim), already position-encoded.
    """

    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class SharedPrefix:
    """The prefixes a pass's rows read, and where each row sits among its prompt's rows.

    ``rows[i]``: the pass's rows that continue ``prompts[i]``; ``slots[i]``: each such row's fixed
    place among all ``slots_per_prompt`` rows its prompt ever has (layer index · steps + step), so
    its attention is computed at the same place of the same-shaped product whichever of the
    prompt's rows share the pass. Rows of no prompt (a pass's padding) attend to themselves only.
    """

    prompts: tuple[PromptPrefix, ...]
    rows: tuple[torch.Tensor, ...]
    slots: tuple[torch.Tensor, ...]
    slots_per_prompt: int


def _prompt_attention(
    q, own_scores, own_value, prefix_keys, prefix_values, slots, width, scale, dropout, training
):
    """One prompt's rows over [its prefix keys, their
    own key]; products on the fixed (width)-slot grid.

    ``q``: the rows' queries (r, heads, d); ``prefix_keys``: (kv heads, length, d). Every product
    has the same shape for a given prompt (width slots, its own length), so a row's numbers do
    not depend on which of the prompt's other rows are in the pass.
    """
    rows, heads, dim = q.shape
    kv_heads, length = prefix_keys.shape[0], prefix_keys.shape[1]
    groups = heads // kv_heads
    grid = q.new_zeros((width, heads, dim)).index_copy(0, slots, q)
    grid = grid.transpose(0, 1).reshape(
        kv_heads, groups * width, dim
    )  # kv head h serves query heads h·g … h·g+g-1
    scores = torch.matmul(grid, prefix_keys.transpose(-1, -2)) * scale  # (kv, g·width, length)
    scores = scores.view(heads, width, length).transpose(0, 1)[slots]  # (r, heads, length)
    weights = torch.softmax(
        torch.cat([scores, own_scores], dim=-1), dim=-1, dtype=torch.float32
    ).to(q.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=training)
    mixed = weights.new_zeros((width, heads, length)).index_copy(0, slots, weights[..., :-1])
    mixed = mixed.transpose(0, 1).reshape(kv_heads, groups * width, length)
    out = (
        torch.matmul(mixed, prefix_values).view(heads, width, dim).transpose(0, 1)[slots]
    )  # (r, heads, d)
    return out + weights[..., -1:] * own_value


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
) -> tuple[torch.Tensor, None]:
    """Softmax attention of one-token rows over their prompt's cached prefix and their own key.

    ``query``: (R, heads, 1, d); ``key``, ``value``: the rows' own (R, kv heads, 1, d). Equal to
    attending over [prefix keys, own key], as the cache would compute it, without materialising
    the prefix per row. Grouped-query heads share the cached kv heads. No attention weights are
    returned (the prompts' prefixes differ in length).
    """
    if shared_prefix is None:
        raise RuntimeError(
            f"attention implementation '{SHARED_PREFIX}' needs the shared_prefix argument"
        )
    if query.shape[2] != 1:
        raise ValueError(f"shared-prefix attention takes one token per row, got {query.shape[2]}")
    layer = module.layer_idx
    heads, dim = query.shape[1], query.shape[3]
    groups = heads // key.shape[1]
    scale = dim**-0.5 if scaling is None else scaling
    q = query[:, :, 0, :]  # (R, heads, d)
    own_value = value[:, :, 0, :].repeat_interleave(
        groups, dim=1
    )  # (R, heads, d): the rows' own, not the prefix
    own_scores = (q * key[:, :, 0, :].repeat_interleave(groups, dim=1)).sum(
        -1, keepdim=True
    ) * scale  # (R, heads, 1)
    parts = [
        _prompt_attention(
            q[rows],
            own_scores[rows],
            own_value[rows],
            prompt.keys[layer],
            prompt.values[layer],
            slots,
            shared_prefix.slots_per_prompt,
            scale,
            dropout,
            module.training,
        )
        for prompt, rows, slots in zip(
            shared_prefix.prompts, shared_prefix.rows, shared_prefix.slots, strict=False
        )
    ]
    out = own_value.index_copy(
        0, torch.cat(shared_prefix.rows), torch.cat(parts)
    )  # other rows: their own value
    return out[:, None, :, :], None


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
    configs = {
        id(c): c
        for c in (model.config, getattr(model.config, "get_text_config", lambda: model.config)())
    }.values()
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
        raise RuntimeError(
            "this transformers version's cache has no .layers; shared-prefix attention needs "
            "transformers ≥ 4.56"
        )
    return tuple(layer.keys for layer in layers), tuple(layer.values for layer in layers)


def _pad_right(
    sequences: Sequence[Sequence[int]], pad: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
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
    share_prefix: bool | None = None,
) -> Attributions:
    """Integrated gradients of every neuron of ``layers`` for every prompt, batched.

    ``prompts`` are token-id sequences (≥ 2 tokens), ``targets`` one token id per prompt. A pass
    holds at most ``max_rows`` rows of one token each (rows = prompts × layers × steps), but
    always at least one (prompt, layer) unit of ``steps`` rows.

    ``share_prefix``: True reads each prompt's cached prefix in place (memory flat in
    ``max_rows``; :func:`shares_prefix` models only), False copies it per row (the earlier way,
    kept for models whose attention bypasses Hugging Face's interface and as a reference), None
    (the default) reads in place wherever the model allows it. In place, a row's numbers are the
    same bits whichever rows share its pass (see :func:`_in_place_setup`), so a job resumed from
    its complete shards reproduces the uninterrupted run; with copies they may differ in the last
    bits (the prefix is padded to the widest prompt of the chunk).
    """
    if share_prefix and not shares_prefix(model):
        raise ValueError(
            f"{type(model).__name__} does not route attention through Hugging Face's interface; "
            "use share_prefix=False"
        )
    share = shares_prefix(model) if share_prefix is None else bool(share_prefix)
    if len(prompts) != len(targets):
        raise ValueError(f"{len(prompts)} prompts but {len(targets)} targets")
    if not prompts:
        raise ValueError("no prompts to attribute")
    n_layers_model = len(adapter_for(model).decoder_layers(model))
    layers = (
        tuple(range(n_layers_model)) if layers is None else tuple(int(layer) for layer in layers)
    )
    for seq in prompts:
        if len(seq) < 2:
            raise DataError(
                f"a prompt of {len(seq)} token(s) has no context before its last position"
            )
    alphas, weights = alpha_grid(steps, grid)
    device = next(model.parameters()).device
    replacements = {layer: _Replace() for layer in layers}
    plan = _Plan(
        layers,
        replacements,
        steps,
        max(1, max_rows // steps),
        _accepts(model, "position_ids"),
        device,
    )
    prompts_per_chunk = max(1, plan.units_per_pass // len(layers))
    parts = []
    with hooks([(site_module(model, layer, site), replacements[layer]) for layer in layers]):
        for start in range(0, len(prompts), prompts_per_chunk):
            chunk = prompts[start : start + prompts_per_chunk]
            chunk_targets = torch.tensor(
                list(targets[start : start + prompts_per_chunk]), device=device
            )
            setup = (
                _in_place_setup(model, chunk, chunk_targets, plan)
                if share
                else _copied_setup(model, chunk, chunk_targets, plan, pad_token_id)
            )
            parts.append(
                _attribute_chunk(model, chunk_targets, plan, alphas, weights, *setup, share)
            )
    return Attributions(
        *(np.concatenate(column) for column in zip(*parts, strict=False)), layers=layers
    )


@dataclass(frozen=True)
class _Plan:
    """What every chunk's passes share: the layers and
    their hooks, the pass size, the inputs' form."""

    layers: tuple[int, ...]
    hooks: dict[int, _Replace]
    steps: int
    units_per_pass: int
    with_positions: bool
    device: torch.device


def _in_place_setup(model, chunk, targets, plan):
    """Each prompt run alone once (its prefix cache,
    P(T), rank, activations); passes of fixed shape.

    Why a row's bits do not depend on the other rows of its pass: the prefix of a prompt comes
    from a pass over that prompt alone; every IG pass has exactly ``units_per_pass × steps`` rows
    (a short last pass is filled with rows that attend only to themselves and are not summed), so
    every product has the same shape and a row's result its own (a GEMM's rows are independent at
    a fixed shape; not at a different row count: at 1–8 rows MKL takes another path); and a row's
    attention over its prefix sits at a fixed slot of its prompt's same-shaped product
    (:func:`_prompt_attention`).
    """
    prefixes, probability, rank, base = [], [], [], []
    for hook in plan.hooks.values():
        hook.rows = None
    with torch.no_grad():
        for p, seq in enumerate(chunk):
            ids = torch.tensor([list(seq)], dtype=torch.long, device=plan.device)
            extra = (
                {"position_ids": torch.arange(len(seq), device=plan.device)[None]}
                if plan.with_positions
                else {}
            )
            out = model(input_ids=ids, use_cache=True, **extra)
            keys, values = _prefix_tensors(out.past_key_values)
            prefixes.append(
                PromptPrefix(tuple(k[0, :, :-1] for k in keys), tuple(v[0, :, :-1] for v in values))
            )
            probability.append(_target_probability(out.logits, targets[p : p + 1]))
            rank.append(_target_rank(out.logits, targets[p : p + 1]))
            base.append(torch.stack([plan.hooks[layer].captured for layer in plan.layers], dim=1))
    last = torch.tensor([seq[-1] for seq in chunk], dtype=torch.long, device=plan.device)
    last_position = torch.tensor(
        [len(seq) - 1 for seq in chunk], dtype=torch.long, device=plan.device
    )
    rows_per_pass, slots_per_prompt = (
        plan.units_per_pass * plan.steps,
        len(plan.layers) * plan.steps,
    )
    steps_t = torch.arange(plan.steps, device=plan.device)

    def step_inputs(batch: list[tuple[int, int]]) -> tuple[dict[str, Any], torch.Tensor]:
        """The pass's rows (prompt-major, then layer, then step) and the fill rows after them."""
        unit_prompt = torch.tensor([p for p, _ in batch], device=plan.device)
        rows_prompt = unit_prompt.repeat_interleave(plan.steps)
        slot = (
            torch.tensor([j for _, j in batch], device=plan.device)[:, None] * plan.steps + steps_t
        ).reshape(-1)
        filled = torch.cat([rows_prompt, rows_prompt[:1].expand(rows_per_pass - len(rows_prompt))])
        owners = torch.unique(unit_prompt).tolist()
        rows = tuple(torch.nonzero(rows_prompt == p)[:, 0] for p in owners)
        prefix = SharedPrefix(
            tuple(prefixes[p] for p in owners), rows, tuple(slot[r] for r in rows), slots_per_prompt
        )
        inputs: dict[str, Any] = dict(
            input_ids=last[filled][:, None], use_cache=False, shared_prefix=prefix
        )
        if plan.with_positions:
            inputs["position_ids"] = last_position[filled][:, None]
        return inputs, filled

    return step_inputs, torch.cat(probability), torch.cat(rank), torch.cat(base)


def _copied_setup(model, chunk, targets, plan, pad):
    """The chunk's prefix run once, padded; each pass
    copies its rows' cache; baseline from one pass."""
    n, device = len(chunk), plan.device
    prefix_ids, prefix_mask = _pad_right([seq[:-1] for seq in chunk], pad, device)
    last = torch.tensor([seq[-1] for seq in chunk], dtype=torch.long, device=device)
    last_position = torch.tensor([len(seq) - 1 for seq in chunk], dtype=torch.long, device=device)
    width = prefix_ids.shape[1]
    for hook in plan.hooks.values():
        hook.rows = None
    with torch.no_grad():
        extra = (
            {"position_ids": torch.arange(width, device=device).expand(n, width)}
            if plan.with_positions
            else {}
        )
        cache = model(
            input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True, **extra
        ).past_key_values

    def rows_inputs(rows: torch.Tensor) -> dict[str, Any]:
        """One token per row after its prompt's prefix, with its own copy of the cache."""
        inputs: dict[str, Any] = dict(input_ids=last[rows][:, None])
        if plan.with_positions:
            inputs["position_ids"] = last_position[rows][:, None]
        copied = copy.deepcopy(cache)
        copied.batch_select_indices(rows)
        ones = torch.ones((len(rows), 1), dtype=torch.long, device=device)
        return inputs | dict(
            attention_mask=torch.cat([prefix_mask[rows], ones], dim=1),
            past_key_values=copied,
            use_cache=True,
        )

    def step_inputs(batch: list[tuple[int, int]]) -> tuple[dict[str, Any], torch.Tensor]:
        rows = torch.tensor([p for p, _ in batch], device=device).repeat_interleave(plan.steps)
        return rows_inputs(rows), rows

    with torch.no_grad():
        baseline = model(**rows_inputs(torch.arange(n, device=device)))
    base = torch.stack([plan.hooks[layer].captured for layer in plan.layers], dim=1)  # (n, L, d_ff)
    return (
        step_inputs,
        _target_probability(baseline.logits, targets),
        _target_rank(baseline.logits, targets),
        base,
    )


def _attribute_chunk(
    model, targets, plan, alphas, weights, step_inputs, probability, rank, base, shared
):
    """The IG passes of one chunk of prompts: units (prompt, layer) of ``steps`` rows each."""
    _check_finite(base, "FF activations")
    device, steps, hooks = plan.device, plan.steps, plan.hooks
    attention = _shared_prefix_attention if shared else (lambda model: nullcontext())
    alphas_d = alphas.to(device=device, dtype=torch.float32)
    weights_d = weights.to(device=device, dtype=torch.float64)
    scores = torch.zeros(base.shape, dtype=torch.float64, device=device)
    units = [(p, j) for p in range(base.shape[0]) for j in range(len(plan.layers))]
    for start in range(0, len(units), plan.units_per_pass):
        batch = units[start : start + plan.units_per_pass]
        unit_prompt = torch.tensor([p for p, _ in batch], device=device)
        leaves = {}
        for j, layer in enumerate(plan.layers):
            mine = [u for u, (_, jj) in enumerate(batch) if jj == j]
            if not mine:
                hooks[layer].rows = None
                continue
            mine_t = torch.tensor(mine, device=device)
            rows = (mine_t[:, None] * steps + torch.arange(steps, device=device)[None, :]).reshape(
                -1
            )
            scaled = alphas_d[None, :, None] * base[unit_prompt[mine_t], j][:, None, :].float()
            leaf = scaled.reshape(-1, base.shape[-1]).requires_grad_(True)
            hooks[layer].rows, hooks[layer].values = rows, leaf
            leaves[j] = (mine_t, leaf)
        inputs, rows_prompt = step_inputs(batch)
        with attention(model):
            out = model(**inputs)
        prob = _target_probability(out.logits, targets[rows_prompt])[
            : len(batch) * steps
        ]  # not the fill rows
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
    return (
        scores.cpu().numpy(),
        probability.double().cpu().numpy(),
        rank.cpu().numpy(),
        base.double().cpu().numpy(),
    )


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
    layers = (
        tuple(range(n_layers_model)) if layers is None else tuple(int(layer) for layer in layers)
    )
    alphas, weights = alpha_grid(steps, grid)
    device = next(model.parameters()).device
    scores, probability, rank, activation = [], [], [], []
    for seq, target in zip(prompts, targets, strict=True):
        ids = torch.tensor([list(seq)], dtype=torch.long, device=device)
        per_layer, acts = [], []
        for layer in layers:
            hook = _Replace()
            with hooks([(site_module(model, layer, site), hook)]):
                with torch.no_grad():
                    logits = model(input_ids=ids).logits
                base = hook.captured[0]
                prob = _target_probability(logits, torch.tensor([target], device=device))
                top = _target_rank(logits, torch.tensor([target], device=device))
                scaled = (
                    alphas.to(device, torch.float32)[:, None] * base[None, :].float()
                ).requires_grad_(True)
                hook.rows, hook.values = torch.arange(steps, device=device), scaled
                out = model(input_ids=ids.expand(steps, -1)).logits
                p = _target_probability(out, torch.full((steps,), target, device=device))
                (grad,) = torch.autograd.grad(p.sum(), [scaled])
            integral = (grad.double() * weights.to(device)[:, None]).sum(dim=0)
            per_layer.append((integral * base.double()).cpu().numpy())
            acts.append(base.double().cpu().numpy())
        scores.append(per_layer)
        activation.append(acts)
        probability.append(float(prob[0]))
        rank.append(int(top[0]))
    return Attributions(
        np.asarray(scores),
        np.asarray(probability),
        np.asarray(rank),
        np.asarray(activation),
        layers,
    )


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
    target_id = (
        target if isinstance(target, int) else target_token(tokenizer, target, multi_token)[0]
    )
    result = batched_attributions(
        model,
        [encode_prompt(tokenizer, prompt)],
        [target_id],
        layers=[layer],
        steps=steps,
        site=site,
        grid=grid,
        pad_token_id=tokenizer.pad_token_id or 0,
    )
    return result.scores[0, 0]
