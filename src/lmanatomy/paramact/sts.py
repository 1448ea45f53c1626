"""Finding 3 and validation 3: in deep layers, LLMDcos
between two sentences follows their similarity.

Wang, Dai & Sui (2024) score both sentences of each STS-B / SICK pair, take LLMDcos per layer and
correlate it (Spearman) with the gold similarity. Their released ``llama_sts.py`` (commit
9350311) sums the per-layer LLMDcos over a deep layer range (12..L−3, 12..L−1, 16..L−3, ... of a
32-layer model) and reports one Spearman per range; its docstring keeps per-layer values for one
run. Here both are reported: Spearman per layer, and Spearman of the sum over the paper's
summary range L/2 .. L−3, each with a percentile-bootstrap interval over pairs.

The pair table (one row per pair and layer) is computed with two forward/backward passes per
pair; the statistics need no model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.paramact.plan import deep_range

STS_COLUMNS = ["dataset", "index", "row_id", "gold", "layer", "llmdcos"]
STAT_COLUMNS = ["dataset", "layers", "pairs", "spearman", "low", "high"]


def sts_pairs(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A seeded sample of ``n`` pairs (without replacement)
    with sentence1, sentence2 and a numeric gold label."""
    for column in ("sentence1", "sentence2", "label"):
        if column not in frame.columns:
            raise DataError(
                f"an STS dataset needs the column '{column}' (columns: {', '.join(frame.columns)})"
            )
    if n > len(frame):
        raise DataError(f"{n} STS pairs asked for, the dataset has {len(frame)}")
    order = np.random.default_rng(seed).permutation(len(frame))[:n]
    pairs = frame.iloc[order].reset_index(drop=True)
    if pairs["label"].isna().any():
        raise DataError("an STS pair has no gold similarity (label is null)")
    return pairs


def sts_table(
    scorer: Any, tokenizer: Any, name: str, pairs: pd.DataFrame, log: logging.Logger | None = None
) -> pd.DataFrame:
    """LLMDcos per layer between the two sentences of every pair (two passes per pair). A pair's
    ``index`` is its position in :func:`sts_pairs`' sample (the frame's index), so a block of the
    sample (tables.block_of, one job of a split) gives the same rows as the whole."""
    from lmanatomy.paramact.similarity import llmdcos

    rows = []
    for index, pair in zip(pairs.index, pairs.itertuples(index=False), strict=True):
        a = scorer.score(scorer.tokenize(tokenizer, str(pair.sentence1)))
        b = scorer.score(scorer.tokenize(tokenizer, str(pair.sentence2)))
        row_id = str(getattr(pair, "id", index))
        for layer, value in enumerate(llmdcos(a, b)):
            rows.append(
                {
                    "dataset": name,
                    "index": index,
                    "row_id": row_id,
                    "gold": float(pair.label),
                    "layer": layer,
                    "llmdcos": float(value),
                }
            )
        del a, b
        if log and (index + 1) % 16 == 0:
            log.info("STS %s: pair %d (%d in this job)", name, index + 1, len(pairs))
    return pd.DataFrame(rows, columns=STS_COLUMNS)


def ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks along axis 0 (ties share their mean rank), as Spearman's rho needs."""
    frame = pd.DataFrame(np.asarray(values, dtype=np.float64))
    return frame.rank(axis=0, method="average").to_numpy()


def spearman_columns(gold: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Spearman's rho between ``gold`` (n,) and each
    column of ``values`` (n, k): Pearson on average ranks.

    A constant column (or constant gold) has no rank order: its rho is NaN.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(gold), -1)
    rg = ranks(np.asarray(gold, dtype=np.float64).reshape(-1, 1))[:, 0]
    rv = ranks(values)
    rg = rg - rg.mean()
    rv = rv - rv.mean(axis=0)
    denom = np.sqrt((rg**2).sum() * (rv**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rg @ rv) / np.where(denom > 0, denom, 1.0), np.nan)


@dataclass(frozen=True)
class Interval:
    """A percentile-bootstrap interval: ``level`` coverage
    from ``resamples`` resamples of the pairs."""

    resamples: int = 1000
    level: float = 0.95
    seed: int = 0


def bootstrap_spearman(
    gold: np.ndarray, values: np.ndarray, interval: Interval
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rho, low, high) per column: rho on all pairs, the
    interval from resampling pairs with replacement."""
    gold = np.asarray(gold, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(len(gold), -1)
    if len(gold) < 3:
        raise DataError(
            f"a Spearman correlation with an interval needs at least 3 pairs, got {len(gold)}"
        )
    rho = spearman_columns(gold, values)
    rng = np.random.default_rng(interval.seed)
    draws = np.empty((interval.resamples, values.shape[1]))
    for b in range(interval.resamples):
        pick = rng.integers(0, len(gold), len(gold))
        draws[b] = spearman_columns(gold[pick], values[pick])
    alpha = (1.0 - interval.level) / 2.0
    low, high = np.nanquantile(draws, [alpha, 1.0 - alpha], axis=0)
    return rho, low, high


def sts_statistics(
    table: pd.DataFrame, num_layers: int, interval: Interval = Interval()
) -> pd.DataFrame:
    """Per dataset: Spearman(gold, LLMDcos) per layer, and of the sum over layers L/2 .. L−3 (the
    released code's statistic on the paper's range), each with its bootstrap interval."""
    first, last = deep_range(num_layers)
    rows = []
    for name, group in table.groupby("dataset", sort=False):
        wide = group.pivot(index="index", columns="layer", values="llmdcos").sort_index()
        if list(wide.columns) != list(range(num_layers)):
            raise DataError(
                f"STS table for '{name}' has layers {list(wide.columns)}, expected "
                f"0..{num_layers - 1}"
            )
        gold = group.drop_duplicates("index").set_index("index").loc[wide.index, "gold"].to_numpy()
        values = np.column_stack(
            [wide.to_numpy(), wide.to_numpy()[:, first : last + 1].sum(axis=1)]
        )
        rho, low, high = bootstrap_spearman(gold, values, interval)
        labels = [str(layer) for layer in range(num_layers)] + [f"sum {first}-{last}"]
        rows += [
            {
                "dataset": name,
                "layers": label,
                "pairs": len(gold),
                "spearman": r,
                "low": lo,
                "high": hi,
            }
            for label, r, lo, hi in zip(labels, rho, low, high, strict=True)
        ]
    return pd.DataFrame(rows, columns=STAT_COLUMNS)
