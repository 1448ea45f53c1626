"""Your own data: generic formats with a column mapping, read as strictly as the upstream ones.

Formats:

* ``text`` — one text per line (UTF-8; a blank line is an error, not a silently dropped row);
* ``jsonl`` / ``csv`` (header row; ``delimiter``) / ``parquet`` — one row per record, columns
  picked by ``columns:`` (``text`` required unless ``sentence1`` is given; optional ``id``,
  ``label``, ``lang``, ``sentence1``, ``sentence2``, ``score``);
* ``hf`` — a Hub dataset through ``datasets.load_dataset(repo, name, split=split,
  revision=<40-hex commit>)``, cached once as Parquet under ``data/raw/hf/`` (the ``datasets``
  package is optional: installing it is only needed for this format), then read as ``parquet``.

A spec names its files under the dataset's root (``files: [a.jsonl, b.jsonl]``) and one ``split``
name for them (default ``all``). Every bad record is named with its file and line (CSV: the
physical line; Parquet: the 0-based row). Ids are ``<split>/<id column>`` or
``<split>/<file stem>/<0-based record position>``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lmanatomy.errors import DataError
from lmanatomy.io import atomic_path

GENERIC_FORMATS = ("text", "jsonl", "csv", "parquet", "hf")
MAPPED = ("text", "id", "label", "lang", "sentence1", "sentence2", "score")
GENERIC_OPTIONS = ("files", "columns", "split", "delimiter", "repo", "name", "revision")
HF_ROOT = "hf"  # under data/raw
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class SpecError(DataError):
    """An option of a generic dataset spec is wrong; ``option`` names it (``columns.text``)."""

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(message)


def check_spec(spec: Mapping[str, Any]) -> None:
    """Options that fit the format, before any file is read (each error names the option)."""
    fmt = spec["format"]
    columns = spec.get("columns") or {}
    unknown = [key for key in columns if key not in MAPPED]
    if unknown:
        raise SpecError(
            f"columns.{unknown[0]}",
            f"unknown target column '{unknown[0]}' (known: {', '.join(MAPPED)})",
        )
    if fmt == "text":
        if columns:
            raise SpecError("columns", "format 'text' has one text per line and no columns to map")
    elif "text" not in columns and "sentence1" not in columns:
        raise SpecError(
            "columns.text",
            f"format '{fmt}' needs columns.text (the field holding the text) or columns.sentence1",
        )
    if fmt == "hf":
        for key in ("repo", "split", "revision"):
            if not spec.get(key):
                raise SpecError(key, f"format 'hf' needs '{key}'")
        if not _COMMIT.match(str(spec["revision"])):
            raise SpecError(
                "revision",
                f"'{spec['revision']}' is not a full 40-hex commit hash of the dataset repository",
            )
        if spec.get("files"):
            raise SpecError("files", "format 'hf' takes repo/name/split/revision, not files")
    elif not spec.get("files"):
        raise SpecError(
            "files", f"format '{fmt}' needs 'files': the data files under the dataset's root"
        )
    if spec.get("delimiter") is not None and fmt != "csv":
        raise SpecError("delimiter", "option 'delimiter' applies to format 'csv' only")


def hf_cache_path(spec: Mapping[str, Any]) -> str:
    """``hf/<owner>__<repo>/<revision>/<name>/<split>.parquet`` (relative to data/raw)."""
    repo = str(spec["repo"]).replace("/", "__")
    return (
        f"{HF_ROOT}/{repo}/{spec['revision']}/"
        f"{spec.get('name') or 'default'}/{spec['split']}.parquet"
    )


def spec_files(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """Root-relative files the spec reads (for hf: its cached Parquet under data/raw)."""
    return (
        (hf_cache_path(spec),) if spec["format"] == "hf" else tuple(str(f) for f in spec["files"])
    )


def split_name(spec: Mapping[str, Any]) -> str:
    return str(spec.get("split") or "all")


# ---------------------------------------------------------------- records of each file kind


def _records(kind: str, path: Path, delimiter: str = ",") -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, record) for each record of a file; ``where`` is 'file, line N' (or 'row N')."""
    from lmanatomy.data.loaders import json_lines, lines_of, read_text

    if kind == "jsonl":
        for lineno, obj in json_lines(path):
            yield f"{path}, line {lineno}", obj
    elif kind == "text":
        lines = lines_of(read_text(path))
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                raise DataError(
                    f"{path}, line {lineno}: blank line (format 'text' is one text per line)"
                )
            yield f"{path}, line {lineno}", {"text": line}
    elif kind == "csv":
        reader = csv.DictReader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
        count = 0
        for row in reader:
            if None in row:
                raise DataError(f"{path}, line {reader.line_num}: more fields than the header has")
            count += 1
            yield f"{path}, line {reader.line_num}", row
        if count == 0:
            raise DataError(f"{path}: no records under the header")
    elif kind in ("parquet", "hf"):
        yield from _parquet_records(path)
    else:
        raise ValueError(f"not a generic format: {kind}")


