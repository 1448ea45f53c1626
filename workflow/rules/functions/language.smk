# The input, params and resources functions of rules/language.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def language_stores(wildcards):
    """The activation stores the study ranks neurons on: the model's probe over every dataset."""
    return [
        f"{RESULTS}/activations/{wildcards.lmodel}/{name}/{LANGUAGE['probe']}/_manifest.json"
        for name in LANGUAGE["datasets"]
    ]


def language_setup_of(wildcards):
    """The study's resolved setup for the model (lmanatomy.language.config.setup)."""
    return language_setup(config, wildcards.lmodel, REGISTRY)


def language_block(wildcards):
    """(block, blocks) of the generation plan this job runs; (0, 1) when it is not split."""
    return int(getattr(wildcards, "shard", 0)), LANGUAGE_SHARDS[wildcards.lmodel]


def language_generate_minutes(wildcards):
    """Runtime estimate of one generation job (its block of the plan)."""
    work = planned_work(language_setup_of(wildcards), language_block(wildcards))
    return work_runtime(wildcards.lmodel, work)


def language_blocks(wildcards):
    """The generation blocks of a split model, in plan order."""
    return [
        f"{LANGUAGE_DIR}/{wildcards.lmodel}/generations/{i}.parquet"
        for i in range(LANGUAGE_SHARDS[wildcards.lmodel])
    ]


def language_rank_mem_mb(wildcards):
    """The AP computation's working-memory budget (memory_mb, per chunk of neurons) twice, plus
    2 GB for the process itself."""
    return 2048 + 2 * int(LANGUAGE["memory_mb"])
