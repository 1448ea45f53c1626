"""Reproducibility and fault tolerance of a whole run, on the reduced config
(config/test/reduced.yaml).

* A second run from a clean results folder gives byte-identical tables (every ``*.csv`` and
  ``*.md``) — even when it is killed with SIGKILL (the whole process group: Snakemake and its jobs)
  during extraction, during an analysis job and during table writing, and resumed each time with
  ``--rerun-incomplete``; nothing half-written is left looking complete. One second run checks
  both: every output of it is computed anew (the folder starts empty), so the comparison with the
  reference run is a clean-rerun comparison too, and CI pays for two whole runs instead of three.
* Truncated intermediate Parquet files (an activation shard, a prepared dataset, an attribution
  shard) are found by the integrity sweep and rebuilt, and the tables stay the same.

One reference run is shared by the module; the tests use a run name of their own and remove
``results/<run>/`` at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_snakemake, run_timeout
from lmanatomy.integrity import parquet_problem

pytestmark = pytest.mark.workflow

REDUCED = REPO / "config" / "test" / "reduced.yaml"
# Snakemake's `code` trigger reruns a job whose output has no metadata in this checkout's
# .snakemake/ — here the model converted once into the shared data/models/. The tests are about
# interruptions and damaged files, which the other triggers and the missing outputs decide.
TRIGGERS = ["--rerun-triggers", "mtime", "params", "input", "software-env"]
COMPARED = ("*.csv", "*.md")
NOT_OUTPUTS = ("logs", "benchmarks")
PNG_START, PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"


# -- helpers ------------------------------------------------------------------------------------


class Run:
    """The reduced config under a run name of its own, and how to run it."""

    def __init__(self, config: Path, name: str):
        self.config, self.name = config, name
        self.dir = REPO / "results" / name
        self.targets = ["all"]
        # The language study's store: 8 texts in 2 shards.
        self.store = self.dir / "activations" / "smollm2-135m" / "flores" / "linears_mean"

    def args(self, *extra: str, targets: list[str] | None = None) -> list[str]:
        return [
            "--cores",
            "2",
            *TRIGGERS,
            *extra,
            "--configfile",
            str(self.config),
            "--",
            *(targets or self.targets),
        ]

    def complete(self, *extra: str) -> subprocess.CompletedProcess:
        return run_snakemake(*self.args(*extra), check=True, repair=True)  # as `make run`

    def clean(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def digests(run_dir: Path) -> dict[str, str]:
    """sha256 of every compared file of a run (logs and benchmarks aside), by relative path."""
    files = sorted(
        p
        for pattern in COMPARED
        for p in run_dir.rglob(pattern)
        if p.relative_to(run_dir).parts[0] not in NOT_OUTPUTS
    )
    return {
        p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def assert_same(found: dict[str, str], reference: dict[str, str], what: str) -> None:
    differ = sorted(k for k in reference.keys() & found.keys() if reference[k] != found[k])
    missing, extra = (
        sorted(reference.keys() - found.keys()),
        sorted(found.keys() - reference.keys()),
    )
    assert not (differ or missing or extra), (
        f"{what}: differ {differ}, missing {missing}, unexpected {extra}"
    )


def assert_nothing_half_written(run_dir: Path) -> None:
    """Every output file present is whole: Parquet footers, JSON, CSV, Markdown, PNG, safetensors.
    Temporaries (hidden names) are allowed; Snakemake's logs are not outputs."""
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir)
        if rel.parts[0] in NOT_OUTPUTS or any(part.startswith(".") for part in rel.parts):
            continue
        data = path.read_bytes()
        if path.suffix == ".parquet":
            assert parquet_problem(path) is None, f"{rel}: {parquet_problem(path)}"
        elif path.suffix == ".json":
            json.loads(data)
        elif path.suffix in (".csv", ".md"):
            assert data.endswith(b"\n") and data.count(b"\n") >= 2, f"{rel}: cut short"
        elif path.suffix == ".png":
            assert data.startswith(PNG_START) and data.endswith(PNG_END), f"{rel}: cut short"
        elif path.suffix == ".safetensors":
            header = int.from_bytes(data[:8], "little")
            assert 8 + header <= len(data), f"{rel}: header runs past the end"
            json.loads(data[8 : 8 + header])


def newer(path: Path, since: float) -> bool:
    try:
        return path.stat().st_mtime >= since
    except FileNotFoundError:
        return False


