"""Batched generation for evaluation: left padding, KV cache, one shared prompt prefix.

Every prompt of a task starts with the same header, instruction and few-shots — most of its
tokens. That common token prefix is run through the model once; its KV cache is copied into
every batch, and only the per-sample rest of each prompt is computed. Rows are laid out as
``[shared prefix][padding][own tokens]``: with the attention mask zero on the padding and
position ids counted from the mask, each row sees exactly the tokens and positions it would see
alone. ``share_prefix=False`` is the plain reference: ``[padding][whole prompt]``.

Prompts are tokenized whole (as a pipeline would), and the prefix is the longest common prefix of
the token ids, so the tokens are the same with and without sharing.

Generation stops for a row at EOS or once its text contains a blank line (``"\\n\\n"``): the
scorer discards everything after the first blank line, so nothing that is scored is lost.

``prompt_pass``: an optional hook entered around each prompt pass (the prefix's forward and each
batch's ``model.generate``, whose first forward is the prefill) with the pass's input ids and
mask; the lesion sweep uses it to reuse the layers a lesion leaves untouched
(``lmanatomy.lesion.replay``). It changes nothing that is computed here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import StoppingCriteria, StoppingCriteriaList


@dataclass(frozen=True)
class GenerationSettings:
    """How predictions are generated; recorded with every result.

    ``max_new_tokens`` None means each task's ``output_length`` (llm-jp-eval's default); the
    paper sets 30. Greedy unless ``do_sample``.
    """

    max_new_tokens: int | None = None
    batch_size: int = 8
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0
    share_prefix: bool = True
    stop_at_blank_line: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PromptPass = Callable[[torch.Tensor, "torch.Tensor | None"], AbstractContextManager[Any]]


def _no_hook(
    input_ids: torch.Tensor, attention_mask: torch.Tensor | None
) -> AbstractContextManager[Any]:
    return nullcontext()


class _BlankLineStop(StoppingCriteria):
    """Per-row stop once the generated text contains
    ``"\\n\\n"`` (a transformers StoppingCriteria)."""

    def __init__(self, tokenizer: Any, start: int):
        self.tokenizer = tokenizer
        self.start = start

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.start :], skip_special_tokens=True)
        return torch.tensor(["\n\n" in t for t in texts], dtype=torch.bool, device=input_ids.device)


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix, kept one token short of the shortest sequence."""
    if not sequences:
        return 0
    first = sequences[0]
    length = min(len(s) for s in sequences) - 1
    for i in range(max(length, 0)):
        token = first[i]
        if any(s[i] != token for s in sequences):
            return i
    return max(length, 0)


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _pad_id(tokenizer: Any) -> int:
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    if tokenizer.eos_token_id is not None:
        return int(tokenizer.eos_token_id)
    raise ValueError("the tokenizer has neither a pad nor an EOS token; cannot pad a batch")


@torch.no_grad()
def generate(
    model: torch.nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    max_new_tokens: int,
    settings: GenerationSettings = GenerationSettings(),
    progress: str | None = None,
    prompt_pass: PromptPass | None = None,
) -> list[str]:
    """The generated continuation (special tokens removed) of every prompt, in input order."""
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if settings.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {settings.batch_size}")
    if not prompts:
        return []
    device = _device(model)
    pad = _pad_id(tokenizer)
    ids = [list(x) for x in tokenizer(list(prompts)).input_ids]
    shared = common_prefix_length(ids) if settings.share_prefix and len(ids) > 1 else 0
    prefix = torch.tensor([ids[0][:shared]], device=device)
    hook = prompt_pass or _no_hook
    prefix_cache = None
    if shared:
        with hook(prefix, None):
            prefix_cache = model(input_ids=prefix, use_cache=True, logits_to_keep=1).past_key_values
    # Longest rest first: batches hold rows of similar length, and the biggest batch runs first.
    order = sorted(range(len(ids)), key=lambda i: (-(len(ids[i]) - shared), i))
    options: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "do_sample": settings.do_sample,
        "pad_token_id": pad,
    }
    if settings.do_sample:
        options.update(temperature=settings.temperature, top_p=settings.top_p)
        torch.manual_seed(settings.seed)
    else:  # greedy, whatever the model's generation_config suggests
        options.update(temperature=None, top_p=None, top_k=None)
    outputs: dict[int, str] = {}
    batches = [
        order[i : i + settings.batch_size] for i in range(0, len(order), settings.batch_size)
    ]
    for batch in tqdm(batches, desc=progress or "generate", unit="batch", disable=progress is None):
        rests = [ids[i][shared:] for i in batch]
        width = max(len(r) for r in rests)
        rows = [ids[0][:shared] + [pad] * (width - len(r)) + r for r in rests]
        mask = [[1] * shared + [0] * (width - len(r)) + [1] * len(r) for r in rests]
        input_ids = torch.tensor(rows, device=device)
        kwargs = dict(options)
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(batch))
            kwargs["past_key_values"] = cache
        if settings.stop_at_blank_line:
            kwargs["stopping_criteria"] = StoppingCriteriaList(
                [_BlankLineStop(tokenizer, input_ids.shape[1])]
            )
        attention_mask = torch.tensor(mask, device=device)
        with hook(input_ids, attention_mask):
            out = model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        texts = tokenizer.batch_decode(out[:, input_ids.shape[1] :], skip_special_tokens=True)
        outputs.update(zip(batch, texts, strict=True))
    return [outputs[i] for i in range(len(ids))]
