"""Names of lesions in paths and tables, and how a config's layer ranges count (no torch: the
workflow imports this when it parses).

Harada et al. (2024) count layers from 1: they call 「1-3層」 the shallowest and 「32層」 the last
of 32, exactly the layers LLM-Pruner's defaults (``--block_*_layer_start 3 --block_*_layer_end
31``, 0-based, end exclusive) leave out. So their 「4-8層」 are 1-based layers 4..8, module
indices 3..7. A config says how its ranges count (``layer_numbering``):

* ``one_based_inclusive``: ``[4, 8]`` → indices 3..7 (the paper's numbers);
* ``zero_based_inclusive``: ``[4, 8]`` → indices 4..8;
* ``llm_pruner_start_end``: ``[4, 8]`` → indices 4..7 (LLM-Pruner's start/end arguments; this is
  the other reading of the paper's overlapping ranges 10-14 / 14-18: 4 layers each).

Every lesion name shows the range as the config writes it and the 0-based indices it prunes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from lmanatomy.errors import ConfigError

ORIGINAL = "original"
NUMBERINGS = ("one_based_inclusive", "zero_based_inclusive", "llm_pruner_start_end")
PAPER_LAYERS = 32  # Llama-2-7B, the depth the paper's ranges refer to


def percent_label(share: float) -> str:
    """``0.005`` → ``0.5%``, ``0.02`` → ``2.0%`` (the
    paper's labels); finer shares keep their digits."""
    percent = share * 100
    text = f"{percent:.1f}"
    return f"{text}%" if abs(float(text) - percent) < 1e-9 else f"{percent:g}%"


def layer_indices(
    layers: Sequence[int], numbering: str, key: str = "layer_ranges"
) -> tuple[int, int]:
    """The inclusive 0-based (first, last) module indices of a range written under ``numbering``."""
    if len(layers) != 2:
        raise ConfigError(key, f"a layer range is [first, last], got {list(layers)}")
    a, b = int(layers[0]), int(layers[1])
    if numbering == "one_based_inclusive":
        if a < 1:
            raise ConfigError(key, f"one-based layer numbers start at 1, got {list(layers)}")
        first, last = a - 1, b - 1
    elif numbering == "zero_based_inclusive":
        first, last = a, b
    elif numbering == "llm_pruner_start_end":
        first, last = a, b - 1
    else:
        raise ConfigError(
            "layer_numbering", f"unknown numbering '{numbering}' (known: {', '.join(NUMBERINGS)})"
        )
    if last < first:
        raise ConfigError(key, f"layer range {list(layers)} ({numbering}) holds no layer")
    return first, last


def range_label(layers: Sequence[int]) -> str:
    """The range as the config writes it: ``4-8``."""
    return f"{int(layers[0])}-{int(layers[1])}"


def variant_id(share: float, layers: Sequence[int], numbering: str) -> str:
    """The name of one lesion in paths and jobs:
    ``0.5pct_L4-8_idx3-7`` (as written, then 0-based indices)."""
    first, last = layer_indices(layers, numbering)
    return f"{share * 100:g}pct_L{range_label(layers)}_idx{first}-{last}"


def variant_ids(
    shares: Sequence[float], layer_ranges: Sequence[Sequence[int]], numbering: str
) -> list[str]:
    """Every lesion of a config, share-major as the paper's Table 1 orders its columns."""
    return [variant_id(s, r, numbering) for s in shares for r in layer_ranges]


def scaled_one_based(
    paper_ranges: Sequence[Sequence[int]], num_layers: int, paper_layers: int = PAPER_LAYERS
) -> list[list[int]]:
    """The paper's 1-based ranges of a 32-layer model moved to ``num_layers`` layers, width kept.

    One rule: the first layer's 0-based index scales with depth, rounded half up,
    ``first' = floor((first - 1)·num_layers/32 + 1/2) + 1``; ``last' = first' + (last - first)``.
    """
    out = []
    for first, last in paper_ranges:
        start = math.floor((int(first) - 1) * num_layers / paper_layers + 0.5) + 1
        out.append([start, start + int(last) - int(first)])
    return out
