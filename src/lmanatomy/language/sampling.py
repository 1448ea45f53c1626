"""Unconditional sampling from a start token, batched, with one random generator per seed.

Kojima et al. generate from a start token alone (their ``main_prod_env.sh``: XGLM from the prompt
"" = ``</s>``, BLOOM from "</s>", Llama-2 from ``<s>``) with temperature 0.8 and no top-k / top-p
truncation, 64 new tokens, stopping at EOS, seeds 1..100. Hugging Face's ``generate`` applies
``top_k=50`` by default and draws from one global generator, so a sample would depend on the
batch it was drawn in. This loop keeps a KV cache, draws each row's token from that row's own
``torch.Generator`` (one uniform per step, inverse-CDF over the full softmax), and drops rows
that reached EOS — so a seed's text is the same whatever else shares its batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lmanatomy.errors import DataError
from lmanatomy.language.intervention import NeuronIntervention


@dataclass(frozen=True)
class Sample:
    """One generated continuation: its seed, the new token
    ids (EOS excluded) and whether it stopped at EOS."""

    seed: int
    tokens: tuple[int, ...]
    stopped_at_eos: bool


def start_prompt(tokenizer, start: str = "bos_or_eos", expected: str | None = None) -> list[int]:
    """The prompt of unconditional generation: the same
    start token(s) the extraction put before each text.

    ``start`` is the probe's rule (:func:`lmanatomy.extract.tokens.start_ids`), so extraction and
    generation cannot disagree. ``expected`` (the config's ``language.start_tokens`` entry, the
    token the authors started from) is checked against it, so a tokenizer that behaves otherwise
    than the authors' stops the job instead of silently starting elsewhere.
    """
    from lmanatomy.extract.tokens import start_ids

    ids = start_ids(tokenizer, start)
    if not ids:
        raise DataError(
            f"start rule '{start}' gives no start token for {type(tokenizer).__name__}; use the "
            "probe's start: bos_or_eos"
        )
    if expected is not None:
        found = tokenizer.convert_ids_to_tokens(ids)
        if found != [expected]:
            raise DataError(
                f"language.start_tokens: expected the start token '{expected}', but start rule "
                f"'{start}' gives {found} (ids {ids})"
            )
    return ids


def eos_ids(tokenizer, model: nn.Module | None = None) -> set[int]:
    """Token ids that end a generation: the tokenizer's
    EOS and the model's generation-config EOS."""
    ids: set[int] = set()
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(int(tokenizer.eos_token_id))
    config = getattr(model, "generation_config", None)
    configured = getattr(config, "eos_token_id", None)
    if configured is not None:
        ids.update(
            int(i) for i in (configured if isinstance(configured, (list, tuple)) else [configured])
        )
    if not ids:
        raise DataError("neither the tokenizer nor the model defines an EOS token")
    return ids


def draw(logits: torch.Tensor, temperature: float, uniforms: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sampling from softmax(logits / T),
    row by row, with the given uniforms in [0, 1)."""
    probs = torch.softmax(logits.to(torch.float64) / temperature, dim=-1)
    cdf = torch.cumsum(probs, dim=-1)
    target = uniforms.to(cdf.device, torch.float64).unsqueeze(1) * cdf[:, -1:]
    tokens = torch.searchsorted(cdf, target, right=True).squeeze(1)
    return tokens.clamp_(max=logits.shape[-1] - 1)


@torch.no_grad()
def sample_batch(
    model: nn.Module,
    prompt: Sequence[int],
    seeds: Sequence[int],
    max_new_tokens: int = 64,
    temperature: float = 0.8,
    eos_token_ids: Iterable[int] = (),
    intervention: NeuronIntervention | None = None,
) -> list[Sample]:
    """Sample one continuation of ``prompt`` per seed, all rows in one batch with a KV cache.

    ``intervention`` (its rows aligned with ``seeds``, or one pattern for all) must already be
    active (``with intervention:``); rows are dropped from it as they finish.
    """
    from transformers import DynamicCache

    if temperature <= 0:
        raise DataError(f"temperature must be positive, got {temperature}")
    if max_new_tokens < 1:
        raise DataError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if len(seeds) == 0:
        return []
    if intervention is not None and intervention.rows not in (None, len(seeds)):
        raise DataError(
            f"intervention assigns {intervention.rows} rows for a batch of {len(seeds)} seeds"
        )
    device = next(model.parameters()).device
    stop = set(int(i) for i in eos_token_ids)
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    tokens: list[list[int]] = [[] for _ in seeds]
    finished = [False] * len(seeds)
    active = list(range(len(seeds)))  # batch row → sample index
    inputs = torch.tensor([list(prompt)] * len(seeds), dtype=torch.long, device=device)
    cache = DynamicCache()
    for _ in range(max_new_tokens):
        logits = model(input_ids=inputs, past_key_values=cache, use_cache=True).logits[:, -1, :]
        uniforms = torch.cat(
            [torch.rand(1, generator=generators[i], dtype=torch.float64) for i in active]
        )
        chosen = draw(logits, temperature, uniforms).tolist()
        keep = []
        for row, (index, token) in enumerate(zip(active, chosen, strict=True)):
            if token in stop:
                finished[index] = True
            else:
                tokens[index].append(token)
                keep.append(row)
        if not keep:
            break
        if len(keep) < len(active):
            kept = torch.tensor(keep, dtype=torch.long, device=device)
            cache.batch_select_indices(kept)
            if intervention is not None:
                intervention.keep_rows(kept)
            active = [active[row] for row in keep]
            chosen = [chosen[row] for row in keep]
        inputs = torch.tensor(chosen, dtype=torch.long, device=device).unsqueeze(1)
    return [
        Sample(int(seed), tuple(t), f) for seed, t, f in zip(seeds, tokens, finished, strict=True)
    ]