class Killer:
    """Starts Snakemake in a session of its own and
    SIGKILLs the whole group when a condition holds."""

    def __init__(self, log_dir: Path):
        self.log_dir, self.procs, self.count = log_dir, [], 0

    def run_until(
        self,
        run: Run,
        condition: Callable[[float], bool],
        targets: list[str] | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Run until ``condition(start_time)`` holds, then kill; False if the run ended first.
        The limit (conftest.run_timeout) is generous and grows with the machine's load: a whole
        reduced run takes ~5 min on a quiet 2-core machine, several times that on a loaded one."""
        timeout = run_timeout() if timeout is None else timeout
        self.count += 1
        log = open(self.log_dir / f"snakemake-{self.count}.log", "w")
        exe = Path(sys.executable).with_name("snakemake")
        start = time.time()
        proc = subprocess.Popen(
            [str(exe), *run.args("--rerun-incomplete", targets=targets)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "LMANATOMY_REPAIR": "1"},
        )  # as `make run`
        self.procs.append(proc)
        try:
            while time.time() - start < timeout:
                if condition(start):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    return True
                if proc.poll() is not None:
                    assert proc.returncode == 0, (
                        self.log_dir / f"snakemake-{self.count}.log"
                    ).read_text()[-3000:]
                    return False
                time.sleep(0.02)
            raise AssertionError(
                f"run {self.count} neither reached its kill point nor ended in {timeout} s"
            )
        finally:
            log.close()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reduced(tmp_path_factory) -> Iterator[tuple[Run, dict[str, str]]]:
    """The reduced config under a run name of its own, and the digests of one clean run of it."""
    with open(REDUCED, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config["run"] = f"test-repro-{uuid.uuid4().hex[:8]}"
    path = tmp_path_factory.mktemp("repro") / "reduced.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    run = Run(path, config["run"])
    try:
        run.complete()
        reference = digests(run.dir)
        assert len(reference) >= 20 and any(k.startswith("census/") for k in reference)
        yield run, reference
    finally:
        run.clean()


@pytest.fixture()
def killer(tmp_path) -> Iterator[Killer]:
    k = Killer(tmp_path)
    yield k
    k.stop_all()


# -- tests --------------------------------------------------------------------------------------


def test_the_test_registry_keeps_the_default_model_entry():
    """config/test/models.yaml copies smollm2-135m from the main registry; they must not drift."""
    main = yaml.safe_load((REPO / "config" / "models.yaml").read_text(encoding="utf-8"))
    test = yaml.safe_load((REPO / "config" / "test" / "models.yaml").read_text(encoding="utf-8"))
    assert test["smollm2-135m"] == main["smollm2-135m"]


def test_the_reduced_config_enables_every_study():
    from lmanatomy.study import discover

    enabled = yaml.safe_load(REDUCED.read_text(encoding="utf-8"))["studies"]
    assert sorted(enabled) == sorted(s.name for s in discover())


def test_damaged_parquet_files_are_detected_and_rebuilt(reduced):
    run, reference = reduced
    run.complete()  # whatever state an earlier test left: complete
    shard = run.store / "part-00001.parquet"
    dataset = run.dir / "data" / "knowledge_questions.parquet"
    attribution = next(iter(sorted((run.dir / "knowledge" / "attributions").rglob("*.parquet"))))
    for path, keep in ((shard, 0.5), (dataset, 0.9), (attribution, 0.0)):
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
    dry = run_snakemake("-n", *run.args(), check=True)
    assert (dry.stdout + dry.stderr).count(
        "would remove"
    ) == 3 and shard.exists()  # a dry run removes nothing
    proc = run.complete()
    for path in (shard, dataset, attribution):
        assert f"damaged Parquet file {path.relative_to(REPO)}" in proc.stdout + proc.stderr
        assert parquet_problem(path) is None
    jobs = (proc.stdout + proc.stderr).split("Job stats:")[-1].split("\n\n")[0]
    for rule in ("extract", "prepare_dataset", "knowledge_attribute", "knowledge_table2"):
        assert f"\n{rule} " in jobs, f"{rule} did not rerun"
    assert_same(digests(run.dir), reference, "after rebuilding damaged files")


def test_a_second_clean_run_killed_at_three_points_resumes_to_identical_tables(reduced, killer):
    run, reference = reduced
    run.clean()
    logs = run.dir / "logs"

    def extracting(start: float) -> bool:
        return (run.store / "part-00000.parquet").exists() and not (
            run.store / "_manifest.json"
        ).exists()

    def job_started(candidates: list[tuple[str, str]]) -> Callable[[float], bool]:
        """A job of ``candidates`` (log, output) whose output
        is not there yet has started: its log appeared."""
        pending = [
            (logs / log, run.dir / out) for log, out in candidates if not (run.dir / out).exists()
        ]
        assert pending, f"every one of {candidates} already ran"
        return lambda start: any(newer(log, start) and not out.exists() for log, out in pending)

    analysis = [
        ("paramact/smollm2-135m/all.log", "paramact/smollm2-135m/jobs/all/density.csv"),
        ("knowledge/attribute_0000.log", "knowledge/parts/0000.json"),
        ("knowledge/emd_000.log", "knowledge/emd/shard-000.csv"),
        ("lesion/evaluate.log", "lesion/eval/original/scores.json"),
    ]  # one job: the original and its lesion
    tables = [
        ("lesion/table1.log", "lesion/table1.csv"),
        ("knowledge/table2.log", "knowledge/table2.csv"),
        ("paramact/smollm2-135m/figures.log", "paramact/smollm2-135m/findings.csv"),
    ]

    # Extraction first (a run that asks for the store alone: Snakemake would schedule it anywhere),
    # then the first analysis job to start, then the first table job; then to the end.
    store = str((run.store / "_manifest.json").relative_to(REPO))
    assert killer.run_until(run, extracting, targets=[store]), "the run ended before extraction"
    assert_nothing_half_written(run.dir)
    first_shard = (run.store / "part-00000.parquet").stat().st_mtime_ns
    for point in (analysis, tables):
        run_snakemake("--unlock", *run.args(), check=True)  # SIGKILL leaves Snakemake's lock behind
        assert killer.run_until(run, job_started(point)), (
            f"the run ended before any of {point} started"
        )
        assert_nothing_half_written(run.dir)
    run_snakemake("--unlock", *run.args(), check=True)
    assert not killer.run_until(run, lambda start: False)
    assert_nothing_half_written(run.dir)
    assert_same(digests(run.dir), reference, "killed and resumed run")
    assert (
        run.store / "part-00000.parquet"
    ).stat().st_mtime_ns == first_shard  # resumed, not recomputed
