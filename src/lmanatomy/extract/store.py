"""Reading an activation store: the manifest, shard checks, streaming by column and row range.

A store is a folder of ``part-NNNNN.parquet`` shards and a ``_manifest.json`` written last. The
reader trusts nothing it has not checked: every shard's footer, row count, schema and
fingerprint are compared with the manifest when the store is opened, so a truncated or foreign
shard is a :class:`StoreError` naming it, never silently read. Data are read shard by shard and
only for the columns asked for; :meth:`Store.read` refuses to materialise more than a memory
budget.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lmanatomy.errors import StoreError
from lmanatomy.extract.shards import (
    NUMPY_DTYPES,
    SHARD_PATTERN,
    Column,
    check_shard,
    column_block,
    shard_files,
)

MANIFEST = "_manifest.json"
PLAN = "_plan.json"
STORE_FORMAT = "lmanatomy-activation-store"
FORMAT_VERSION = 1
DEFAULT_MAX_BYTES = 4 * 2**30

Rows = slice | range | tuple[int, int] | None
Columns = str | Sequence[str] | None


@dataclass(frozen=True)
class Shard:
    file: str
    rows: int
    start: int
    sha256: str

    @property
    def stop(self) -> int:
        return self.start + self.rows


@dataclass(frozen=True)
class Chunk:
    """Rows ``[start, stop)`` of the store for some columns: name → ``[rows, width]`` array."""

    start: int
    stop: int
    arrays: dict[str, np.ndarray]

    def stacked(self) -> np.ndarray:
        """The columns side by side, ``[rows, sum of widths]``, in the order asked for."""
        return (
            np.concatenate(list(self.arrays.values()), axis=1)
            if len(self.arrays) > 1
            else next(iter(self.arrays.values()))
        )


def read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise StoreError(
            f"{path} is missing: the extraction has not finished (or this is not a store)"
        ) from None
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path} is not valid JSON: {exc}") from None


class Store:
    """An opened, checked activation store. Use :func:`open_store`."""

    def __init__(self, path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = Path(path)
        if self.path.name == MANIFEST:
            self.path = self.path.parent
        self.manifest = read_json(self.path / MANIFEST)
        if (
            self.manifest.get("format") != STORE_FORMAT
            or self.manifest.get("format_version") != FORMAT_VERSION
        ):
            raise StoreError(
                f"{self.path / MANIFEST}: format {self.manifest.get('format')!r} version "
                f"{self.manifest.get('format_version')!r}; this reader reads {STORE_FORMAT} "
                f"{FORMAT_VERSION}"
            )
        self.max_bytes = int(max_bytes)
        self.column_info = [Column(**c) for c in self.manifest["columns"]]
        self.widths = {c.name: c.width for c in self.column_info}
        self.key_columns: list[str] = list(self.manifest["key_columns"])
        self.dtype = np.dtype(NUMPY_DTYPES[self.manifest["dtype"]])
        self.fingerprint: str = self.manifest["fingerprint"]
        self._schema: list[list[str]] = self.manifest["schema"]
        start, shards = 0, []
        for entry in self.manifest["shards"]:
            shards.append(Shard(entry["file"], int(entry["rows"]), start, entry["sha256"]))
            start += int(entry["rows"])
        self.shards = shards
        if start != self.manifest["num_rows"]:
            raise StoreError(
                f"{self.path / MANIFEST}: shard rows add up to {start}, not num_rows "
                f"{self.manifest['num_rows']}"
            )
        self._check_files()

    # -- description -------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """The captured modules' columns, in forward order."""
        return [c.name for c in self.column_info]

    @property
    def num_rows(self) -> int:
        return int(self.manifest["num_rows"])

    @property
    def probe(self) -> dict[str, Any]:
        return dict(self.manifest["probe"])

    def layer_columns(self, layer: int) -> list[str]:
        """Columns of one decoder layer (for ``hidden_states``: the layer's input,
        ``hidden_states.<layer>``)."""
        return [c.name for c in self.column_info if c.layer == layer]

    def __repr__(self) -> str:
        return (
            f"Store({str(self.path)!r}, rows={self.num_rows}, columns={len(self.column_info)}, "
            f"shards={len(self.shards)})"
        )

    # -- checks ------------------------------------------------------------------------------
    def _check_files(self) -> None:
        listed = {s.file for s in self.shards}
        for path in shard_files(self.path):
            if path.name not in listed:
                raise StoreError(
                    f"shard {path} is not listed in {self.path / MANIFEST} (a foreign or stale "
                    "shard)"
                )
        for shard in self.shards:
            if not SHARD_PATTERN.match(shard.file):
                raise StoreError(f"{self.path / MANIFEST}: bad shard name '{shard.file}'")
            check_shard(self.path / shard.file, shard.rows, self._schema, self.fingerprint)

    def verify(self) -> None:
        """Also compare every shard's SHA-256 with the manifest (reads the whole store once)."""
        from lmanatomy.io import sha256_file

        for shard in self.shards:
            digest = sha256_file(self.path / shard.file)
            if digest != shard.sha256:
                raise StoreError(
                    f"shard {self.path / shard.file}: sha256 {digest} differs from the manifest's "
                    f"{shard.sha256}"
                )

    # -- reading -----------------------------------------------------------------------------
    def _columns(self, columns: Columns) -> list[str]:
        if columns is None:
            return self.columns
        names = [columns] if isinstance(columns, str) else list(columns)
        for name in names:
            if name not in self.widths:
                raise StoreError(
                    f"store {self.path} has no column '{name}' (columns: "
                    f"{', '.join(self.columns[:6])}, …)"
                )
        if len(set(names)) != len(names):
            raise StoreError(f"columns asked for twice: {names}")
        return names

    def _rows(self, rows: Rows) -> tuple[int, int]:
        if rows is None:
            return 0, self.num_rows
        if isinstance(rows, tuple):
            start, stop = rows
        elif isinstance(rows, (slice, range)):
            if rows.step not in (None, 1):
                raise StoreError(f"row ranges are contiguous; got step {rows.step}")
            start, stop, _ = slice(rows.start, rows.stop).indices(self.num_rows)
        else:
            raise StoreError(
                f"rows must be a slice, range or (start, stop); got {type(rows).__name__}"
            )
        if not 0 <= start <= stop <= self.num_rows:
            raise StoreError(
                f"row range [{start}, {stop}) is outside the store's {self.num_rows} rows"
            )
        return int(start), int(stop)

    def _read_shard(self, shard: Shard, names: list[str]) -> pa.Table:
        try:
            handle = check_shard(self.path / shard.file, shard.rows, self._schema, self.fingerprint)
            return handle.read(columns=names)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"shard {self.path / shard.file} could not be read: {exc}") from None

    def iter_chunks(self, columns: Columns = None, rows: Rows = None) -> Iterator[Chunk]:
        """Stream the store shard by shard: at most one shard of the asked columns in memory."""
        names = self._columns(columns)
        start, stop = self._rows(rows)
        for shard in self.shards:
            lo, hi = max(start, shard.start), min(stop, shard.stop)
            if lo >= hi:
                continue
            table = self._read_shard(shard, names)
            arrays = {
                n: column_block(table, n, self.widths[n])[lo - shard.start : hi - shard.start]
                for n in names
            }
            yield Chunk(lo, hi, arrays)

    def nbytes(self, columns: Columns = None, rows: Rows = None) -> int:
        """Bytes that :meth:`read` would return for these columns and rows."""
        names = self._columns(columns)
        start, stop = self._rows(rows)
        return (stop - start) * sum(self.widths[n] for n in names) * self.dtype.itemsize

    def read(
        self, columns: Columns = None, rows: Rows = None, max_bytes: int | None = None
    ) -> np.ndarray:
        """``[rows, sum of widths]`` for the columns in the order given, if it fits the budget."""
        names = self._columns(columns)
        start, stop = self._rows(rows)
        budget = self.max_bytes if max_bytes is None else int(max_bytes)
        need = self.nbytes(names, (start, stop))
        if need > budget:
            raise StoreError(
                f"reading {len(names)} columns × {stop - start} rows of {self.path} needs "
                f"{need / 2**20:.1f} MiB, over the budget of {budget / 2**20:.1f} MiB; stream "
                "with iter_chunks() or read fewer columns/rows"
            )
        out = np.empty((stop - start, sum(self.widths[n] for n in names)), dtype=self.dtype)
        for chunk in self.iter_chunks(names, (start, stop)):
            offset = 0
            for name in names:
                width = self.widths[name]
                out[chunk.start - start : chunk.stop - start, offset : offset + width] = (
                    chunk.arrays[name]
                )
                offset += width
        return out

    def keys(self, rows: Rows = None) -> pa.Table:
        """The key columns (id, label, and position/token for ``pool: all``) for a row range."""
        start, stop = self._rows(rows)
        parts = [
            self._read_shard(s, self.key_columns)
            for s in self.shards
            if s.start < stop and s.stop > start
        ]
        table = pa.concat_tables(parts) if parts else pa.schema([]).empty_table()
        first = next((s.start for s in self.shards if s.start < stop and s.stop > start), start)
        return table.slice(start - first, stop - start)

    def ids(self, rows: Rows = None) -> list[str]:
        return self.keys(rows).column("id").to_pylist()

    def labels(self, rows: Rows = None) -> np.ndarray:
        return self.keys(rows).column("label").to_numpy(zero_copy_only=False)


def open_store(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Store:
    """Open a finished store (its folder or its ``_manifest.json``) and check every shard."""
    return Store(path, max_bytes=max_bytes)
