"""Every config's DAG resolves offline: locally and through the SLURM profile."""

import re

import pytest

from conftest import REPO, run_snakemake

# The default run, the papers' setups and the test configs (config/test/, whose registries are not configs).
CONFIGS = sorted(
    p.relative_to(REPO).as_posix()
    for p in [REPO / "config" / "config.yaml", *(REPO / "config" / "papers").glob("*.yaml"),
              *(p for p in (REPO / "config" / "test").glob("*.yaml") if not p.name.endswith("models.yaml"))]
)


def test_every_paper_has_a_config():
    # a paper may also have variants, config/papers/<paper>-<variant>.yaml (e.g. its released code's choices)
    papers = {p.split("/")[-1].removesuffix(".yaml").split("-")[0] for p in CONFIGS if "/papers/" in p}
    assert papers == {name for name in ("harada2024", "ariyama2025", "baba2025", "kojima2024", "wang2024")}


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[-1].split("Reasons:")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def _run_name(config: str) -> str:
    return "default" if config == "config/config.yaml" else config.split("/")[-1].removesuffix(".yaml")


def test_the_test_configs_are_dry_run():
    assert "config/test/reduced.yaml" in CONFIGS and not any(c.endswith("models.yaml") for c in CONFIGS)


@pytest.mark.parametrize("config", CONFIGS)
def test_dry_run(config):
    """The DAG resolves, and every output lies under results/<run>/ (or the shared model and download stores)."""
    proc = run_snakemake("-n", "--forceall", "--configfile", config, check=True)
    jobs = _job_counts(proc.stdout)
    assert jobs.get("all") == 1
    assert jobs.get("census_table3") == 1
    for line in re.findall(r"output: (.+)", proc.stdout):
        for path in line.split(", "):
            assert path.startswith((f"results/{_run_name(config)}/", "data/models/", "data/raw/")), (config, path)


@pytest.mark.parametrize("config", [c for c in CONFIGS if "/papers/" in c])
def test_dry_run_through_the_slurm_profile(config):
    proc = run_snakemake("-n", "--forceall", "--workflow-profile", "workflow/profiles/slurm", "--configfile", config, check=True)
    assert "Job stats" in proc.stdout
