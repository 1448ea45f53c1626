"""A named dataset of a run: load, filter, sample, and write it with its provenance.

``results/<run>/data/<name>.parquet`` holds the normalised table (Parquet, zstd) and
``<name>.json`` beside it says where it came from: ``origin`` (the one fact outputs use to say
whether the data are real, a seeded subset of real files, or demo data: see
:func:`lmanatomy.data.subsets.origin`), the options, the sampling, every source
file with its sha256 (and the pinned upstream hash, or that none was pinned), and a content
hash of the table itself. Both files are deterministic: the same spec and files give the same
bytes, so downstream caches (the activation store) can key on the content hash.

Sampling (``sample: {n, per, seed}``) runs after the split/language/subject filters. Rows are
grouped by the value of column ``per`` (the whole table is one group without ``per``). In each
group, taken in table order, the rows at positions
``numpy.random.default_rng(seed).permutation(len(group))[:n]`` are kept, and kept rows stay in
table order. Each group restarts the generator from ``seed``, so groups of equal size keep the
same positions: sampling FLORES-200 per language keeps line-aligned parallel sentences. With
``groups: independent`` each group draws from its own generator, seeded by ``[seed, sha256 of
the group key]``: translations of different sentences per language (what Kojima et al.'s
released texts show). A group with fewer than ``n`` rows is an error, never a silently smaller
sample.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lmanatomy.data.download import read_record, sha256_file
from lmanatomy.data.formats import FORMATS, Format
from lmanatomy.data.layout import resolve
from lmanatomy.data.loaders import arrow_schema, read_table
from lmanatomy.data.subsets import origin
from lmanatomy.data.upstream import UPSTREAM
from lmanatomy.errors import DataError
from lmanatomy.io import atomic_path, atomic_write_text

if TYPE_CHECKING:  # Arrow is the working form; pandas only where a DataFrame is asked for
    import pandas as pd
    import pyarrow as pa

SAMPLING_METHOD = (
    "per group of `per` (whole table without it), in table order: keep positions "
    "numpy.random.default_rng(seed).permutation(len(group))[:n]; kept rows stay in table order"
)
INDEPENDENT_METHOD = (
    "per group of `per`, in table order: keep positions numpy.random.default_rng([seed, "
    "int.from_bytes(sha256(str(key).encode()).digest()[:8], 'little')]).permutation(len(group))[:n]"
)
GROUPS = ("same_positions", "independent")


def group_seed(seed: int, key: Hashable, independent: bool) -> int | list[int]:
    """The generator seed of one group: ``seed`` itself, or ``[seed, a stable hash of the key]``."""
    if not independent:
        return seed
    return [seed, int.from_bytes(hashlib.sha256(str(key).encode()).digest()[:8], "little")]


HASH_METHOD = (
    "sha256 of UTF-8 JSON lines (ensure_ascii=False, separators=(',', ':')): first "
    "[[column, arrow type], ...], then one [value, ...] per row in table order"
)


@dataclass(frozen=True)
class Prepared:
    """A prepared dataset: the normalised table (Arrow)
    and its provenance (the sidecar, unhashed)."""

    table: pa.Table
    meta: dict[str, Any]

    @property
    def frame(self) -> pd.DataFrame:
        return self.table.to_pandas()


def sample_positions(
    keys: Sequence[Hashable] | None,
    length: int,
    n: int,
    seed: int = 0,
    per: str = "per",
    independent: bool = False,
) -> np.ndarray:
    """Sorted row positions of a seeded sample of ``n``
    rows per distinct key (see the module docstring).

    ``keys`` holds each row's group key (None: one group of ``length`` rows).
    """
    if n < 1:
        raise DataError(f"sample.n must be at least 1, got {n}")
    if keys is None:
        groups = {None: np.arange(length)}
    else:
        members: dict[Hashable, list[int]] = {}
        for position, key in enumerate(keys):
            members.setdefault(key, []).append(position)
        groups = {key: np.asarray(positions) for key, positions in members.items()}
    keep = []
    for key, positions in groups.items():
        if len(positions) < n:
            group = "" if keys is None else f" {per}={key!r}"
            raise DataError(f"sample.n = {n} but the group{group} has only {len(positions)} rows")
        keep.append(
            positions[
                np.random.default_rng(group_seed(seed, key, independent)).permutation(
                    len(positions)
                )[:n]
            ]
        )
    return np.sort(np.concatenate(keep)) if keep else np.arange(0)


def sample_rows(frame: pd.DataFrame, n: int, per: str | None = None, seed: int = 0) -> pd.DataFrame:
    """Seeded sample of ``n`` rows per value of column ``per`` of a DataFrame."""
    if per is not None and per not in frame.columns:
        raise DataError(
            f"sample.per: the table has no column '{per}' (columns: {', '.join(frame.columns)})"
        )
    keys = None if per is None else frame[per].tolist()
    return frame.iloc[sample_positions(keys, len(frame), n, seed, per or "per")].reset_index(
        drop=True
    )


def _sample_table(
    table: pa.Table, n: int, per: str | None, seed: int, independent: bool = False
) -> pa.Table:
    if per is not None and per not in table.column_names:
        raise DataError(
            f"sample.per: the table has no column '{per}' (columns: "
            f"{', '.join(table.column_names)})"
        )
    keys = None if per is None else table.column(per).to_pylist()
    return table.take(sample_positions(keys, table.num_rows, n, seed, per or "per", independent))


def _source(folder: Path, rel: str) -> dict[str, Any]:
    """One source file: its sha256, and how that relates to the download table."""
    path = folder / rel
    actual = sha256_file(path)
    entry = UPSTREAM.get(rel)
    pinned = entry.sha256 if entry is not None else None
    source: dict[str, Any] = {"path": rel, "bytes": path.stat().st_size, "sha256": actual}
    if entry is None:
        source["upstream"] = None
    else:
        origin = entry.url if entry.url is not None else f"{entry.archive}:{entry.member}"
        source["upstream"] = {"from": origin, "sha256": pinned, "pinned": pinned is not None}
    source["matches_upstream"] = None if pinned is None else actual == pinned
    source["fetched"] = read_record(path) is not None  # downloaded by the workflow (hash recorded)
    return source


def _notes(
    sources: list[dict[str, Any]], absent: tuple[str, ...], data_origin: Mapping[str, Any]
) -> list[str]:
    """What a reader of the results must know about the
    data: gaps, unpinned and non-upstream files."""
    notes = [f"not in this root, left out: {item}" for item in absent]
    if data_origin["is_demo"] or data_origin["subset"]:
        notes.append(f"data: {data_origin['text']}")
    unpinned = [
        s["path"] for s in sources if s["upstream"] is not None and not s["upstream"]["pinned"]
    ]
    if unpinned:
        how = (
            "trusted on first download, then verified against that record"
            if all(s["fetched"] for s in sources if s["path"] in unpinned)
            else "not verified against upstream"
        )
        notes.append(f"sha256 not pinned upstream ({how}): {', '.join(unpinned)}")
    differ = [s["path"] for s in sources if s["matches_upstream"] is False]
    if differ and not (data_origin["is_demo"] or data_origin["subset"]):
        notes.append(
            f"{len(differ)} of {len(sources)} source files are not the pinned upstream files "
            f"and the root has no subset manifest: {', '.join(differ)}"
        )
    return notes


def prepare_dataset(
    spec: Mapping[str, Any], root: str | Path | None, *, name: str = "dataset"
) -> Prepared:
    """Build dataset ``name`` from its config spec under ``root`` (None: the download folder)."""
    resolved = resolve(spec, root)
    table = read_table(resolved)
    sample = spec.get("sample")
    sampling = None
    if sample:
        n, per, seed = int(sample["n"]), sample.get("per"), int(sample.get("seed", 0))
        groups = sample.get("groups", GROUPS[0])
        if groups not in GROUPS:
            raise DataError(
                f"dataset '{name}': sample.groups is '{groups}' (known: {', '.join(GROUPS)})"
            )
        independent = groups == "independent"
        rows_before = table.num_rows
        try:
            table = _sample_table(table, n, per, seed, independent)
        except DataError as exc:
            raise DataError(f"dataset '{name}' ({resolved.folder}): {exc}") from None
        sampling = {
            "n": n,
            "per": per,
            "seed": seed,
            "groups": groups,
            "method": INDEPENDENT_METHOD if independent else SAMPLING_METHOD,
            "rows_before": rows_before,
        }
        if per is not None:
            counts: dict[str, int] = {}
            for key in table.column(per).to_pylist():
                counts[str(key)] = counts.get(str(key), 0) + 1
            sampling["rows_per_group"] = counts
    sources = [_source(resolved.folder, rel) for rel in resolved.files]
    data_origin = origin(resolved.folder, resolved.files)
    meta: dict[str, Any] = {
        "name": name,
        "format": resolved.format.name,
        "description": resolved.format.description,
        "root": str(resolved.folder),
        "options": {
            "splits": list(resolved.splits),
            "languages": list(resolved.languages) if resolved.languages is not None else None,
            "subjects": list(resolved.subjects) if resolved.subjects is not None else None,
            "text_column": resolved.text_column,
        },
        "spec": {k: spec[k] for k in sorted(spec)},
        "sample": sampling,
        "rows": table.num_rows,
        "sources": sources,
        "origin": data_origin,
        "notes": _notes(sources, resolved.absent, data_origin),
    }
    return Prepared(table, meta)


def prepare(
    spec: Mapping[str, Any], root: str | Path | None, *, name: str = "dataset"
) -> pd.DataFrame:
    """The normalised table of one dataset spec (filters, ``text_column`` and sampling applied)."""
    return prepare_dataset(spec, root, name=name).frame


# ---------------------------------------------------------------- writing and reading


def _as_table(data: pd.DataFrame | pa.Table, fmt: Format) -> pa.Table:
    import pyarrow as pa

    columns = list(data.column_names if isinstance(data, pa.Table) else data.columns)
    if columns != list(fmt.columns):
        raise DataError(
            f"columns {columns} are not those of format '{fmt.name}': {list(fmt.columns)}"
        )
    if isinstance(data, pa.Table):
        return data.cast(arrow_schema(fmt))
    return pa.Table.from_pandas(
        data, schema=arrow_schema(fmt), preserve_index=False
    ).replace_schema_metadata(None)


def content_sha256(data: pd.DataFrame | pa.Table, fmt: Format) -> str:
    """A hash of the table's content alone (not of Parquet bytes): see ``HASH_METHOD``."""
    table = _as_table(data, fmt)
    digest = hashlib.sha256()
    header = [[name, kind] for name, kind in fmt.column_types.items()]
    digest.update(json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    columns = [table.column(name).to_pylist() for name in fmt.columns]
    for row in zip(*columns, strict=True):
        digest.update(
            json.dumps(
                list(row), ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
            + b"\n"
        )
    return digest.hexdigest()


def write_prepared(
    data: pd.DataFrame | pa.Table,
    parquet_path: str | Path,
    meta_path: str | Path,
    *,
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Write the table (Parquet, zstd) and then its
    sidecar JSON, each atomically; return the sidecar.

    ``data`` is a DataFrame or Arrow table with the format's columns (``meta["format"]``). The
    sidecar is ``meta`` plus ``columns`` (name → Arrow type), ``content_sha256`` and
    ``content_hash_method``; the Parquet file carries the same hash in its schema metadata.
    """
    import pyarrow.parquet as pq

    fmt = FORMATS[meta["format"]]
    try:
        table = _as_table(data, fmt)
    except DataError as exc:
        raise DataError(f"{parquet_path}: {exc}") from None
    digest = content_sha256(table, fmt)
    table = table.replace_schema_metadata(
        {"lmanatomy.format": fmt.name, "lmanatomy.content_sha256": digest}
    )
    with atomic_path(parquet_path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    from lmanatomy import __version__

    sidecar = {
        **meta,
        "rows": table.num_rows,
        "columns": fmt.column_types,
        "content_sha256": digest,
        "content_hash_method": HASH_METHOD,
        "parquet": Path(parquet_path).name,
        "lmanatomy_version": __version__,
    }
    text = json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(meta_path, text)
    return sidecar


def read_origin(parquet_path: str | Path) -> dict[str, Any]:
    """The ``origin`` fact of a prepared dataset, from the sidecar JSON beside its Parquet file."""
    meta_path = Path(parquet_path).with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{meta_path}: the prepared dataset's sidecar is missing") from None
    if "origin" not in meta:
        raise DataError(
            f"{meta_path}: no 'origin' (written by an older lm-anatomy; prepare the dataset again)"
        )
    return meta["origin"]


def read_prepared(parquet_path: str | Path, *, verify: bool = True) -> pd.DataFrame:
    """Read a prepared dataset; with ``verify``, check its columns and recompute its content hash.

    The hash is compared with the one written into the file's schema metadata (the sidecar JSON
    records the same value), so a truncated, edited or foreign file is never read silently.
    """
    import pyarrow.parquet as pq

    parquet_path = Path(parquet_path)
    try:
        table = pq.read_table(parquet_path)
    except FileNotFoundError:
        raise DataError(f"{parquet_path}: prepared dataset not found") from None
    except Exception as exc:  # a truncated or foreign file
        raise DataError(f"{parquet_path}: not a readable Parquet file ({exc})") from None
    metadata = table.schema.metadata or {}
    name = metadata.get(b"lmanatomy.format", b"").decode()
    if name not in FORMATS:
        raise DataError(
            f"{parquet_path}: not a prepared lm-anatomy dataset (no format in its schema metadata)"
        )
    if verify:
        recorded = metadata.get(b"lmanatomy.content_sha256", b"").decode()
        try:
            actual = content_sha256(table, FORMATS[name])
        except DataError as exc:
            raise DataError(f"{parquet_path}: {exc}") from None
        if actual != recorded:
            raise DataError(
                f"{parquet_path}: content sha256 {actual} differs from the recorded {recorded}"
            )
    return table.to_pandas()
