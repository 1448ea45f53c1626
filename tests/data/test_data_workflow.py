"""The data rules inside Snakemake: downloads planned
(never run) on a dry-run, demo datasets prepared."""

from __future__ import annotations

import json
import re
import shutil
import uuid

import pytest
import yaml

from conftest import REPO, run_snakemake
from lmanatomy.data import read_prepared


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[-1].split("Reasons:")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


@pytest.fixture()
def run_name():
    """A run name of its own; results/<name> is removed afterwards."""
    name = f"test-data-{uuid.uuid4().hex[:8]}"
    yield name
    shutil.rmtree(REPO / "results" / name, ignore_errors=True)


def test_null_root_plans_downloads_without_fetching(tmp_path, run_name):
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config.update(run=run_name, data_root=None, studies=[])
    config["datasets"] = {
        "jsts": {"format": "jsts", "splits": ["valid"]},
        "pawsx": {"format": "pawsx", "splits": ["test"], "languages": ["en", "ja"]},
        "mmlu": {"format": "mmlu", "subjects": ["astronomy"], "splits": ["dev"]},
        "local": {"format": "jnli", "root": "data/demo"},
    }
    path = tmp_path / "null.yaml"
    path.write_text(yaml.safe_dump(config))
    raw_before = (
        sorted((REPO / "data" / "raw").rglob("*")) if (REPO / "data" / "raw").exists() else []
    )
    proc = run_snakemake("-n", "datasets", "--configfile", str(path), check=True)
    jobs = _job_counts(proc.stdout)
    # jsts valid + mmlu astronomy dev + the PAWS-X archive, then two PAWS-X members unpacked from it
    assert (
        jobs.get("download_data") == 3
        and jobs.get("unpack_data") == 2
        and jobs.get("prepare_dataset") == 4
    ), jobs
    outputs = re.findall(r"output: (.+)", proc.stdout)
    for wanted in (
        "data/raw/jglue/jsts-v1.1/valid-v1.1.json",
        "data/raw/pawsx/x-final.tar.gz",
        "data/raw/pawsx/x-final/ja/test_2k.tsv",
        "data/raw/mmlu/data/dev/astronomy_dev.csv",
    ):
        assert any(wanted in line for line in outputs), wanted
    assert (
        "data/raw/jglue/jnli" not in proc.stdout
    )  # the dataset with its own root downloads nothing
    raw_after = (
        sorted((REPO / "data" / "raw").rglob("*")) if (REPO / "data" / "raw").exists() else []
    )
    assert raw_after == raw_before  # a dry-run fetches nothing


def test_snakemake_prepares_the_default_datasets(run_name):
    targets = [
        f"results/{run_name}/data/{name}.parquet" for name in ("jsts", "knowledge_questions")
    ]
    run_snakemake(*targets, "--cores", "1", "--config", f"run={run_name}", check=True)
    folder = REPO / "results" / run_name / "data"
    jsts = read_prepared(folder / "jsts.parquet")
    meta = json.loads((folder / "jsts.json").read_text(encoding="utf-8"))
    assert len(jsts) == meta["rows"] == 1303 and meta["root"] == "data/real"
    assert meta["origin"]["subset"] and meta["origin"]["text"].startswith(
        "real data, subset of 1,303 of 13,908 rows"
    )
    assert len(read_prepared(folder / "knowledge_questions.parquet")) == 152
    assert (REPO / "results" / run_name / "logs" / "data" / "jsts.log").read_text().count(
        "content sha256"
    ) == 1
    assert (REPO / "results" / run_name / "benchmarks" / "data" / "jsts.tsv").is_file()
    proc = run_snakemake(*targets, "-n", "--config", f"run={run_name}", check=True)
    assert "Nothing to be done" in proc.stdout + proc.stderr  # complete outputs are not redone
