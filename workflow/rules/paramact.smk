# Activation patterns of parameters (Wang, Dai & Sui 2024): A = |w·dD/dw| per decoder weight;
# activated parameters per layer (Figs 1, 2), LLMDcos per layer (Fig 3) and its heatmap (Fig 6).

from lmanatomy.paramact.cost import job_work, sts_work, validation_work
from lmanatomy.paramact.plan import job_params, jobs_for
from lmanatomy.deviations import deviation_note, deviation_sentences, planned_origins
from lmanatomy.paramact import STUDY as PARAMACT_STUDY
from lmanatomy.paramact.report import sts_method_notes, validation_method_notes
from lmanatomy.paramact.run import thresholds_around

PARAMACT_ON = bool(study_section("paramact"))
PARAMACT = (
    config["paramact"]
    if PARAMACT_ON
    else schema_filled("paramact", {"models": [], "general_datasets": []})
)
PARAMACT_JOBS = {job.name: job for job in jobs_for(PARAMACT)} if PARAMACT_ON else {}
PARAMACT_OUT = f"{RESULTS}/paramact"
PARAMACT_MODEL_RE = alternation(PARAMACT["models"])
PARAMACT_JOB_RE = alternation(PARAMACT_JOBS)
# How the run differs from config/papers/wang2024.yaml (lmanatomy.deviations): the tables' notes
# and the figures' shorter footnote.
PARAMACT_ORIGINS = planned_origins(PARAMACT_STUDY, config) if PARAMACT_ON else {}
PARAMACT_NOTES = (
    deviation_sentences(PARAMACT_STUDY, config, PARAMACT_ORIGINS) if PARAMACT_ON else []
)
PARAMACT_NOTE = (
    deviation_note(PARAMACT_STUDY, config, PARAMACT_ORIGINS) if PARAMACT_ON else ""
)
# γ per model: a number, or None when it is chosen from the run's data (gamma: auto, for a
# target activated share); the jobs' gamma.csv files say which γ was used and the share it gives.
PARAMACT_GAMMA = {
    m: PARAMACT["gamma_overrides"].get(
        m, None if PARAMACT.get("gamma") == "auto" else PARAMACT.get("gamma")
    )
    for m in PARAMACT["models"]
}


# The gamma.csv of every job that counts activated parameters, per model.
PARAMACT_GAMMA_FILES = {
    m: [
        f"{PARAMACT_OUT}/{m}/jobs/{job.name}/gamma.csv"
        for job in PARAMACT_JOBS.values()
        if job.density
    ]
    for m in PARAMACT["models"]
}

# name → file of one model's report; Figs 2, 3 and 6 only when their datasets are configured.
PARAMACT_REPORT = {
    "fig1_png": "fig1_task_density.png",
    "fig1_csv": "fig1_task_density.csv",
    "fig1_md": "fig1_task_density.md",
    "thresholds_csv": "density_thresholds.csv",
    "samples_csv": "samples.csv",
    "findings_csv": "findings.csv",
    "findings_md": "findings.md",
}
for _key, _figure, _stem in [
    ("general_datasets", "fig2", "fig2_general_density"),
    ("boxplot_pairs", "fig3", "fig3_llmdcos_boxplots"),
    ("heatmap_datasets", "fig6", "fig6_llmdcos_heatmap"),
]:
    if PARAMACT.get(_key):
        PARAMACT_REPORT.update(
            {f"{_figure}_{ext}": f"{_stem}.{ext}" for ext in ("png", "csv", "md")}
        )

