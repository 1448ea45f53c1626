"""Attribution shards: one Parquet file per (checkpoint, word), written atomically, resumable.

A shard holds one row per FF neuron of the model (``layer``, ``neuron``), the word's mean
attribution over its prompts (``attribution``, float64) and each prompt's attribution
(``prompt_<k>``, float32), plus metadata (prompts, target token, P(target) per prompt, the
settings). Its ``key`` is a hash of everything the numbers depend on (model weights, prompts,
target, settings): a driver that finds a shard with the same key skips the work, and one with
another key (settings changed) recomputes it. Shards are written to a temporary name and renamed,
so a shard that exists is complete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lmanatomy.errors import StoreError
from lmanatomy.io import atomic_path

META_KEY = b"lmanatomy.knowledge"


def shard_path(root: str | Path, checkpoint: str, word: str) -> Path:
    return Path(root) / checkpoint / f"{word}.parquet"


def shard_key(parts: Mapping[str, Any]) -> str:
    """A stable hash of the inputs of one shard."""
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()


def write_shard(
    path: str | Path,
    layers: np.ndarray,
    neurons: np.ndarray,
    per_prompt: np.ndarray,
    metadata: Mapping[str, Any],
) -> Path:
    """Write one shard atomically; ``per_prompt`` is (prompts, neurons) float64."""
    path = Path(path)
    per_prompt = np.asarray(per_prompt, dtype=np.float64)
    if per_prompt.ndim != 2 or per_prompt.shape[1] != len(layers) or len(layers) != len(neurons):
        raise StoreError(
            f"{path}: attribution shape {per_prompt.shape} does not match {len(layers)} neurons"
        )
    columns: dict[str, Any] = {
        "layer": pa.array(layers, pa.int16()),
        "neuron": pa.array(neurons, pa.int32()),
        "attribution": pa.array(per_prompt.mean(axis=0), pa.float64()),
    }
    for k, row in enumerate(per_prompt):
        columns[f"prompt_{k}"] = pa.array(row.astype(np.float32), pa.float32())
    table = pa.table(columns).replace_schema_metadata(
        {META_KEY: json.dumps(dict(metadata), sort_keys=True).encode("utf-8")}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def shard_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a shard; a file that is not a readable shard is a :class:`StoreError`."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as exc:
        raise StoreError(f"{path}: not a readable attribution shard ({exc})") from None
    if META_KEY not in meta:
        raise StoreError(f"{path}: no lm-anatomy knowledge metadata; not an attribution shard")
    return json.loads(meta[META_KEY])


def is_complete(path: str | Path, key: str) -> bool:
    """True when ``path`` is a readable shard computed from the same inputs (``key``)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        return shard_metadata(path).get("key") == key
    except StoreError:
        return False


def read_mean(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(layer, neuron, mean attribution) of one shard."""
    try:
        table = pq.read_table(path, columns=["layer", "neuron", "attribution"])
    except (OSError, pa.ArrowInvalid) as exc:
        raise StoreError(f"{path}: not a readable attribution shard ({exc})") from None
    return (table["layer"].to_numpy(), table["neuron"].to_numpy(), table["attribution"].to_numpy())


def read_word(
    root: str | Path, checkpoints: Sequence[str], word: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(layer, neuron, attribution[checkpoint, neuron]) of one word over ``checkpoints``.

    Every shard must list the same neurons in the same order; a missing or mismatched shard is a
    :class:`StoreError` naming it.
    """
    layers = neurons = None
    rows = []
    for checkpoint in checkpoints:
        path = shard_path(root, checkpoint, word)
        if not path.is_file():
            raise StoreError(
                f"attribution shard {path} is missing (word '{word}', checkpoint '{checkpoint}')"
            )
        these_layers, these_neurons, values = read_mean(path)
        if layers is None:
            layers, neurons = these_layers, these_neurons
        elif not (np.array_equal(these_layers, layers) and np.array_equal(these_neurons, neurons)):
            raise StoreError(
                f"{path}: its neurons differ from those of checkpoint '{checkpoints[0]}'"
            )
        if not np.isfinite(values).all():
            raise StoreError(f"{path}: attributions contain NaN or inf")
        rows.append(values)
    return layers, neurons, np.vstack(rows)
