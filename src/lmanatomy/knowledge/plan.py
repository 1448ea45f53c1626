"""How the study's work becomes jobs: parts of the checkpoint × word grid, blocks of word pairs.

Pure Python (no torch, no POT): the workflow calls these while it builds the DAG, on every
``snakemake -n``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmanatomy.errors import ConfigError


def chunks(items: Sequence[Any], size: int | None) -> list[list[Any]]:
    """``items`` cut into consecutive blocks of ``size`` (None or 0: one block)."""
    size = len(items) if not size else size
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def plan_parts(
    checkpoints: Sequence[str],
    words: Sequence[str],
    checkpoints_per_job: int | None,
    words_per_job: int | None,
) -> dict[str, dict[str, list[str]]]:
    """Parts of the (checkpoint, word) grid, ``{"checkpoints": [...], "words": [...]}`` by part id.

    A part is a block of checkpoints × a block of words; ids are zero-padded numbers (``0000``),
    the ``{part}`` wildcard.
    A part is one attribution job: it loads each of its checkpoints once and writes one shard per
    (checkpoint, word). The paper's setup uses one (checkpoint, word) per job, so a cluster runs
    760 of them side by side; the small default run uses one job for everything.
    """
    parts = [
        {"checkpoints": block_c, "words": block_w}
        for block_c in chunks(checkpoints, checkpoints_per_job)
        for block_w in chunks(words, words_per_job)
    ]
    return {f"{i:04d}": part for i, part in enumerate(parts)}


def part_items(part: dict[str, Sequence[str]]) -> list[tuple[str, str]]:
    """The (checkpoint, word) pairs of one part, checkpoint-major."""
    return [(checkpoint, word) for checkpoint in part["checkpoints"] for word in part["words"]]


def word_pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    """All unordered pairs (i < j) in matrix order: 703 for 38 words."""
    return [(words[i], words[j]) for i in range(len(words)) for j in range(i + 1, len(words))]


def shard_pairs(words: Sequence[str], shards: int) -> dict[str, list[tuple[str, str]]]:
    """The pairs cut into ``shards`` contiguous blocks
    whose sizes differ by at most one, by id (``000``)."""
    pairs = word_pairs(words)
    if not 1 <= shards <= max(1, len(pairs)):
        raise ConfigError("knowledge.emd_shards", f"{shards} shards for {len(pairs)} word pairs")
    size, extra = divmod(len(pairs), shards)
    blocks, start = [], 0
    for s in range(shards):
        end = start + size + (1 if s < extra else 0)
        blocks.append(pairs[start:end])
        start = end
    return {f"{i:03d}": block for i, block in enumerate(blocks)}
