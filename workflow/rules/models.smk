# Getting models onto disk: data/models/<name>[/<checkpoint>]/ with provenance.json written last.


# Downloads run where the workflow was started: compute nodes of many clusters have no internet.
localrules:
    fetch_hf,
    fetch_hf_checkpoint,


rule convert_gguf:
    output:
        provenance="data/models/{model}/provenance.json",
    log:
        "data/models/logs/convert_{model}.log",
    wildcard_constraints:
        model=names_matching("gguf", series=False),
    conda:
        "../../envs/pytorch.yaml"
    resources:
        mem_mb=of_model(mem_mb_for, "model", "load"),
    params:
        entry=of_model(REGISTRY.raw_entry),
    script:
        "../../scripts/models/convert_gguf.py"


rule fetch_hf:
    output:
        provenance="data/models/{model}/provenance.json",
    log:
        "data/models/logs/fetch_{model}.log",
    wildcard_constraints:
        model=names_matching("hf", series=False),
    conda:
        "../../envs/pytorch.yaml"
    resources:
        mem_mb=4096,
        runtime=of_model(runtime_for, "model", "load"),
    params:
        entry=of_model(REGISTRY.raw_entry),
    script:
        "../../scripts/models/fetch_hf.py"


rule fetch_hf_checkpoint:
    output:
        provenance="data/models/{model}/{checkpoint}/provenance.json",
    log:
        "data/models/logs/fetch_{model}_{checkpoint}.log",
    wildcard_constraints:
        model=names_matching("hf", series=True),
        checkpoint=r"[A-Za-z0-9_.-]+",
    conda:
        "../../envs/pytorch.yaml"
    resources:
        mem_mb=4096,
        runtime=of_model(runtime_for, "model", "load"),
    params:
        entry=of_model(REGISTRY.raw_entry),
    script:
        "../../scripts/models/fetch_hf.py"


rule link_path_model:
    input:
        config=path_model_config,
    output:
        provenance="data/models/{model}/provenance.json",
    log:
        "data/models/logs/link_{model}.log",
    wildcard_constraints:
        model=names_matching("path", series=False),
    conda:
        "../../envs/pytorch.yaml"
    params:
        entry=of_model(REGISTRY.raw_entry),
    script:
        "../../scripts/models/link_path.py"


# `local` models are trained by the workflow: one job per model writes all its checkpoints
# (data/models/<name>/<checkpoint>/), so the rule is spelled out per model.
for _local in LOCAL_MODELS:

    rule:
        name:
            LOCAL_MODELS[_local]
        input:
            corpus=corpus_inputs(REGISTRY[_local]),
        output:
            provenance=[model_ready(_local, c) for c in REGISTRY[_local].checkpoints],
        log:
            f"data/models/logs/train_{_local}.log",
        benchmark:
            f"{BENCH}/models/train_{_local}.tsv"
        conda:
            "../../envs/pytorch.yaml"
        threads: REGISTRY[_local].train.get("threads", 1)
        resources:
            mem_mb=mem_mb_for(_local, "gradients"),
            runtime=runtime_for(_local, "gradients", units=100),
        params:
            model=_local,
            entry=REGISTRY.raw_entry(_local),
        script:
            "../../scripts/models/train_local.py"
