"""Expertise of every neuron for every language: AP and the positive-text median, module by module.

The activation store holds, per text, the mean output of every decoder-layer linear. For each
target language the texts of that language are the positives and all others the negatives
(Kojima et al.: 500 positives, 2,500 negatives). Two numbers per neuron and language come out:
its AP (the ranking score) and the median of its per-text mean activation over the positive
texts (the value the intervention later fixes it to).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from lmanatomy.errors import DataError, NumericalError
from lmanatomy.language.ap import DEFAULT_MEMORY_MB, average_precision_sets
from lmanatomy.language.neurons import NeuronTable


def language_masks(text_languages: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """(n_languages, n_texts) bool: text i is positive for language l when its language is l.

    Every other text is a negative for l (texts of
    languages outside the list are negatives for all).
    """
    text_languages = np.asarray(text_languages, dtype=object)
    masks = np.stack([text_languages == lang for lang in languages])
    for lang, mask in zip(languages, masks, strict=True):
        if not mask.any():
            raise DataError(f"no text of language '{lang}' among the {len(text_languages)} texts")
    return masks


def positive_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median over the positive rows of each column
    (NumPy's median: mean of the two middle values)."""
    return np.median(values[mask], axis=0)


def rank_neurons(
    table: NeuronTable,
    read_module: Callable[[str], np.ndarray],
    text_languages: Sequence[str],
    languages: Sequence[str],
    memory_mb: float = DEFAULT_MEMORY_MB,
    device: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """AP and positive median of every neuron for every language.

    ``read_module(column)`` returns the (n_texts, width) per-text mean outputs of one module, rows
    in the order of ``text_languages``. Returns the neuron table's frame (index, layer, module,
    channel) with columns ``ap_<lang>`` and ``median_<lang>`` per language, in census order.
    """
    masks = language_masks(text_languages, languages)
    n_texts = masks.shape[1]
    ap = np.empty((len(languages), len(table)), dtype=np.float64)
    median = np.empty((len(languages), len(table)), dtype=np.float64)
    for span in tqdm(table.spans, desc="AP per module", unit="module", disable=not progress):
        values = np.asarray(read_module(span.column))
        if values.shape != (n_texts, span.width):
            raise DataError(
                f"module '{span.column}': activations have shape {values.shape}, expected "
                f"({n_texts}, {span.width})"
            )
        if not np.isfinite(values).all():
            raise NumericalError(f"module '{span.column}': activations contain NaN or inf")
        ap[:, span.offset : span.stop] = average_precision_sets(
            values, list(masks), memory_mb=memory_mb, device=device
        )
        for row, mask in enumerate(masks):
            median[row, span.offset : span.stop] = positive_median(values, mask)
    frame = table.frame()
    for row, lang in enumerate(languages):
        frame[f"ap_{lang}"] = ap[row]
    for row, lang in enumerate(languages):
        frame[f"median_{lang}"] = median[row]
    return frame
