"""File helpers every study shares: atomic writes, file digests, checked table readers.

Atomic writes are what makes a killed run safe to resume (docs/reproducibility.md): a file is
written under a hidden temporary name next to its destination and renamed onto it only when
complete, so a path that exists is whole, and a reader never sees half a table. The rename is
``os.replace``, atomic on one file system, hence the temporary lives in the same folder.

Table readers check the columns a caller relies on and name the file and the missing column:
a table whose format changed under its reader otherwise fails later with a bare ``KeyError``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from lmanatomy.errors import DataError

CHUNK = 1 << 20


def temporary_path(path: str | Path, keep_suffix: bool = False) -> Path:
    """The hidden sibling a write goes to first: ``.<name>.tmp-<pid>`` (the pid keeps two writers
    apart); ``keep_suffix`` ends it with the destination's suffix, for writers that infer the
    format from the name."""
    path = Path(path)
    if keep_suffix:
        return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextmanager
def atomic_path(path: str | Path, keep_suffix: bool = False) -> Iterator[Path]:
    """``with atomic_path(dest) as tmp:`` write ``tmp``; on leaving the block it is renamed onto
    ``dest``, and on an exception it is removed and ``dest`` stays as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path, keep_suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def digest_file(path: str | Path, digest: Any) -> str:
    """Feed a file to a hashlib object in 1 MiB blocks (constant memory); its hex digest."""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file(path: str | Path) -> str:
    """The file's sha256 (hex): how models, datasets and store shards are pinned."""
    return digest_file(path, hashlib.sha256())


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str], source: str | Path
) -> pd.DataFrame:
    """``frame`` unchanged when it has every one of ``columns``; else an error naming ``source``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: no column(s) {missing} (columns: {list(frame.columns)})")
    return frame


def read_table(path: str | Path, columns: Sequence[str] = ()) -> pd.DataFrame:
    """A CSV or Parquet table (by suffix), checked to have ``columns``."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        raise DataError(f"{path}: not a table (expected .csv or .parquet)")
    return require_columns(frame, columns, path)


def read_tables(paths: Sequence[str | Path], columns: Sequence[str] = ()) -> pd.DataFrame:
    """Several tables of one kind stacked in the given order; empty ones are left out (an empty
    frame when all are)."""
    frames = [frame for frame in (read_table(p, columns) for p in paths) if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
