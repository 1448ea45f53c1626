"""Names of lesions in paths and tables (no torch: the workflow imports this when it parses)."""

from __future__ import annotations

from typing import Sequence

ORIGINAL = "original"


def percent_label(share: float) -> str:
    """``0.005`` → ``0.5%``, ``0.02`` → ``2.0%`` (the paper's labels); finer shares keep their digits."""
    percent = share * 100
    text = f"{percent:.1f}"
    return f"{text}%" if abs(float(text) - percent) < 1e-9 else f"{percent:g}%"


def variant_id(share: float, layers: Sequence[int]) -> str:
    """The name of one lesion in paths: ``0.5pct_L4-8`` (inclusive layers)."""
    return f"{share * 100:g}pct_L{int(layers[0])}-{int(layers[1])}"


def variant_ids(shares: Sequence[float], layer_ranges: Sequence[Sequence[int]]) -> list[str]:
    """Every lesion of a config, share-major as the paper's Table 1 orders its columns."""
    return [variant_id(s, r) for s in shares for r in layer_ranges]
