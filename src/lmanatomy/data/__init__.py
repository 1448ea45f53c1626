"""Datasets: upstream formats read into one normalised table, downloaded and prepared reproducibly.

The public API::

    load(format, root, *, splits=None, languages=None, subjects=None, text_column=None) -> DataFrame
    load_table(format, root, **same options) -> pyarrow.Table
    prepare(spec, root, *, name="dataset") -> DataFrame        # a config `datasets:` entry
    prepare_dataset(spec, root, *, name="dataset") -> Prepared  # the table + its provenance
    write_prepared(frame_or_table, parquet_path, meta_path, *, meta) -> dict
    read_prepared(parquet_path, *, verify=True) -> DataFrame    # what studies read
    download(url, dest, sha256, *, git_blob=None) -> str        # verified, atomic
    fetch(path, raw_root) -> str                                # one file of the download table

``root`` is a folder in the upstream layout (``data/demo``, ``../shared/data``) or None for the
download folder ``data/raw``. The columns are the contract in :mod:`lmanatomy.data.formats`.
"""

from lmanatomy.data.download import download, fetch, sha256_file, unpack, verify_recorded
from lmanatomy.data.formats import COMMON_COLUMNS, FLORES_LANGUAGES, FORMATS, Format
from lmanatomy.data.layout import (
    RAW_ROOT,
    OptionError,
    Resolved,
    dataset_input_paths,
    dataset_root,
    resolve,
)
from lmanatomy.data.loaders import arrow_schema, load, load_table, read_table
from lmanatomy.data.prepare import (
    Prepared,
    content_sha256,
    prepare,
    prepare_dataset,
    read_prepared,
    sample_positions,
    sample_rows,
    write_prepared,
)
from lmanatomy.data.upstream import UPSTREAM, Upstream

__all__ = [
    "COMMON_COLUMNS",
    "FLORES_LANGUAGES",
    "FORMATS",
    "Format",
    "OptionError",
    "Prepared",
    "RAW_ROOT",
    "Resolved",
    "UPSTREAM",
    "Upstream",
    "arrow_schema",
    "content_sha256",
    "dataset_input_paths",
    "dataset_root",
    "download",
    "fetch",
    "load",
    "load_table",
    "prepare",
    "prepare_dataset",
    "read_prepared",
    "read_table",
    "resolve",
    "sample_positions",
    "sample_rows",
    "sha256_file",
    "unpack",
    "verify_recorded",
    "write_prepared",
]
