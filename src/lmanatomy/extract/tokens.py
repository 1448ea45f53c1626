"""Texts to token ids and padded batches.

Tokenisation happens once, up front: the token counts decide how rows fall into shards (for
``pool: all`` a text has one row per token), and their hash is part of the extraction plan, so a
changed tokenizer restarts an extraction instead of mixing two tokenisations in one store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from lmanatomy.errors import ExtractError


def encode(
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    ids: Sequence[str],
    append_eos: bool,
    start: str = "tokenizer",
) -> list[list[int]]:
    """Token ids per text, truncated to ``max_length``, starting as ``start`` says.

    ``start="tokenizer"``: special tokens as the tokenizer adds them. ``"bos_or_eos"``: the
    ids of :func:`start_ids` followed by the text's tokens without special tokens (for a
    tokenizer that only prepends, the same ids as ``"tokenizer"``).
    With ``append_eos`` the tokenizer's EOS id ends every text: appended where the tokenizer did
    not put it there, after truncating the text to ``max_length - 1`` tokens so that truncation
    can never drop it.
    """
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ExtractError(f"text of row '{ids[index]}' is {type(text).__name__}, not a string")
    if start == "tokenizer":
        encoded = tokenizer(
            list(texts), add_special_tokens=True, truncation=True, max_length=max_length
        )["input_ids"]
    else:
        prefix = start_ids(tokenizer, start)
        plain = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        encoded = [(prefix + list(seq))[:max_length] for seq in plain]
    sequences = [list(map(int, seq)) for seq in encoded]
    if append_eos:
        eos = eos_id(tokenizer)
        sequences = [
            seq if seq and seq[-1] == eos else seq[: max_length - 1] + [eos] for seq in sequences
        ]
    for index, seq in enumerate(sequences):
        if not seq:
            raise ExtractError(
                f"text of row '{ids[index]}' has no tokens (empty text and no special tokens added)"
            )
    return sequences


def leading_ids(tokenizer: Any) -> list[int]:
    """The special tokens the tokenizer puts before a
    text (XGLM: ``</s>``, Llama: ``<s>``, BLOOM: none).

    Read off the tokenizer itself rather than ``bos_token_id``: XGLM's BOS is ``<s>`` (id 0)
    but it starts every text with ``</s>`` (id 2), and a chat model's ``bos_token`` may be a
    chat token the tokenizer never adds.
    """
    probe = "a"
    plain = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    for offset in range(len(full) - len(plain) + 1):
        if full[offset : offset + len(plain)] == plain:
            return [int(i) for i in full[:offset]]
    raise ExtractError(
        f"tokenizer {type(tokenizer).__name__} changes a text's own tokens when it adds special "
        "tokens"
    )


def start_ids(tokenizer: Any, start: str) -> list[int]:
    """What precedes every text (and an unconditional
    generation) under the probe's ``start`` rule."""
    if start == "tokenizer":
        return leading_ids(tokenizer)
    if start == "bos_or_eos":
        return leading_ids(tokenizer) or [eos_id(tokenizer)]
    raise ExtractError(f"unknown start rule '{start}' (known: tokenizer, bos_or_eos)")


def eos_id(tokenizer: Any) -> int:
    eos = getattr(tokenizer, "eos_token_id", None)
    if eos is None:
        raise ExtractError(
            "pool 'eos' and start 'bos_or_eos' need an EOS token, but tokenizer "
            f"{type(tokenizer).__name__} has none"
        )
    return int(eos)


def pad_id(tokenizer: Any) -> int:
    """The id written at pad positions; it is masked out, so any valid id does."""
    for attr in ("pad_token_id", "eos_token_id", "unk_token_id"):
        value = getattr(tokenizer, attr, None)
        if value is not None:
            return int(value)
    return 0


def collate(
    sequences: Sequence[Sequence[int]], pad: int, side: str = "right"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), both ``[batch, longest]`` int64, padded on ``side``."""
    if side not in ("right", "left"):
        raise ValueError(f"padding side must be 'right' or 'left', got '{side}'")
    longest = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), longest), pad, dtype=torch.long)
    mask = torch.zeros((len(sequences), longest), dtype=torch.long)
    for row, seq in enumerate(sequences):
        span = slice(0, len(seq)) if side == "right" else slice(longest - len(seq), longest)
        input_ids[row, span] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, span] = 1
    return input_ids, mask


def last_positions(mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last real token, whichever side the padding is on."""
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    return torch.where(mask.bool(), positions, -1).amax(dim=1)


def check_eos(
    input_ids: torch.Tensor, mask: torch.Tensor, eos: int, row_ids: Sequence[str]
) -> None:
    """Every row's last real token must be EOS: the ``eos`` pool reads exactly that position."""
    last = last_positions(mask)
    found = input_ids.gather(1, last[:, None])[:, 0]
    wrong = (found != eos).nonzero()
    if len(wrong):
        row = int(wrong[0, 0])
        raise ExtractError(
            f"row '{row_ids[row]}': the last real token is id {int(found[row])}, not EOS (id "
            f"{eos}); the tokenizer or the batching dropped or moved the appended EOS"
        )
