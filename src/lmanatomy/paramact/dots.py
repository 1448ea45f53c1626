"""Dot products of activation scores with float64 accumulation: the one computation both a
score's squared norms (``scores.Scores``) and LLMDcos (``similarity``) need.

A module of its own so that ``scores`` and ``similarity`` do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lmanatomy.errors import DataError

CHUNK = 1024


def dot64(x: torch.Tensor, y: torch.Tensor) -> float:
    """Σ x·y with float32 products summed in chunks of 1024, the chunk sums in float64.

    A plain float32 ``torch.dot`` over a 3.5M-weight layer is off by ~1e-5 relative (BLAS
    accumulates in float32); converting everything to float64 is 30× slower. Chunked dots keep
    the error near 1e-9 at float32 speed. Half-precision inputs are upcast to float32 first.
    """
    x, y = x.reshape(-1), y.reshape(-1)
    if x.dtype in (torch.float16, torch.bfloat16):
        x, y = x.float(), y.float()
    cut = x.numel() - x.numel() % CHUNK
    total = 0.0
    if cut:
        chunks = torch.linalg.vecdot(x[:cut].view(-1, CHUNK), y[:cut].view(-1, CHUNK))
        total += float(chunks.sum(dtype=torch.float64))
    if cut < x.numel():
        total += float(torch.dot(x[cut:].double(), y[cut:].double()))
    return total


def layer_dot(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    """Σ_w A_a(w)·A_b(w) over one layer's weights (see :func:`dot64` for the precision)."""
    if len(a) != len(b):
        raise DataError(f"the two inputs have {len(a)} and {len(b)} weights in this layer")
    total = 0.0
    for x, y in zip(a, b, strict=False):
        if x.shape != y.shape:
            raise DataError(f"weight shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
        total += dot64(x, y)
    return total
