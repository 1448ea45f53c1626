"""Average precision of every neuron at once: the language study's expertise score.

Kojima et al. (after Suau et al. 2022) call a neuron language-specific when its per-text mean
activation, read as a classifier score, ranks the texts of one language above the others: its
*expertise* is the average precision (AP) of that ranking. The definition is exactly
``sklearn.metrics.average_precision_score``: texts sorted by decreasing score, one threshold per
*distinct* score (tied texts enter together), AP = Σ_thresholds ΔRecall × Precision.

sklearn scores one neuron per call; Llama-2-13b has 2.1 M neurons. Here a chunk of neurons is
scored with one sort along the text axis — all vectorised. On the CPU it is NumPy's value-only
sort of int64 keys that pack each score's order with its text's labels (NumPy's sort is several
times faster than ``torch.sort`` with indices, issue 22.3); on the GPU ``torch.sort`` with two
binary searches per positive text. Either way one sort serves several label vectors (one per
language). The chunk size follows a memory budget, so the working memory is fixed whatever the
number of neurons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from lmanatomy.errors import DataError, NumericalError

# Working memory per (neuron, text) element of a chunk. CPU path: the input slice and its
# transposed copy (4 + 4), float32 values (4), packed int64 keys (8), their value and pattern
# parts (8 + 8), a label mask (1), tie-group starts in rows with ties (8 + 8), with headroom.
# GPU path (torch.sort with indices): less (4 + 4 + 4 + 8 + 4).
BYTES_PER_ELEMENT = 64
DEFAULT_MEMORY_MB = 512


def as_binary_labels(labels: Any, n_texts: int | None = None) -> np.ndarray:
    """Validate labels as a 1-D 0/1 vector with both classes present; return it as bool.

    AP is undefined without a positive (recall has no denominator) and trivially 1 without a
    negative; sklearn warns and returns a number in those cases, which would silently rank
    meaningless neurons. Both are errors here.
    """
    array = (
        labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    )
    if array.ndim != 1:
        raise DataError(
            f"labels must be a 1-D vector (one per text), got shape {tuple(array.shape)}"
        )
    if n_texts is not None and array.shape[0] != n_texts:
        raise DataError(
            f"labels have length {array.shape[0]} but scores have {n_texts} texts (rows)"
        )
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
        raise DataError(
            f"labels have no positive text (all {array.shape[0]} are 0): average precision is "
            "undefined"
        )
    if positives == array.shape[0]:
        raise DataError(
            f"labels have no negative text (all {array.shape[0]} are 1): average precision is "
            "trivially 1"
        )
    return array


def chunk_columns(n_texts: int, memory_mb: float) -> int:
    """How many neurons one chunk may hold within ``memory_mb`` of working memory."""
    if not memory_mb > 0:
        raise DataError(f"memory budget must be positive, got {memory_mb} MB")
    return max(1, int(memory_mb * 2**20 // (BYTES_PER_ELEMENT * max(n_texts, 1))))


def _ap_chunk(chunk: torch.Tensor, label_sets: torch.Tensor, positives: np.ndarray) -> torch.Tensor:
    """AP of each row of ``chunk`` (neurons × texts)
    for each label vector: (n_sets, neurons), float64.

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
        positives_at_least = count - torch.searchsorted(
            positive_values, positive_values, right=False
        )
        result[index] = (
            positives_at_least.to(torch.float64) / texts_at_least.to(torch.float64)
        ).sum(dim=1) / count
    return result


class _Workspace:
    """Buffers of the CPU path, allocated once per call and reused by every chunk.

    Fresh NumPy arrays of this size cost more in first-touch page faults than the arithmetic
    done in them; reusing them keeps the path close to its sort.
    """

    def __init__(self, width: int, n_texts: int):
        self.values = np.empty((width, n_texts), dtype=np.float32)
        self.scratch = np.empty((width, n_texts), dtype=np.int32)
        self.keys = np.empty((width, n_texts), dtype=np.int64)
        self.parts = np.empty((width, n_texts), dtype=np.int64)
        self.flags = np.empty((width, n_texts), dtype=bool)


# Texts per block of the blocked transposition: a block of rows of the (texts × neurons) input
# and its transposed destination stay in cache, which a whole-matrix strided copy does not.
TRANSPOSE_BLOCK = 64


def _transpose_into(out: np.ndarray, part: np.ndarray) -> None:
    """``out[:] = part.T`` (neurons × texts from texts × neurons), block by block of texts."""
    for first in range(0, part.shape[0], TRANSPOSE_BLOCK):
        out[:, first : first + TRANSPOSE_BLOCK] = part[first : first + TRANSPOSE_BLOCK].T


