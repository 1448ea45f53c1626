"""lmanatomy.io against plain references: hashlib on the bytes, pandas on the file, the folder."""

import hashlib

import pandas as pd
import pytest

from lmanatomy.errors import DataError
from lmanatomy.io import atomic_path, atomic_write_text, read_table, read_tables, sha256_file


def test_sha256_file_equals_hashlib_on_the_bytes_across_block_boundaries(tmp_path):
    data = bytes(range(256)) * 8193  # just over 2 MiB: three 1 MiB blocks, the last partial
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_an_atomic_write_leaves_only_the_destination(tmp_path):
    dest = tmp_path / "sub" / "table.md"
    atomic_write_text(dest, "a\nb\n")
    assert dest.read_text(encoding="utf-8") == "a\nb\n"
    assert [p.name for p in dest.parent.iterdir()] == ["table.md"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    dest = tmp_path / "table.csv"
    dest.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed while writing")
    assert dest.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_keep_suffix_ends_the_temporary_with_the_destinations_suffix(tmp_path):
    with atomic_path(tmp_path / "fig.png", keep_suffix=True) as tmp:
        assert tmp.suffix == ".png" and tmp.name.startswith(".")
        tmp.write_bytes(b"x")
    assert (tmp_path / "fig.png").read_bytes() == b"x"


def test_read_table_reads_csv_and_parquet_as_pandas_does(tmp_path):
    frame = pd.DataFrame({"layer": [0, 1, 2], "r2": [0.5, 0.25, 0.125]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    csv = read_table(tmp_path / "t.csv", ["layer"])
    pd.testing.assert_frame_equal(csv, pd.read_csv(tmp_path / "t.csv"))
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet", ["r2"]), frame)


def test_read_table_names_the_file_and_the_missing_column(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"layer": [0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"t\.csv: no column\(s\) \['gamma'\]"):
        read_table(path, ["layer", "gamma"])
    with pytest.raises(DataError, match="not a table"):
        read_table(tmp_path / "t.json")


def test_read_tables_stacks_in_order_and_leaves_out_empty_ones(tmp_path):
    paths = []
    for i, rows in enumerate(([1, 2], [], [3])):
        paths.append(tmp_path / f"{i}.csv")
        pd.DataFrame({"x": rows}, dtype="int64").to_csv(paths[-1], index=False)
    assert read_tables(paths, ["x"])["x"].tolist() == [1, 2, 3]
    assert read_tables(paths[1:2]).empty
