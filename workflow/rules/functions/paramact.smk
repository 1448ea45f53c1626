# The input, params and resources functions of rules/paramact.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def paramact_job_files(name):
    """Input function: the file ``name`` (density.csv, pairs.csv…) of every job of the model."""

    def job_files(wildcards):
        return [
            f"{PARAMACT_OUT}/{wildcards.model}/jobs/{job}/{name}"
            for job in PARAMACT_JOBS
        ]

    return job_files


def paramact_job_folder(name):
    """Params function: the job's folder ``name`` (scratch, means) beside its tables."""

    def job_folder(wildcards):
        return f"{PARAMACT_OUT}/{wildcards.model}/jobs/{wildcards.job}/{name}"

    return job_folder


def paramact_gamma_files(wildcards):
    return PARAMACT_GAMMA_FILES[wildcards.model]


def paramact_gamma(wildcards):
    """The model's γ, or None when the jobs choose it from the run's data (gamma: auto)."""
    return PARAMACT_GAMMA[wildcards.model]


def paramact_thresholds(wildcards):
    """The thresholds swept around a fixed γ (none when γ is chosen from the data)."""
    gamma = paramact_gamma(wildcards)
    return thresholds_around(gamma) if gamma is not None else []


def paramact_job_datasets(wildcards):
    return PARAMACT_JOBS[wildcards.job].datasets


def paramact_job_data(wildcards):
    return [
        f"{RESULTS}/data/{name}.parquet" for name in paramact_job_datasets(wildcards)
    ]


def paramact_job_formats(wildcards):
    return {name: DATASETS[name]["format"] for name in paramact_job_datasets(wildcards)}


def paramact_job(wildcards):
    return job_params(PARAMACT_JOBS[wildcards.job])


def paramact_job_minutes(wildcards):
    """Runtime estimate of one scoring job (its inputs, cached units and windows)."""
    work = job_work(
        PARAMACT_JOBS[wildcards.job], PARAMACT["cache_units"], PARAMACT["windows"]
    )
    return work_runtime(wildcards.model, work)


def paramact_sts_block(wildcards):
    """(block, blocks) of the sampled STS pairs this job scores; (0, 1) when not split."""
    return int(getattr(wildcards, "block", 0)), PARAMACT_STS_SHARDS[wildcards.model]


def paramact_sts_minutes(wildcards):
    """Runtime estimate of one STS job: its share of the sampled pairs."""
    pairs = -(-PARAMACT_STS["pairs"] // PARAMACT_STS_SHARDS[wildcards.model])
    return work_runtime(wildcards.model, sts_work(pairs))


def paramact_sts_blocks(wildcards):
    """The STS blocks of a split model and dataset, in pair order."""
    return [
        f"{PARAMACT_OUT}/{wildcards.model}/jobs/sts/{wildcards.dataset}/{i}.csv"
        for i in range(PARAMACT_STS_SHARDS[wildcards.model])
    ]


def paramact_sts_tables(wildcards):
    return [
        f"{PARAMACT_OUT}/{wildcards.model}/jobs/sts/{name}.csv"
        for name in PARAMACT_STS["datasets"]
    ]


def paramact_validation_minutes(wildcards):
    """Runtime estimate of validations 1-2 (every pruning run over the model's layers)."""
    work = validation_work(
        PARAMACT_VALIDATION, PARAMACT["windows"], REGISTRY[wildcards.model].num_layers
    )
    return work_runtime(wildcards.model, work)


def paramact_sts_notes(wildcards):
    """Finding 3's table notes: how its pairs are drawn, then how the run differs from the paper."""
    return [*sts_method_notes(config), *PARAMACT_NOTES]


def paramact_sts_note(wildcards):
    """Finding 3's figure footnote."""
    return " ".join([*sts_method_notes(config), PARAMACT_NOTE])


def paramact_validation_notes(wildcards):
    """Validations 1-2's table notes: this implementation's choices, then the run's differences."""
    return [*validation_method_notes(config), *PARAMACT_NOTES]


def paramact_validation_note(wildcards):
    """Validations 1-2's figure footnote."""
    return " ".join([*validation_method_notes(config), PARAMACT_NOTE])