def _sort_keys(tensor: torch.Tensor, start: int, stop: int, space: _Workspace) -> np.ndarray | None:
    """Order-preserving int64 keys of columns ``start:stop`` as rows (neurons, texts), or None.

    A float32's bits, read as int32, order the non-negative floats; flipping the low 31 bits of
    the negative ones orders those too (larger magnitude, smaller key). −0.0 is first made +0.0,
    so that equal scores get equal keys (sklearn ties them). Scores that are not all float32
    values (float64 ones, large integers) return None and take the torch path (same result,
    slower). Non-finite scores are an error naming the column.
    """
    rows = stop - start
    values = space.values[:rows]
    part = tensor[:, start:stop]
    if part.dtype in (torch.float32, torch.float16):
        _transpose_into(values, part.numpy())  # exact: every half value is a float32 value
    elif part.dtype == torch.bfloat16:
        torch.from_numpy(values).copy_(part.T)
    else:
        wide = part.T.to(torch.float64)
        torch.from_numpy(values).copy_(wide)
        if not bool((torch.from_numpy(values).to(torch.float64) == wide).all()) and bool(
            torch.isfinite(wide).all()
        ):
            return None
    finite = np.isfinite(values, out=space.flags[:rows]).all(axis=1)
    if not finite.all():
        raise NumericalError(
            f"scores of neuron (column) {start + int(np.nonzero(~finite)[0][0])} contain NaN or inf"
        )
    np.add(values, np.float32(0.0), out=values)
    bits, scratch = values.view(np.int32), space.scratch[:rows]
    np.right_shift(bits, 31, out=scratch)
    np.bitwise_and(scratch, np.int32(0x7FFFFFFF), out=scratch)
    np.bitwise_xor(bits, scratch, out=bits)
    keys = space.keys[:rows]
    np.copyto(keys, bits)
    return keys


def _ap_chunk_values(
    keys: np.ndarray, masks: np.ndarray, positives: np.ndarray, space: _Workspace
) -> np.ndarray:
    """AP of each row of ``keys`` (from :func:`_sort_keys`)
    for each label vector: (n_sets, neurons).

    The formula of :func:`_ap_chunk`, from one value-only NumPy sort instead of a sort with
    indices: each text's label pattern (its membership in every label vector, at most n distinct)
    is packed into the low bits of its key, so one sort of the packed keys orders the scores and
    carries every label along. Per row, the positives' sorted positions i_k then give
    n(≥v) = n − g and tp(≥v) = P − (positives before g), where g is the first position of v's tie
    group (g = i_k in rows without ties).
    """
    patterns, pattern_of_text = np.unique(masks.T, axis=0, return_inverse=True)
    bits = max(1, int(len(patterns) - 1).bit_length())
    np.left_shift(keys, bits, out=keys)
    np.bitwise_or(keys, pattern_of_text.reshape(-1).astype(np.int64), out=keys)
    keys.sort(axis=1)
    rows, n = keys.shape
    value = np.right_shift(keys, bits, out=space.parts[:rows])
    same = np.equal(value[:, 1:], value[:, :-1], out=space.flags[:rows, : n - 1])
    tied = same.any(axis=1)
    start = None
    if tied.any():  # first position of each tie group, in the rows with ties
        first = np.concatenate([np.ones((int(tied.sum()), 1), bool), ~same[tied]], axis=1)
        start = np.maximum.accumulate(np.where(first, np.arange(n), 0), axis=1)
    pattern = np.bitwise_and(keys, (1 << bits) - 1, out=space.parts[:rows])
    result = np.empty((len(masks), rows), dtype=np.float64)
    for index_set, member in enumerate(patterns.T):
        count = int(positives[index_set])
        positive = np.take(member, pattern, out=space.flags[:rows])
        position = np.flatnonzero(positive).reshape(rows, count) - (n * np.arange(rows))[:, None]
        group = position.copy()
        if start is not None:
            group[tied] = np.take_along_axis(start, position[tied], axis=1)
        order = np.broadcast_to(np.arange(count), (rows, count))
        new_group = np.concatenate(
            [np.ones((rows, 1), bool), group[:, 1:] != group[:, :-1]], axis=1
        )
        first_positive = np.maximum.accumulate(np.where(new_group, order, 0), axis=1)
        result[index_set] = ((count - first_positive) / (n - group)).sum(axis=1) / count
    return result


def _to_tensor(scores: Any) -> torch.Tensor:
    if isinstance(scores, torch.Tensor):
        return scores
    array = np.asarray(scores)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f"scores must be numeric, got dtype {array.dtype}")
    return torch.from_numpy(array)


def _scoring_chunk(
    tensor: torch.Tensor, start: int, stop: int, device: torch.device
) -> torch.Tensor:
    """Columns ``start:stop`` on ``device`` as floats,
    checked finite, transposed to (neurons, texts)."""
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
    device = torch.device(
        device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    label_tensor = torch.from_numpy(masks).to(device)
    positives = masks.sum(axis=1)
    width = chunk_columns(n_texts, memory_mb)
    result = np.empty((len(masks), n_neurons), dtype=np.float64)
    space = (
        _Workspace(min(width, n_neurons), n_texts)
        if device.type == "cpu" and tensor.device.type == "cpu"
        else None
    )
    for start in range(0, n_neurons, width):
        stop = min(start + width, n_neurons)
        keys = _sort_keys(tensor, start, stop, space) if space is not None else None
        if keys is not None:
            result[:, start:stop] = _ap_chunk_values(keys, masks, positives, space)
        else:
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