def _parquet_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    if table.num_rows == 0:
        raise DataError(f"{path}: no rows")
    for index, row in enumerate(table.to_pylist()):
        yield f"{path}, row {index}", row


def _mapped(record: Mapping[str, Any], columns: Mapping[str, str], where: str) -> dict[str, Any]:
    """The target columns of one record; a missing or empty field is an error naming the place."""
    out: dict[str, Any] = {}
    for target, source in columns.items():
        if source not in record:
            raise DataError(
                f"{where}: no field '{source}' (mapped to {target}; fields: "
                f"{', '.join(map(str, record))})"
            )
        value = record[source]
        if value is None or (
            isinstance(value, str)
            and target in ("text", "sentence1", "sentence2", "id")
            and not value.strip()
        ):
            raise DataError(f"{where}: field '{source}' (mapped to {target}) is empty")
        out[target] = value
    return out


def _typed(values: dict[str, Any], where: str) -> dict[str, Any]:
    for key in ("text", "sentence1", "sentence2", "lang"):
        if key in values and not isinstance(values[key], str):
            raise DataError(
                f"{where}: {key} should be a string, got {type(values[key]).__name__} "
                f"{str(values[key])[:40]!r}"
            )
    if "score" in values:
        try:
            values["score"] = float(values["score"])
        except (TypeError, ValueError):
            raise DataError(f"{where}: score {values['score']!r} is not a number") from None
    if "label" in values:
        values["label"] = str(values["label"])
    if "id" in values:
        values["id"] = str(values["id"])
    return values


def read_generic(
    root: Path, files: tuple[str, ...], split: str, spec: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rows of the normalised table (without split and source) for one file of a generic spec."""
    fmt = spec["format"]
    columns = dict(spec.get("columns") or {"text": "text"})
    if "text" not in columns:
        columns["text"] = columns["sentence1"]
    rows = []
    (rel,) = files
    path = root / rel
    for position, (where, record) in enumerate(_records(fmt, path, spec.get("delimiter") or ",")):
        values = _typed(_mapped(record, columns, where), where)
        key = values.pop("id", None)
        rows.append(
            {
                "id": f"{split}/{key}"
                if key is not None
                else f"{split}/{Path(rel).stem}/{position}",
                "text": values["text"],
                "label": values.get("label"),
                "lang": values.get("lang"),
                "sentence1": values.get("sentence1"),
                "sentence2": values.get("sentence2"),
                "score": values.get("score"),
            }
        )
    return rows


# ---------------------------------------------------------------- the hf format's one download


def fetch_hf_dataset(spec: Mapping[str, Any], dest: str | Path, load_dataset: Any = None) -> Path:
    """Load a pinned Hub dataset split with
    ``datasets.load_dataset`` and cache it as Parquet at ``dest``.

    ``load_dataset`` defaults to the ``datasets`` package's (optional: an error says how to
    install it); tests pass the same function pointed at a local dataset folder.
    """
    if load_dataset is None:
        try:
            from datasets import load_dataset
        except ImportError:
            raise DataError(
                "format 'hf' needs the optional package 'datasets' (pip install datasets)"
            ) from None
    dest = Path(dest)
    data = load_dataset(
        spec["repo"], spec.get("name"), split=spec["split"], revision=spec["revision"]
    )
    with atomic_path(dest) as tmp:
        data.to_parquet(str(tmp))
    return dest


def describe(spec: Mapping[str, Any]) -> str:
    """One line for the metadata: what the generic spec read and how its columns were mapped."""
    mapping = json.dumps(dict(spec.get("columns") or {}), sort_keys=True)
    if spec["format"] == "hf":
        return (
            f"Hub dataset {spec['repo']} ({spec.get('name') or 'default'}, split {spec['split']}) "
            f"at {spec['revision']}, columns {mapping}"
        )
    return f"{spec['format']} files {', '.join(map(str, spec['files']))}, columns {mapping}"
