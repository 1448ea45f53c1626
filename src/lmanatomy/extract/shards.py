"""Parquet shards: a deterministic writer and the checks that tell a good shard from a bad one.

Writing is deterministic (fixed compression and level, no dictionary, no statistics, one row
group, no timestamps in the file), so the same rows give the same bytes: a resumed extraction
reproduces an uninterrupted one exactly. Each shard carries the store's fingerprint in its
schema metadata, which is how a shard from another extraction (another model, probe or dataset
with the same columns) is told apart from one of ours.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lmanatomy.errors import StoreError

SHARD_PATTERN = re.compile(r"^part-(\d{5})\.parquet$")
FINGERPRINT_KEY = b"lmanatomy.fingerprint"
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3
VALUE_TYPES = {"float16": pa.float16(), "float32": pa.float32()}
NUMPY_DTYPES = {"float16": np.float16, "float32": np.float32}


def shard_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def temporary_name(index: int) -> str:
    """Where a shard is written before its rename; never matches SHARD_PATTERN."""
    return f".{shard_name(index)}.tmp"


@dataclass(frozen=True)
class Column:
    """One captured module: its column name, width, decoder layer and role."""

    name: str
    width: int
    layer: int
    module: str
    role: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "width": self.width,
            "layer": self.layer,
            "module": self.module,
            "role": self.role,
        }


def store_schema(
    columns: Sequence[Column], key_fields: Sequence[pa.Field], dtype: str, fingerprint: str
) -> pa.Schema:
    # Parquet names a list's child "element"; naming it
    # so here makes the schema survive a round trip.
    value = pa.field("element", VALUE_TYPES[dtype], nullable=False)
    fields = list(key_fields) + [
        pa.field(c.name, pa.list_(value, c.width), nullable=False) for c in columns
    ]
    return pa.schema(fields, metadata={FINGERPRINT_KEY: fingerprint.encode()})


def schema_description(schema: pa.Schema) -> list[list[str]]:
    """[[name, type], …] — what the manifest records and what a shard is compared against."""
    return [[field.name, str(field.type)] for field in schema]


def write_shard(
    path: Path, keys: Mapping[str, pa.Array], values: Mapping[str, np.ndarray], schema: pa.Schema
) -> None:
    """Write one shard to ``path`` (the caller renames it into place once it is complete)."""
    arrays: list[pa.Array] = []
    for field in schema:
        if field.name in keys:
            arrays.append(keys[field.name].cast(field.type))
        else:
            block = values[field.name]
            flat = pa.array(np.ascontiguousarray(block).reshape(-1), type=field.type.value_type)
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, type=field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    pq.write_table(
        table,
        path,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        use_dictionary=False,
        write_statistics=False,
        row_group_size=max(1, table.num_rows),
        store_schema=True,
    )
    with open(path, "rb+") as fh:  # on disk before the rename makes it count as complete
        os.fsync(fh.fileno())


def check_shard(
    path: Path, rows: int, schema: Sequence[Sequence[str]], fingerprint: str
) -> pq.ParquetFile:
    """Open a shard's footer and check it against the manifest; StoreError naming the shard."""
    try:
        handle = pq.ParquetFile(path)
    except FileNotFoundError:
        raise StoreError(f"shard {path} is missing") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for a truncated footer
        raise StoreError(f"shard {path} is unreadable (truncated or not Parquet): {exc}") from None
    if handle.metadata.num_rows != rows:
        raise StoreError(
            f"shard {path} has {handle.metadata.num_rows} rows; the manifest says {rows}"
        )
    arrow_schema = handle.schema_arrow
    found = (arrow_schema.metadata or {}).get(FINGERPRINT_KEY, b"").decode()
    if found != fingerprint:
        raise StoreError(
            f"shard {path} belongs to another extraction (fingerprint {found[:12] or 'none'}, "
            f"expected {fingerprint[:12]})"
        )
    if schema_description(arrow_schema) != [list(map(str, f)) for f in schema]:
        raise StoreError(
            f"shard {path} has columns {schema_description(arrow_schema)[:4]}…, not the manifest's"
        )
    return handle


def column_block(table: pa.Table, name: str, width: int) -> np.ndarray:
    """A FixedSizeList column as a ``[rows, width]`` NumPy array."""
    column = table.column(name).combine_chunks()
    return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)


def shard_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if SHARD_PATTERN.match(p.name))
