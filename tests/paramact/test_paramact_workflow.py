"""The study's DAG: one scoring job on the default run, split jobs for the paper's setup (the plans
are the session's dry-runs, conftest.dry_run: the paper's through the SLURM profile)."""

import re


def _jobs(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[-1].split("Reasons:")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_default_run_plans_one_scoring_job_and_every_figure(dry_run):
    stdout = dry_run("config/config.yaml")
    jobs = _jobs(stdout)
    assert jobs["paramact_scores"] == 1 and jobs["paramact_figures"] == 1
    assert (
        jobs["paramact_sts"] == 1 and "paramact_validation_runs" not in jobs
    )  # validations 1-2: own target
    for name in (
        "fig1_task_density.png",
        "fig2_general_density.png",
        "fig3_llmdcos_boxplots.png",
        "fig6_llmdcos_heatmap.png",
        "findings.md",
        "finding3_sts.png",
    ):
        assert f"results/default/paramact/smollm2-135m/{name}" in stdout


def test_paper_setup_splits_into_counts_and_pair_jobs(dry_run):
    stdout = dry_run("config/papers/wang2024.yaml")
    jobs = _jobs(stdout)
    # per model: 7 counts jobs + 28 pairs of the 7
    # heatmap datasets (the boxplot pairs are among them)
    assert jobs["paramact_scores"] == 3 * 35 and jobs["paramact_figures"] == 3
    assert "results/wang2024/paramact/llama-2-7b/jobs/pair-humaneval-c4/pairs.csv" in stdout
    # finding 3 on STS-B and SICK, validations 1-2 in `all`, each job with its SLURM resources
    assert jobs["paramact_sts"] == 3 * 2 and jobs["paramact_validation_runs"] == 3
    for name in ("finding3_sts.png", "validation1_prune_ratios.md", "validation2_calibration.png"):
        assert f"results/wang2024/paramact/llama-2-7b/{name}" in stdout
    runs = stdout.split("rule paramact_validation_runs:")[1]
    resources = next(line for line in runs.splitlines() if "resources:" in line)
    # (in the order the SLURM profile prints them: its default resources come first)
    assert all(re.search(rf"\b{key}=\d+", resources) for key in ("runtime", "mem_mb")), resources
    assert re.search(r"\bgpu=[12]\b", resources), resources
