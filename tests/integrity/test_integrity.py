"""The integrity sweep: damaged Parquet files (and what vouches for them) are found and removed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lmanatomy.integrity import Damaged, find_damaged, parquet_problem, repair_requested, sweep


def _parquet(path: Path, rows: int = 50) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": [f"r{i}" for i in range(rows)], "x": range(rows)}).to_parquet(path)
    return path


def _sweep(root: Path, remove: bool = True) -> tuple[list[Damaged], list[str]]:
    lines: list[str] = []
    return sweep(root, remove=remove, warn=lines.append), lines


def test_a_healthy_file_is_untouched(tmp_path):
    good = _parquet(tmp_path / "run" / "data" / "a.parquet")
    before = good.read_bytes()
    damaged, lines = _sweep(tmp_path / "run")
    assert damaged == [] and lines == []
    assert good.read_bytes() == before and parquet_problem(good) is None


@pytest.mark.parametrize("cut", [1, 7, 200])
def test_a_truncated_file_is_removed_with_one_warning(tmp_path, cut):
    good = _parquet(tmp_path / "run" / "data" / "a.parquet")
    bad = _parquet(tmp_path / "run" / "data" / "b.parquet")
    bad.write_bytes(bad.read_bytes()[:-cut])
    with pytest.raises(pa.ArrowException):  # the reader agrees that the file is broken
        pq.read_table(bad)
    damaged, lines = _sweep(tmp_path / "run")
    assert [d.path for d in damaged] == [bad]
    assert not bad.exists() and good.exists()
    assert len(lines) == 1 and str(bad) in lines[0] and "removed" in lines[0]


def test_a_zero_byte_file_is_removed(tmp_path):
    empty = tmp_path / "run" / "x" / "empty.parquet"
    empty.parent.mkdir(parents=True)
    empty.touch()
    damaged, lines = _sweep(tmp_path / "run")
    assert [d.path for d in damaged] == [empty] and "0 bytes" in lines[0]
    assert not empty.exists()


def test_a_footer_length_that_does_not_fit_is_caught(tmp_path):
    path = _parquet(tmp_path / "run" / "a.parquet")
    data = bytearray(path.read_bytes())
    data[-8:-4] = (len(data)).to_bytes(4, "little")  # longer than the file itself
    path.write_bytes(bytes(data))
    assert "footer length" in parquet_problem(path)


def test_a_file_with_the_wrong_start_is_caught(tmp_path):
    path = _parquet(tmp_path / "run" / "a.parquet")
    path.write_bytes(b"XXXX" + path.read_bytes()[4:])
    assert "does not start with PAR1" in parquet_problem(path)


def test_a_dry_sweep_only_reports(tmp_path):
    bad = tmp_path / "run" / "a.parquet"
    bad.parent.mkdir()
    bad.write_bytes(b"PAR1 not really")
    damaged, lines = _sweep(tmp_path / "run", remove=False)
    assert len(damaged) == 1 and bad.exists() and "would remove" in lines[0]


def test_temporaries_logs_and_a_missing_folder_are_skipped(tmp_path):
    run = tmp_path / "run"
    for name in (".a.parquet.tmp-12", ".hidden.parquet", "logs/x.parquet", "benchmarks/y.parquet"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_bytes(b"half")
    assert find_damaged(run) == []
    assert find_damaged(tmp_path / "absent") == []


def test_a_store_shard_takes_the_store_manifest_with_it(tmp_path):
    store = tmp_path / "run" / "activations" / "m" / "d" / "p"
    shards = [_parquet(store / f"part-{i:05d}.parquet") for i in range(2)]
    (store / "_plan.json").write_text("{}")
    (store / "_manifest.json").write_text(
        json.dumps({"shards": [{"file": s.name} for s in shards]})
    )
    shards[1].write_bytes(shards[1].read_bytes()[:-10])
    damaged, lines = _sweep(tmp_path / "run")
    assert damaged[0].rebuild == (store / "_manifest.json",)
    assert not shards[1].exists() and not (store / "_manifest.json").exists()
    assert (
        shards[0].exists() and (store / "_plan.json").exists()
    )  # the intact shard is resumed from
    assert "_manifest.json" in lines[0]


def test_a_json_that_lists_the_file_goes_with_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = Path("results") / "run"
    shard = _parquet(root / "knowledge" / "attributions" / "step1" / "Cat.parquet")
    other = _parquet(root / "knowledge" / "attributions" / "step1" / "Dog.parquet")
    part = root / "knowledge" / "parts" / "0000.json"
    part.parent.mkdir(parents=True)
    part.write_text(json.dumps({"shards": [{"shard": str(shard)}, {"shard": str(other)}]}))
    unrelated = root / "data" / "cat.json"
    unrelated.parent.mkdir(parents=True)
    unrelated.write_text(
        json.dumps({"parquet": "Cat.parquet", "note": f"see {shard} (prose, not a path value)"})
    )
    shard.write_bytes(b"")
    damaged, _ = _sweep(root)
    assert damaged[0].vouchers == (part,)
    assert not part.exists() and unrelated.exists() and other.exists()


def test_a_declared_output_is_rebuilt_itself(tmp_path):
    bad = tmp_path / "run" / "data" / "a.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"")
    (damaged,), _ = _sweep(tmp_path / "run")
    assert damaged.rebuild == (bad,)


@pytest.mark.parametrize(
    ("environ", "removes"),
    [
        ({"LMANATOMY_REPAIR": "1"}, True),
        ({"LMANATOMY_REPAIR": "0"}, False),
        ({"LMANATOMY_REPAIR": ""}, False),
        ({}, False),  # a plain `snakemake`, a dry run, lint, the Python API: report only
    ],
)
def test_only_an_explicit_repair_removes(environ, removes):
    assert repair_requested(environ) is removes


def test_an_unreadable_repair_switch_is_refused_with_its_name():
    with pytest.raises(ValueError, match="LMANATOMY_REPAIR='yes'"):
        repair_requested({"LMANATOMY_REPAIR": "yes"})
