"""Table 1's overlaps with a 95% interval: a bootstrap over the texts of each language.

Table 1 counts how many of language a's top-k ∪ bottom-k neurons are also language b's. Those
sets come from an AP ranking over a finite sample of texts (the paper: 500 per language; the
default run: 80), so another sample would select other neurons and give other counts. The
interval says by how much: in each replicate the texts of every language are resampled with
replacement (each language keeps its number of texts, so every AP keeps its number of
positives), every language's neurons are re-ranked by AP on the resample, and the overlaps are
counted again; the interval is the central 95% of the replicates (conservative order
statistics, pandas' quantile with ``interpolation="lower"`` / ``"higher"``: the sorted
replicates' entries floor(0.025 (B − 1)) and ceil(0.975 (B − 1)), counts that occurred).

Re-ranking all neurons costs one AP ranking per replicate (about 5 CPU-s for SmolLM2's 155,520
neurons × 480 texts), too dear for the default run. Each replicate therefore re-ranks a
*candidate pool*: the union over languages of the ``pool`` neurons of highest and of lowest AP
on the full sample. A neuron outside the pool can enter a resampled top-k only if it overtakes
every pool neuron but k − 1 of its side, which the pool's margin beyond k makes unlikely but not
impossible. Measured on the default run's store (SmolLM2-135M-Instruct, 480 texts, k = 1000): a
pool of 3k per side left 0-2 of each language's 2,000 selected neurons different from a full
re-ranking of the same resample, 2k per side 0-30, 1.5k per side 7-89.
:func:`bootstrap_overlaps` reports the deepest full-sample rank any replicate selected, so that
the notes can say how far the selections reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.language.ap import DEFAULT_MEMORY_MB, average_precision_sets
from lmanatomy.language.ranking import language_masks
from lmanatomy.language.selection import OVERLAP_COUNTS as COUNTS
from lmanatomy.language.selection import bottom_k, ranking, split_counts, top_k

LEVEL = 0.95


def resample_within_languages(
    text_languages: Sequence[str], rng: np.random.Generator
) -> np.ndarray:
    """Row indices of one stratified bootstrap sample: each
    language's rows drawn with replacement, as many as it has.

    Rows keep their language's block order (sorted by first occurrence), so the sample is a
    pure function of the generator's state and the languages.
    """
    text_languages = np.asarray(text_languages, dtype=object)
    parts = []
    for lang in dict.fromkeys(text_languages.tolist()):
        rows = np.flatnonzero(text_languages == lang)
        parts.append(rows[rng.integers(0, len(rows), len(rows))])
    return np.concatenate(parts)


def candidate_pool(ap: np.ndarray, size: int) -> np.ndarray:
    """Sorted neuron indices: for each language (row of ``ap``),
    its ``size`` highest- and ``size`` lowest-AP neurons."""
    ap = np.asarray(ap, dtype=np.float64)
    size = min(int(size), ap.shape[1] // 2)
    chosen = [np.concatenate([top_k(row, size), bottom_k(row, size)]) for row in ap]
    return np.unique(np.concatenate(chosen))


def _selected(ap: np.ndarray, pool: np.ndarray, k: int) -> tuple[list[set[int]], list[set[int]]]:
    """Each language's top-k and bottom-k as global neuron
    indices (ties by index: the pool is sorted)."""
    tops = [set(pool[top_k(row, k)].tolist()) for row in ap]
    bottoms = [set(pool[bottom_k(row, k)].tolist()) for row in ap]
    return tops, bottoms


def bootstrap_overlaps(
    values: np.ndarray,
    pool: np.ndarray,
    full_ap: np.ndarray,
    text_languages: Sequence[str],
    languages: Sequence[str],
    k: int,
    replicates: int,
    seed: int = 0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    device: str | None = None,
) -> tuple[pd.DataFrame, int]:
    """The overlap counts of every replicate, and the
    deepest full-sample rank any replicate selected.

    ``values`` is (texts, pool) — the pool neurons' per-text means, columns in ``pool`` order —
    and ``full_ap`` the (languages, neurons) AP of every neuron on the full sample (for the
    depth diagnostic: a top-k pick's 1-based full-sample rank from the top, a bottom-k pick's from
    the bottom, ties by index as in the selection).
    Returns rows (replicate, language_a, language_b, total, top_top, bottom_bottom, crossed).
    """
    if replicates < 1:
        raise DataError(f"the overlap bootstrap needs at least 1 replicate, got {replicates}")
    if values.shape[1] != len(pool):
        raise DataError(
            f"pool activations have {values.shape[1]} columns for {len(pool)} pool neurons"
        )
    masks = language_masks(text_languages, languages)
    depth = {
        "top": np.empty_like(full_ap, dtype=np.int64),
        "bottom": np.empty_like(full_ap, dtype=np.int64),
    }
    for row, ap in enumerate(
        full_ap
    ):  # 1-based ranks in the orders top_k and bottom_k use (ties by index)
        depth["top"][row, ranking(ap)] = np.arange(1, ap.size + 1)
        depth["bottom"][row, np.lexsort((np.arange(ap.size), ap))] = np.arange(1, ap.size + 1)
    rng = np.random.default_rng(seed)
    rows, deepest = [], 0
    for replicate in range(replicates):
        sample = resample_within_languages(text_languages, rng)
        ap = average_precision_sets(
            values[sample], list(masks[:, sample]), memory_mb=memory_mb, device=device
        )
        tops, bottoms = _selected(ap, pool, k)
        for row in range(len(languages)):
            deepest = max(
                deepest,
                int(depth["top"][row, sorted(tops[row])].max()),
                int(depth["bottom"][row, sorted(bottoms[row])].max()),
            )
        counts = split_counts(tops, bottoms)
        for a, lang_a in enumerate(languages):
            for b, lang_b in enumerate(languages):
                rows.append(
                    {
                        "replicate": replicate,
                        "language_a": lang_a,
                        "language_b": lang_b,
                        **{name: int(counts[name][a, b]) for name in COUNTS},
                    }
                )
    return pd.DataFrame(rows), deepest


def intervals(replicated: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Per pair, the central ``level`` of each count over the
    replicates: ``<count>_lower`` / ``<count>_upper``."""
    tail = (1 - level) / 2
    grouped = replicated.groupby(["language_a", "language_b"], sort=False)
    frame = grouped.size().rename("replicates").reset_index()
    for name in COUNTS:
        frame[f"{name}_lower"] = (
            grouped[name].quantile(tail, interpolation="lower").to_numpy().astype(np.int64)
        )
        frame[f"{name}_upper"] = (
            grouped[name].quantile(1 - tail, interpolation="higher").to_numpy().astype(np.int64)
        )
    return frame


def pool_values(
    read_module: Callable[[str], np.ndarray], ranked: pd.DataFrame, pool: np.ndarray
) -> np.ndarray:
    """(texts, pool) per-text means of the pool neurons, each module read once.

    ``ranked`` is the ranking's frame (index, module = the store column, channel, in census
    order), so the pool's columns come out in pool order without rebuilding the model's census.
    """
    rows = ranked.iloc[pool]
    if not np.array_equal(rows["index"].to_numpy(), pool):
        raise DataError("the ranking's rows are not in neuron-index order")
    modules = rows["module"].astype(str).to_numpy()
    channels = rows["channel"].to_numpy()
    columns = []
    for module in dict.fromkeys(modules.tolist()):
        columns.append(np.asarray(read_module(module))[:, channels[modules == module]])
    return np.ascontiguousarray(np.concatenate(columns, axis=1), dtype=np.float32)
