"""Average precision of every neuron at once: the language study's expertise score.

Kojima et al. (after Suau et al. 2022) call a neuron language-specific when its per-text mean
activation, read as a classifier score, ranks the texts of one language above the others: its
*expertise* is the average precision (AP) of that ranking. The definition is exactly
``sklearn.metrics.average_precision_score``: texts sorted by decreasing score, one threshold per
*distinct* score (tied texts enter together), AP = Σ_thresholds ΔRecall × Precision.

sklearn scores one neuron per call; Llama-2-13b has 2.1 M neurons. Here a chunk of neurons is
scored with one sort along the text axis and two binary searches per positive text — all
vectorised, on the GPU when present. The sort does not
depend on the labels, so several label vectors (one per language) share it. The chunk size
follows a memory budget, so the working memory is fixed whatever the number of neurons.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from lmanatomy.errors import DataError, NumericalError

# Working memory per (neuron, text) element of a chunk: the input slice and its transposed copy
# (4 + 4), sorted values (4), sort indices (8), sorted labels (4), with headroom for the
# per-positive temporaries and the allocator.
BYTES_PER_ELEMENT = 40
DEFAULT_MEMORY_MB = 512


def as_binary_labels(labels: Any, n_texts: int | None = None) -> np.ndarray:
    """Validate labels as a 1-D 0/1 vector with both classes present; return it as bool.

    AP is undefined without a positive (recall has no denominator) and trivially 1 without a
    negative; sklearn warns and returns a number in those cases, which would silently rank
    meaningless neurons. Both are errors here.
    """
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1:
        raise DataError(f"labels must be a 1-D vector (one per text), got shape {tuple(array.shape)}")
    if n_texts is not None and array.shape[0] != n_texts:
        raise DataError(f"labels have length {array.shape[0]} but scores have {n_texts} texts (rows)")
    if array.dtype != bool:
        if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
            raise DataError(f"labels must be binary 0/1 or bool, got dtype {array.dtype}")
        values = np.unique(array)
        if not np.isin(values, (0, 1)).all():
            shown = ", ".join(map(str, values[:6]))
            raise DataError(f"labels must be binary 0/1, found values {shown}")
        array = array == 1
    positives = int(array.sum())
    if positives == 0:
        raise DataError(f"labels have no positive text (all {array.shape[0]} are 0): average precision is undefined")
    if positives == array.shape[0]:
        raise DataError(f"labels have no negative text (all {array.shape[0]} are 1): average precision is trivially 1")
    return array


def chunk_columns(n_texts: int, memory_mb: float) -> int:
    """How many neurons one chunk may hold within ``memory_mb`` of working memory."""
    if not memory_mb > 0:
        raise DataError(f"memory budget must be positive, got {memory_mb} MB")
    return max(1, int(memory_mb * 2**20 // (BYTES_PER_ELEMENT * max(n_texts, 1))))


def _ap_chunk(chunk: torch.Tensor, label_sets: torch.Tensor, positives: np.ndarray) -> torch.Tensor:
    """AP of each row of ``chunk`` (neurons × texts) for each label vector: (n_sets, neurons), float64.

    sklearn's AP is Σ over thresholds of ΔRecall × Precision, one threshold per distinct score.
    Grouped by positive text instead: a positive with score v enters at the threshold v, where
    precision = (positives scoring ≥ v) / (texts scoring ≥ v), and each positive adds 1/P to
    recall. So AP = (1/P) Σ_positives tp(≥v) / n(≥v) — ties included, since tied texts share v.
    After one ascending sort per row, the positives' sorted positions come from ``nonzero`` (every
    row has exactly P of them), and both counts from ``searchsorted`` on the P positive values —
    O(P log n) per row on top of the sort.
    """
    values, order = torch.sort(chunk, dim=1)
    rows, n = values.shape
    result = torch.empty(label_sets.shape[0], rows, dtype=torch.float64, device=chunk.device)
    for index, labels in enumerate(label_sets):
        count = int(positives[index])
        where = torch.nonzero(labels[order])[:, 1].view(rows, count)
        positive_values = torch.gather(values, 1, where)
        texts_at_least = n - torch.searchsorted(values, positive_values, right=False)
        positives_at_least = count - torch.searchsorted(positive_values, positive_values, right=False)
        result[index] = (positives_at_least.to(torch.float64) / texts_at_least.to(torch.float64)).sum(dim=1) / count
    return result


def _to_tensor(scores: Any) -> torch.Tensor:
    if isinstance(scores, torch.Tensor):
        return scores
    array = np.asarray(scores)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f"scores must be numeric, got dtype {array.dtype}")
    return torch.from_numpy(array)


def _scoring_chunk(tensor: torch.Tensor, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Columns ``start:stop`` on ``device`` as floats, checked finite, transposed to (neurons, texts)."""
    chunk = tensor[:, start:stop].to(device)
    if not chunk.is_floating_point():
        chunk = chunk.to(torch.float64)
    elif chunk.dtype in (torch.float16, torch.bfloat16):
        chunk = chunk.to(torch.float32)  # exact: every half value is a float32 value
    finite = torch.isfinite(chunk).all(dim=0)
    if not bool(finite.all()):
        column = start + int(torch.nonzero(~finite)[0, 0])
        raise NumericalError(f"scores of neuron (column) {column} contain NaN or inf")
    return chunk.T.contiguous()


def average_precision_sets(
    scores: Any,
    label_sets: Sequence[Any],
    memory_mb: float = DEFAULT_MEMORY_MB,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """AP of every column of ``scores`` for each of several binary label vectors.

    One sort per chunk serves every label vector (e.g. one per target language). Returns float64
    of shape (len(label_sets), n_neurons); see :func:`average_precision`.
    """
    tensor = _to_tensor(scores)
    if tensor.ndim != 2:
        raise DataError(f"scores must be 2-D (texts × neurons), got shape {tuple(tensor.shape)}")
    n_texts, n_neurons = tensor.shape
    if len(label_sets) == 0:
        raise DataError("no label vector given")
    masks = np.stack([as_binary_labels(labels, n_texts) for labels in label_sets])
    device = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    label_tensor = torch.from_numpy(masks).to(device)
    positives = masks.sum(axis=1)
    width = chunk_columns(n_texts, memory_mb)
    result = np.empty((len(masks), n_neurons), dtype=np.float64)
    for start in range(0, n_neurons, width):
        stop = min(start + width, n_neurons)
        chunk = _scoring_chunk(tensor, start, stop, device)
        result[:, start:stop] = _ap_chunk(chunk, label_tensor, positives).cpu().numpy()
    return result


def average_precision(
    scores: Any,
    labels: Any,
    memory_mb: float = DEFAULT_MEMORY_MB,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """AP of every column of ``scores`` (n_texts, n_neurons) against binary ``labels`` (n_texts,).

    Equal to ``sklearn.metrics.average_precision_score(labels, scores[:, j])`` for every j,
    ties included (to float64 rounding). Works on NumPy arrays and torch tensors (any device);
    ``device`` (default: CUDA when present) is where the chunks are scored; ``memory_mb`` bounds
    the working memory of one chunk. Returns float64 of shape (n_neurons,).
    """
    return average_precision_sets(scores, [labels], memory_mb=memory_mb, device=device)[0]
