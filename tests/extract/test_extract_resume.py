"""An extraction killed at any moment resumes and ends byte-identical to an uninterrupted one."""

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from extract_helpers import IDS, LABELS, TEXTS, model_of

from conftest import REPO
from lmanatomy.extract import extract

# The worker builds the same seeded tiny model in every process; SLOW makes each forward pass
# sleep so that a kill lands mid-run.
WORKER = """
import sys, time, torch
torch.set_num_threads(1)
from lmanatomy.testing import tiny_model
from lmanatomy.extract import extract
out, slow = sys.argv[1], float(sys.argv[2])
model, tok = tiny_model("llama", seed=3)
if slow:
    model.model.register_forward_pre_hook(lambda *a: time.sleep(slow))
texts = [("word%d " % i) * (1 + (i * 7) % 13) for i in range(40)]
extract(model, tok, texts,
        {"modules": "linears", "pool": "mean", "batch_size": 2, "rows_per_shard": 3},
        out, labels=[i % 3 for i in range(40)], progress=False)
"""


def _start(script: Path, out: Path, slow: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, str(script), str(out), str(slow)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _kill_when(proc: subprocess.Popen, path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, (
            f"worker ended before {path.name} existed:\n{proc.stdout.read().decode()[-3000:]}"
        )
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_killed_twice_then_resumed_is_byte_identical(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    first = _start(script, reference, 0)
    assert first.wait(timeout=300) == 0, first.stdout.read().decode()[-3000:]

    run = _start(script, resumed, 0.15)
    _kill_when(run, resumed / "part-00001.parquet")
    assert not (resumed / "_manifest.json").exists()
    run = _start(script, resumed, 0.15)
    _kill_when(run, resumed / "part-00006.parquet")
    assert not (resumed / "_manifest.json").exists()
    last = _start(script, resumed, 0)
    assert last.wait(timeout=300) == 0, last.stdout.read().decode()[-3000:]

    expected, found = _files(reference), _files(resumed)
    assert (
        sorted(expected)
        == sorted(found)
        == ["_manifest.json", "_plan.json"] + [f"part-{i:05d}.parquet" for i in range(14)]
    )
    for name in expected:
        assert found[name] == expected[name], name


def _store(tmp_path, name, texts=TEXTS, **spec):
    model, tok = model_of("llama")
    spec = {"modules": "linears", "pool": "mean", "batch_size": 2, "rows_per_shard": 2, **spec}
    return extract(
        model,
        tok,
        texts,
        spec,
        tmp_path / name,
        ids=IDS[: len(texts)],
        labels=LABELS[: len(texts)],
        progress=False,
    )


def test_truncated_and_foreign_shards_are_recomputed_on_resume(tmp_path, caplog):
    store = _store(tmp_path, "store")
    before = _files(store.path)
    other = _store(tmp_path, "other", texts=[t + " more" for t in TEXTS])
    part1, part2 = store.path / "part-00001.parquet", store.path / "part-00002.parquet"
    part1.write_bytes(part1.read_bytes()[:-100])  # truncated: footer gone
    shutil.copy(other.path / "part-00002.parquet", part2)  # foreign: same schema, other texts
    (store.path / ".part-00003.parquet.tmp").write_bytes(b"half a shard")
    with caplog.at_level(logging.WARNING, logger="lmanatomy.extract"):
        _store(tmp_path, "store")
    assert "part-00001.parquet is unreadable" in caplog.text
    assert "part-00002.parquet belongs to another extraction" in caplog.text
    assert _files(store.path) == before


def test_a_changed_plan_starts_the_store_over(tmp_path, caplog):
    _store(tmp_path, "store", rows_per_shard=2)
    assert len(list((tmp_path / "store").glob("part-*.parquet"))) == 4
    with caplog.at_level(logging.WARNING, logger="lmanatomy.extract"):
        store = _store(tmp_path, "store", rows_per_shard=5)
    assert "plan changed" in caplog.text
    assert sorted(p.name for p in store.path.glob("part-*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert _files(store.path) == _files(_store(tmp_path, "fresh", rows_per_shard=5).path)


def test_rerunning_a_complete_store_changes_nothing(tmp_path):
    store = _store(tmp_path, "store")
    before = {p.name: p.stat().st_mtime_ns for p in store.path.glob("part-*")}
    again = _store(tmp_path, "store")
    assert {p.name: p.stat().st_mtime_ns for p in again.path.glob("part-*")} == before