# Finding 3 (validation 3): STS pairs; validations 1-2: pruning (see docs/paramact.md).
PARAMACT_STS = PARAMACT.get("sts") or {}
PARAMACT_VALIDATION = PARAMACT.get("validation") or {}
# STS pairs split into blocks where one job per (model, dataset) would be over the partition limit.
PARAMACT_STS_SHARDS = {
    m: (
        work_shards(m, lambda n: sts_work(-(-PARAMACT_STS["pairs"] // n)))
        if PARAMACT_STS.get("datasets")
        else 1
    )
    for m in PARAMACT["models"]
}
PARAMACT_STS_REPORT = {
    "sts_png": "finding3_sts.png",
    "sts_csv": "finding3_sts.csv",
    "sts_md": "finding3_sts.md",
}
PARAMACT_VALIDATION_REPORT = {
    "v1_csv": "validation1_prune_ratios.csv",
    "v1_md": "validation1_prune_ratios.md",
    "ratios_csv": "validation_ratios.csv",
    "v2_csv": "validation2_calibration.csv",
    "v2_md": "validation2_calibration.md",
    "v2_png": "validation2_calibration.png",
}
PARAMACT_VALIDATION_TARGETS = [
    f"{PARAMACT_OUT}/{model}/{name}"
    for model in PARAMACT["models"]
    if PARAMACT_VALIDATION
    for name in PARAMACT_VALIDATION_REPORT.values()
]
PARAMACT_VALIDATION_DATASETS = list(
    dict.fromkeys(
        [PARAMACT_VALIDATION.get("calibration")]
        + list(PARAMACT_VALIDATION.get("calibration_sets", []))
        + list(PARAMACT_VALIDATION.get("evaluation", []))
    )
    if PARAMACT_VALIDATION
    else []
)

TARGETS["paramact"] = [
    f"{PARAMACT_OUT}/{model}/{name}"
    for model in PARAMACT["models"]
    for name in [
        *PARAMACT_REPORT.values(),
        *(PARAMACT_STS_REPORT.values() if PARAMACT_STS.get("datasets") else []),
    ]
] + (PARAMACT_VALIDATION_TARGETS if PARAMACT_VALIDATION.get("in_all") else [])


include: "functions/paramact.smk"


localrules:
    paramact_figures,
    paramact_sts_merge,
    paramact_sts_figures,
    paramact_validation_figures,
    paramact_validation,


rule paramact_scores:
    input:
        model=of_model(model_ready),
        data=paramact_job_data,
    output:
        # keep_means: the per-parameter means (one .npy per layer), a declared folder Snakemake
        # tracks and cleans (the scratch folder is not an output: the job empties and removes it).
        **(
            {"means": directory(f"{PARAMACT_OUT}/{{model}}/jobs/{{job}}/means")}
            if PARAMACT["keep_means"]
            else {}
        ),
        density=f"{PARAMACT_OUT}/{{model}}/jobs/{{job}}/density.csv",
        pairs=f"{PARAMACT_OUT}/{{model}}/jobs/{{job}}/pairs.csv",
        samples=f"{PARAMACT_OUT}/{{model}}/jobs/{{job}}/samples.csv",
        gamma=f"{PARAMACT_OUT}/{{model}}/jobs/{{job}}/gamma.csv",
        by_d=f"{PARAMACT_OUT}/{{model}}/jobs/{{job}}/density_by_D.csv",
    log:
        f"{LOGS}/paramact/{{model}}/{{job}}.log",
    benchmark:
        f"{BENCH}/paramact/{{model}}/{{job}}.tsv"
    wildcard_constraints:
        model=PARAMACT_MODEL_RE,
        job=PARAMACT_JOB_RE,
    priority: 5
    conda:
        TORCH_ENV
    threads: PARAMACT["threads"]
    resources:
        mem_mb=of_model(mem_mb_for, "model", "gradients"),
        gpu=of_model(gpus_for, "model", "gradients"),
        runtime=paramact_job_minutes,
    params:
        model_path=of_model(model_path),
        trust_remote_code=entry_fact("trust_remote_code"),
        job=paramact_job,
        datasets=paramact_job_datasets,
        formats=paramact_job_formats,
        device=DEVICE,
        dtype=DTYPE,
        seed=PARAMACT["seed"],
        windows=PARAMACT["windows"],
        joined=PARAMACT["joined_windows"],
        thresholds=paramact_thresholds,
        gamma=paramact_gamma,
        target_share=PARAMACT.get("gamma_target_share"),
        cache_units=PARAMACT["cache_units"],
        running_mean=PARAMACT["running_mean"],
        scratch=paramact_job_folder("scratch"),
    script:
        "../../scripts/paramact/scores.py"


rule paramact_figures:
    input:
        density=paramact_job_files("density.csv"),
        pairs=paramact_job_files("pairs.csv"),
        samples=paramact_job_files("samples.csv"),
        gamma=paramact_gamma_files,
        by_d=paramact_job_files("density_by_D.csv"),
    output:
        **{
            key: f"{PARAMACT_OUT}/{{model}}/{name}"
            for key, name in PARAMACT_REPORT.items()
        },
    log:
        f"{LOGS}/paramact/{{model}}/figures.log",
    benchmark:
        f"{BENCH}/paramact/{{model}}/figures.tsv"
    wildcard_constraints:
        model=PARAMACT_MODEL_RE,
    conda:
        "../../envs/analysis.yaml"
    params:
        section=PARAMACT,
        display=entry_fact("display"),
        num_layers=entry_fact("num_layers"),
        gamma=paramact_gamma,
        notes=PARAMACT_NOTES,
        note=PARAMACT_NOTE,
    script:
        "../../scripts/paramact/figures.py"


rule paramact_sts:
    input:
        model=of_model(model_ready),
        data=f"{RESULTS}/data/{{dataset}}.parquet",
    output:
        table=f"{PARAMACT_OUT}/{{model}}/jobs/sts/{{dataset}}.csv",
    log:
        f"{LOGS}/paramact/{{model}}/sts_{{dataset}}.log",
    benchmark:
        f"{BENCH}/paramact/{{model}}/sts_{{dataset}}.tsv"
    wildcard_constraints:
        model=alternation([m for m, n in PARAMACT_STS_SHARDS.items() if n == 1]),
        dataset=alternation(PARAMACT_STS.get("datasets", [])),
    conda:
        TORCH_ENV
    threads: PARAMACT["threads"]
    resources:
        mem_mb=of_model(mem_mb_for, "model", "gradients"),
        gpu=of_model(gpus_for, "model", "gradients"),
        runtime=paramact_sts_minutes,
    params:
        model_path=of_model(model_path),
        trust_remote_code=entry_fact("trust_remote_code"),
        device=DEVICE,
        dtype=DTYPE,
        seed=PARAMACT["seed"],
        pairs=PARAMACT_STS.get("pairs"),
        block=paramact_sts_block,
    script:
        "../../scripts/paramact/sts.py"


# Where one job would be over the partition limit: one job per block of the sampled pairs, then
# the blocks in pair order, which are the unsplit table (a pair's rows do not depend on its job).
use rule paramact_sts as paramact_sts_block with:
    output:
        table=f"{PARAMACT_OUT}/{{model}}/jobs/sts/{{dataset}}/{{block}}.csv",
    log:
        f"{LOGS}/paramact/{{model}}/sts_{{dataset}}_{{block}}.log",
    benchmark:
        f"{BENCH}/paramact/{{model}}/sts_{{dataset}}_{{block}}.tsv"
    wildcard_constraints:
        model=alternation([m for m, n in PARAMACT_STS_SHARDS.items() if n > 1]),
        dataset=alternation(PARAMACT_STS.get("datasets", [])),
        block=r"\d+",


rule paramact_sts_merge:
    input:
        blocks=paramact_sts_blocks,
    output:
        table=f"{PARAMACT_OUT}/{{model}}/jobs/sts/{{dataset}}.csv",
    log:
        f"{LOGS}/paramact/{{model}}/sts_{{dataset}}_merge.log",
    wildcard_constraints:
        model=alternation([m for m, n in PARAMACT_STS_SHARDS.items() if n > 1]),
        dataset=alternation(PARAMACT_STS.get("datasets", [])),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/paramact/sts_merge.py"


rule paramact_sts_figures:
    input:
        tables=paramact_sts_tables,
    output:
        **{
            key: f"{PARAMACT_OUT}/{{model}}/{name}"
            for key, name in PARAMACT_STS_REPORT.items()
        },
    log:
        f"{LOGS}/paramact/{{model}}/sts_figures.log",
    wildcard_constraints:
        model=PARAMACT_MODEL_RE,
    conda:
        "../../envs/analysis.yaml"
    params:
        kind="sts",
        section=PARAMACT,
        display=entry_fact("display"),
        num_layers=entry_fact("num_layers"),
        gamma=paramact_gamma,
        notes=paramact_sts_notes,
        note=paramact_sts_note,
        resamples=PARAMACT_STS.get("resamples"),
    script:
        "../../scripts/paramact/validation_figures.py"


rule paramact_validation_runs:
    input:
        model=of_model(model_ready),
        data=[f"{RESULTS}/data/{name}.parquet" for name in PARAMACT_VALIDATION_DATASETS],
        density=paramact_job_files("density.csv"),
        gamma=paramact_gamma_files,
    output:
        runs=f"{PARAMACT_OUT}/{{model}}/jobs/validation/runs.csv",
        ratios=f"{PARAMACT_OUT}/{{model}}/jobs/validation/ratios.csv",
    log:
        f"{LOGS}/paramact/{{model}}/validation.log",
    benchmark:
        f"{BENCH}/paramact/{{model}}/validation.tsv"
    wildcard_constraints:
        model=PARAMACT_MODEL_RE,
    conda:
        TORCH_ENV
    threads: PARAMACT["threads"]
    resources:
        mem_mb=of_model(mem_mb_for, "model", "gradients"),
        gpu=of_model(gpus_for, "model", "gradients"),
        runtime=paramact_validation_minutes,
    params:
        section=PARAMACT_VALIDATION,
        model_path=of_model(model_path),
        trust_remote_code=entry_fact("trust_remote_code"),
        device=DEVICE,
        dtype=DTYPE,
        seed=PARAMACT["seed"],
        datasets=PARAMACT_VALIDATION_DATASETS,
        formats={
            name: DATASETS[name]["format"] for name in PARAMACT_VALIDATION_DATASETS
        },
        windows=PARAMACT["windows"],
        joined=PARAMACT["joined_windows"],
    script:
        "../../scripts/paramact/validation.py"


rule paramact_validation_figures:
    input:
        runs=f"{PARAMACT_OUT}/{{model}}/jobs/validation/runs.csv",
        ratios=f"{PARAMACT_OUT}/{{model}}/jobs/validation/ratios.csv",
    output:
        **{
            key: f"{PARAMACT_OUT}/{{model}}/{name}"
            for key, name in PARAMACT_VALIDATION_REPORT.items()
        },
    log:
        f"{LOGS}/paramact/{{model}}/validation_figures.log",
    wildcard_constraints:
        model=PARAMACT_MODEL_RE,
    conda:
        "../../envs/analysis.yaml"
    params:
        kind="validation",
        section=PARAMACT,
        display=entry_fact("display"),
        num_layers=entry_fact("num_layers"),
        gamma=paramact_gamma,
        notes=paramact_validation_notes,
        note=paramact_validation_note,
        sparsity=PARAMACT_VALIDATION.get("sparsity"),
    script:
        "../../scripts/paramact/validation_figures.py"


# `snakemake paramact_validation`: validations 1-2 on their own (not part of `all` unless
# paramact.validation.in_all is true).
rule paramact_validation:
    input:
        PARAMACT_VALIDATION_TARGETS,
