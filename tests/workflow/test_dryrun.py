"""Every config's DAG resolves offline: locally and through the SLURM profile."""

import re
from pathlib import Path

import pytest

from conftest import REPO, SLURM_PROFILE

# The default run, the papers' setups and the test configs
# (config/test/, whose registries are not configs).
CONFIGS = sorted(
    p.relative_to(REPO).as_posix()
    for p in [
        REPO / "config" / "config.yaml",
        *(REPO / "config" / "papers").glob("*.yaml"),
        *(
            p
            for p in (REPO / "config" / "test").glob("*.yaml")
            if not p.name.endswith("models.yaml")
        ),
    ]
)


def test_every_paper_has_a_config():
    # a paper may also have variants, config/papers/<paper>-<variant>.yaml
    # (e.g. its released code's choices)
    from lmanatomy.study import discover

    papers = {
        p.split("/")[-1].removesuffix(".yaml").split("-")[0] for p in CONFIGS if "/papers/" in p
    }
    assert papers == {Path(s.paper_config).stem for s in discover() if s.paper_config}


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[-1].split("Reasons:")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def _run_name(config: str) -> str:
    return (
        "default" if config == "config/config.yaml" else config.split("/")[-1].removesuffix(".yaml")
    )


def test_the_test_configs_are_dry_run():
    assert "config/test/reduced.yaml" in CONFIGS and not any(
        c.endswith("models.yaml") for c in CONFIGS
    )


def _profile_limits() -> tuple[int, float, dict[str, int]]:
    """The profile's max-threads, its partitions' longest
    runtime (minutes), and rule → components of its group."""
    import yaml

    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text(encoding="utf-8"))
    partitions = yaml.safe_load((SLURM_PROFILE / "partitions.yaml").read_text(encoding="utf-8"))[
        "partitions"
    ]
    grouped = {
        rule: int(profile["group-components"][group])
        for rule, group in profile.get("groups", {}).items()
    }
    return (
        int(profile["max-threads"]),
        max(float(p["max_runtime"]) for p in partitions.values()),
        grouped,
    )


def _jobs(output: str) -> list[tuple[str, int, int]]:
    """(rule, threads, runtime minutes) of every job a dry run prints."""
    jobs = []
    for block in re.split(r"\n(?=rule \w+:|localrule \w+:)", output):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        if not rule:
            continue
        threads = re.search(r"^\s+threads: (\d+)", block, re.M)
        runtime = re.search(r"[ ,]runtime=(\d+)", block)
        jobs.append(
            (
                rule.group(1),
                int(threads.group(1)) if threads else 1,
                int(runtime.group(1)) if runtime else 0,
            )
        )
    return jobs


@pytest.mark.parametrize("config", CONFIGS)
def test_dry_run(config, dry_run):
    """The DAG resolves, and every output lies under results/<run>/ (or the shared model and
    download stores). The papers' setups are dry-run through the SLURM profile (conftest.dry_run),
    as they will be run: no job asks for more threads than the profile's max-threads or more runtime
    than its partitions allow."""
    paper = "/papers/" in config
    stdout = dry_run(config)
    jobs = _job_counts(stdout)
    assert jobs.get("all") == 1
    assert jobs.get("census_table3") == 1
    for line in re.findall(r"output: (.+)", stdout):
        for path in line.split(", "):
            assert path.startswith(
                (f"results/{_run_name(config)}/", "data/models/", "data/raw/")
            ), (config, path)
    if paper:
        max_threads, max_runtime, grouped = _profile_limits()
        # a group job's components may run side by side (threads
        # add up) or one after another (runtimes add up)
        printed = [
            (rule, t * grouped.get(rule, 1), r * grouped.get(rule, 1))
            for rule, t, r in _jobs(stdout)
        ]
        assert printed and max(t for _, t, _ in printed) <= max_threads, config
        over = sorted({rule for rule, _, runtime in printed if runtime > max_runtime})
        assert not over, f"{config}: jobs over the {max_runtime:.0f}-minute partition limit: {over}"
