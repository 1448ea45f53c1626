"""Shared fixtures: the repository root, the real data beside it, tiny models."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LMANATOMY_SHARED_DATA", REPO.parent / "shared" / "data"))
SCHEMAS = REPO / "workflow" / "schemas"
SLURM_PROFILE = REPO / "workflow" / "profiles" / "slurm"


def pytest_configure(config):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _hide_scontrol(config)


def _hide_scontrol(config: pytest.Config) -> None:
    """Put a failing ``scontrol`` first on PATH for the suite's Snakemake processes.

    Why: every Snakemake start imports every installed executor plugin, and the SLURM plugin's
    import runs ``scontrol show config`` to pick a default status command. Where SLURM's packages
    are installed but no controller runs (a CI machine after .ci/slurm-check.sh, a laptop), that
    call waits ~9 s for the controller before it gives up — on each of the suite's dozens of
    Snakemake starts. The suite never talks to a SLURM controller (the real cluster check is
    .ci/slurm-check.sh, outside pytest), so answering "no controller" at once changes nothing it
    checks. LMANATOMY_TEST_SCONTROL=1 keeps the real one.
    """
    if os.environ.get("LMANATOMY_TEST_SCONTROL") == "1" or shutil.which("scontrol") is None:
        return
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    folder = (
        Path(cache.mkdir("no-slurm"))
        if cache
        else Path(tempfile.mkdtemp(prefix="lmanatomy-no-slurm-"))
    )
    shim = folder / "scontrol"
    shim.write_text(
        "#!/bin/sh\necho 'scontrol: hidden by the test suite (tests/conftest.py)' >&2\nexit 1\n"
    )
    shim.chmod(0o755)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real upstream data files (../shared/data); tests using them skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture()
def config(monkeypatch):
    """A fresh copy of the default config, read with the project root as working directory
    (the config's paths are relative to it)."""
    import yaml

    monkeypatch.chdir(REPO)
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="session")
def registry():
    from lmanatomy.models import load_registry

    return load_registry(REPO / "config" / "models.yaml")


@pytest.fixture(scope="session")
def tokenizer():
    from lmanatomy.testing import tiny_tokenizer

    return tiny_tokenizer()


# A subprocess limit is a guard against a hung run, not a speed test. The base (a whole reduced
# run takes ~5 min on a quiet 2-core machine) is stretched by the machine's load per core, read
# when the run starts: the suite's runs once overran a fixed 1,200 s under load and failed for it.
SNAKEMAKE_TIMEOUT = int(os.environ.get("LMANATOMY_RUN_TIMEOUT", 1800))


def run_timeout(base: float = SNAKEMAKE_TIMEOUT) -> float:
    """``base`` seconds times the load per core (1-minute
    load average), never less than ``base``."""
    return base * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def run_snakemake(
    *args: str,
    cwd: Path = REPO,
    check: bool = False,
    timeout: float | None = None,
    repair: bool = False,
) -> subprocess.CompletedProcess:
    """Run the project's snakemake (from the same environment as the tests); ``repair``: as `make
    run`, the integrity sweep removes damaged files (LMANATOMY_REPAIR=1), else it only reports."""
    exe = Path(sys.executable).with_name("snakemake")
    env = {**os.environ, "LMANATOMY_REPAIR": "1" if repair else "0"}
    proc = subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=run_timeout() if timeout is None else timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The default model's prepared folder, data/models/smollm2-135m: converted from the installed
    GGUF by the workflow's own rule when a fresh clone (CI) has not converted it yet."""
    folder = REPO / "data" / "models" / "smollm2-135m"
    if not (folder / "provenance.json").is_file():
        run_snakemake("--cores", "1", str(folder.relative_to(REPO) / "provenance.json"), check=True)
    return folder


@pytest.fixture(scope="session")
def dry_run() -> Callable[[str], str]:
    """The printed plan of ``snakemake -n --forceall`` of a config, computed once per session.

    Why shared: each dry-run pays Snakemake's start and the plan-time checks (torch and
    transformers imports), 15-25 s on 2 cores, and several test modules read the same plans. The
    papers' configs are planned through the SLURM profile, as they will be run (with ``--cores``
    far above any rule's threads, so that only the profile's max-threads can lower them)."""
    plans: dict[str, str] = {}

    def plan(config: str) -> str:
        if config not in plans:
            profile = (
                ["--workflow-profile", str(SLURM_PROFILE.relative_to(REPO)), "--cores", "1024"]
                if "/papers/" in config
                else []
            )
            plans[config] = run_snakemake(
                "-n", "--forceall", *profile, "--configfile", config, check=True
            ).stdout
        return plans[config]

    return plan


def top_level_imports(script: Path, own: str = "lmanatomy") -> set[str]:
    """A script's module-level imports as one-line statements (every plain ``import``, and the
    ``from`` imports of the project's own package): what loads when the script starts. Read from
    its syntax tree, since a formatted import can span lines."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return {
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and (node.module or "").startswith(own))
    }
