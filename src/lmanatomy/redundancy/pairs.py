"""Which layer pairs are fitted, which sentences train and test them, and their hidden states.

Hidden states follow ``output_hidden_states``: index 0 is the embedding output, index i (1..L)
the output of decoder layer i (the last one raw or after the final norm, as the probe says). A
layer pair n → n+1 regresses ``hidden_states.<n+1>`` on ``hidden_states.<n>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError, StoreError

SPLIT_COLUMNS = ("id", "text", "split")


def layer_pairs(num_layers: int, include_embedding: bool = False) -> list[int]:
    """Source indices n of the pairs n → n+1 (hidden-state indices).

    ``include_embedding=False`` (the paper) gives the L−1 pairs between decoder layers 1..L; with
    True the embedding → layer 1 pair comes first. With an appended EOS token the embedding row
    is the same vector for every sentence (no position embedding in rotary models), so that pair
    is degenerate there: its X is constant.
    """
    if int(num_layers) < 2:
        raise ValueError(
            f"a model needs at least 2 decoder layers to have a layer pair, got {num_layers}"
        )
    first = 0 if include_embedding else 1
    return list(range(first, int(num_layers)))


def pair_name(source: int) -> str:
    """``"12→13"``: how tables and figures name the pair with source index 12."""
    return f"{source}→{source + 1}"


def choose_sentences(frame: pd.DataFrame, train: int, test: int, seed: int = 0) -> pd.DataFrame:
    """A seeded train/test split of distinct texts: columns id, text, split ("train"/"test").

    Duplicated texts (JSTS repeats a ``sentence1`` across pairs) would put the same hidden state
    on both sides of the split, so each text is kept once (its first row in table order). Then
    ``numpy.random.default_rng(seed).permutation`` picks ``train`` + ``test`` of them; the first
    ``train`` train, the rest test. Rows are returned sorted by id, so the order never depends on
    the permutation.
    """
    missing = [c for c in ("id", "text") if c not in frame.columns]
    if missing:
        raise DataError(f"the dataset table lacks column(s) {missing} (has {list(frame.columns)})")
    if train < 2 or test < 2:
        raise ValueError(
            f"train and test need at least 2 sentences each, got train={train}, test={test}"
        )
    distinct = frame.drop_duplicates("text", keep="first")[["id", "text"]].reset_index(drop=True)
    wanted = train + test
    if len(distinct) < wanted:
        raise DataError(
            f"train + test = {wanted} sentences asked for, but the dataset has only "
            f"{len(distinct)} distinct texts ({len(frame)} rows); lower redundancy.train/test or "
            "use a larger dataset"
        )
    order = np.random.default_rng(seed).permutation(len(distinct))[:wanted]
    chosen = distinct.iloc[order].copy()
    chosen["split"] = ["train"] * train + ["test"] * test
    return chosen.sort_values("id", kind="stable").reset_index(drop=True)


class StoreLike(Protocol):
    """What is read from an activation store (``lmanatomy.extract.open_store``)."""

    def ids(self) -> list[str]: ...

    def read(self, columns: Sequence[str]) -> np.ndarray: ...


def hidden_state_column(index: int) -> str:
    return f"hidden_states.{index}"


def pair_arrays(store: StoreLike, split: pd.DataFrame, source: int) -> dict[str, np.ndarray]:
    """X/Y for the pair ``source`` → ``source+1``, train and test, rows in the split's id order.

    Returns ``x_train``, ``y_train``, ``x_test``, ``y_test`` (float64). Every chosen sentence must
    be in the store, and the store must hold both layers' columns.
    """
    missing = [c for c in SPLIT_COLUMNS if c not in split.columns]
    if missing:
        raise DataError(f"the split table lacks column(s) {missing}")
    ids = list(store.ids())
    position = {key: i for i, key in enumerate(ids)}
    absent = [key for key in split["id"] if key not in position]
    if absent:
        raise StoreError(
            f"{len(absent)} chosen sentences are not in the activation store (e.g. {absent[:3]})"
        )
    columns = [hidden_state_column(source), hidden_state_column(source + 1)]
    available = set(getattr(store, "columns", columns))
    lacking = [c for c in columns if c not in available]
    if lacking:
        raise StoreError(
            f"the activation store has no column(s) {lacking} (has {sorted(available)[:4]}…)"
        )
    x = np.asarray(store.read([columns[0]]), dtype=np.float64)
    y = np.asarray(store.read([columns[1]]), dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    for part in ("train", "test"):
        rows = np.array(
            [position[key] for key in split.loc[split["split"] == part, "id"]], dtype=np.int64
        )
        out[f"x_{part}"] = x[rows]
        out[f"y_{part}"] = y[rows]
    return out


def describe_split(split: pd.DataFrame) -> dict[str, Any]:
    counts = split["split"].value_counts()
    return {"train": int(counts.get("train", 0)), "test": int(counts.get("test", 0))}
