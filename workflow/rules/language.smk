# The language study (Kojima et al. 2024): language-specific neurons by AP, steered generation.
#
#   activation store (linears_mean) ─► rank (AP + positive median per neuron and language)
#     ─► select (top/bottom-k) ─► Table 1, Fig 2, Fig 4
#     ─► generate (start token as extracted, seeds, conditions) ─► score (fastText lid, BLEU) ─► Table 2, Fig 5
# Table 3 is the census's target (census.smk), listed here as part of this study.

from lmanatomy.language.config import setup as language_setup
from lmanatomy.language.steering import planned_work

# Rules exist when the study is enabled (its section is then checked against the registry).
LANGUAGE = study_section("language") or schema_filled(
    "language", {"models": [], "datasets": []}
)
LANGUAGE_MODELS = LANGUAGE["models"]
LANGUAGE_DIR = f"{RESULTS}/language"
LANGUAGE_DATA = [f"{RESULTS}/data/{name}.parquet" for name in LANGUAGE["datasets"]]
LANGUAGE_PER_MODEL = [
    "table1.csv",
    "table1.md",
    "fig2.png",
    "fig2.csv",
    "fig4.png",
    "fig4.csv",
    "fig5.png",
    "fig5.csv",
]

TARGETS["language"] = [
    *[f"{LANGUAGE_DIR}/{m}/{f}" for m in LANGUAGE_MODELS for f in LANGUAGE_PER_MODEL],
    f"{LANGUAGE_DIR}/table2.csv",
    f"{LANGUAGE_DIR}/table2.md",
    f"{LANGUAGE_DIR}/replacement.csv",
    f"{LANGUAGE_DIR}/replacement.md",
    *TARGETS["census"],
]


# Generation split into blocks of the plan where one job would be over the partition limit.
LANGUAGE_SHARDS = {
    m: work_shards(
        m, lambda n, m=m: planned_work(language_setup(config, m, REGISTRY), (0, n))
    )
    for m in LANGUAGE_MODELS
}


include: "functions/language.smk"


wildcard_constraints:
    lmodel=alternation(LANGUAGE_MODELS),


localrules:
    language_table2,
    language_merge,


rule language_rank:
    input:
        stores=language_stores,
        data=LANGUAGE_DATA,
    output:
        neurons=f"{LANGUAGE_DIR}/{{lmodel}}/neurons.parquet",
    log:
        f"{LOGS}/language/{{lmodel}}/rank.log",
    benchmark:
        f"{BENCH}/language/{{lmodel}}/rank.tsv"
    priority: 10
    conda:
        TORCH_ENV
    threads: LANGUAGE["threads"]
    resources:
        mem_mb=language_rank_mem_mb,
        gpu=of_model(gpus_for, "lmodel", "inference"),
        runtime=of_model(runtime_for, "lmodel", "inference"),
    params:
        registry=config["models_file"],
        languages=LANGUAGE["languages"],
        memory_mb=LANGUAGE["memory_mb"],
        device=DEVICE,
    script:
        "../../scripts/language/rank.py"


rule language_select:
    input:
        neurons=f"{LANGUAGE_DIR}/{{lmodel}}/neurons.parquet",
    output:
        selection=f"{LANGUAGE_DIR}/{{lmodel}}/selected.parquet",
    log:
        f"{LOGS}/language/{{lmodel}}/select.log",
    priority: 10
    conda:
        "../../envs/analysis.yaml"
    params:
        languages=LANGUAGE["languages"],
        k=LANGUAGE["k"],
        ablation_k=LANGUAGE["ablation_k"],
    script:
        "../../scripts/language/select.py"


rule language_table1:
    input:
        selection=f"{LANGUAGE_DIR}/{{lmodel}}/selected.parquet",
        neurons=f"{LANGUAGE_DIR}/{{lmodel}}/neurons.parquet",
        stores=language_stores,
        data=LANGUAGE_DATA,
    output:
        csv=f"{LANGUAGE_DIR}/{{lmodel}}/table1.csv",
        md=f"{LANGUAGE_DIR}/{{lmodel}}/table1.md",
    log:
        f"{LOGS}/language/{{lmodel}}/table1.log",
    benchmark:
        f"{BENCH}/language/{{lmodel}}/table1.tsv"
    conda:
        TORCH_ENV
    threads: LANGUAGE["threads"]
    resources:
        mem_mb=language_rank_mem_mb,
        gpu=of_model(gpus_for, "lmodel", "inference"),
        runtime=of_model(runtime_for, "lmodel", "inference"),
    params:
        setup=language_setup_of,
        replicates=LANGUAGE["table1_replicates"],
        pool=LANGUAGE["table1_pool"],
        memory_mb=LANGUAGE["memory_mb"],
        device=DEVICE,
    script:
        "../../scripts/language/table1.py"


rule language_fig2:
    input:
        neurons=f"{LANGUAGE_DIR}/{{lmodel}}/neurons.parquet",
        data=LANGUAGE_DATA,
    output:
        png=f"{LANGUAGE_DIR}/{{lmodel}}/fig2.png",
        csv=f"{LANGUAGE_DIR}/{{lmodel}}/fig2.csv",
    log:
        f"{LOGS}/language/{{lmodel}}/fig2.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        setup=language_setup_of,
        histogram_k=LANGUAGE["histogram_k"],
    script:
        "../../scripts/language/fig2.py"


rule language_fig4:
    input:
        stores=language_stores,
        data=LANGUAGE_DATA,
        selection=f"{LANGUAGE_DIR}/{{lmodel}}/selected.parquet",
    output:
        png=f"{LANGUAGE_DIR}/{{lmodel}}/fig4.png",
        csv=f"{LANGUAGE_DIR}/{{lmodel}}/fig4.csv",
    log:
        f"{LOGS}/language/{{lmodel}}/fig4.log",
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=4096,
    params:
        setup=language_setup_of,
    script:
        "../../scripts/language/fig4.py"


rule language_generate:
    input:
        selection=f"{LANGUAGE_DIR}/{{lmodel}}/selected.parquet",
        neurons=f"{LANGUAGE_DIR}/{{lmodel}}/neurons.parquet",
        model=of_model(model_ready, "lmodel"),
    output:
        generations=f"{LANGUAGE_DIR}/{{lmodel}}/generations.parquet",
    log:
        f"{LOGS}/language/{{lmodel}}/generate.log",
    benchmark:
        f"{BENCH}/language/{{lmodel}}/generate.tsv"
    wildcard_constraints:
        lmodel=alternation([m for m, n in LANGUAGE_SHARDS.items() if n == 1]),
    priority: 10
    conda:
        TORCH_ENV
    threads: LANGUAGE["threads"]
    resources:
        mem_mb=of_model(mem_mb_for, "lmodel", "inference"),
        gpu=of_model(gpus_for, "lmodel", "inference"),
        runtime=language_generate_minutes,
    params:
        setup=language_setup_of,
        shard=language_block,
        model_path=of_model(model_path, "lmodel"),
        device=DEVICE,
        dtype=DTYPE,
    script:
        "../../scripts/language/generate.py"


# Where one job would be over the partition limit: one job per block of the plan, then the blocks
# in plan order, which are the unsplit generation (texts do not depend on the job: steering.shard).
use rule language_generate as language_generate_block with:
    output:
        generations=f"{LANGUAGE_DIR}/{{lmodel}}/generations/{{shard}}.parquet",
    log:
        f"{LOGS}/language/{{lmodel}}/generate_{{shard}}.log",
    benchmark:
        f"{BENCH}/language/{{lmodel}}/generate_{{shard}}.tsv"
    wildcard_constraints:
        lmodel=alternation([m for m, n in LANGUAGE_SHARDS.items() if n > 1]),
        shard=r"\d+",


rule language_merge:
    input:
        blocks=language_blocks,
    output:
        generations=f"{LANGUAGE_DIR}/{{lmodel}}/generations.parquet",
    log:
        f"{LOGS}/language/{{lmodel}}/merge.log",
    wildcard_constraints:
        lmodel=alternation([m for m, n in LANGUAGE_SHARDS.items() if n > 1]),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/language/merge.py"


rule language_score:
    input:
        generations=f"{LANGUAGE_DIR}/{{lmodel}}/generations.parquet",
        data=LANGUAGE_DATA,
        model=of_model(model_ready, "lmodel"),
    output:
        scores=f"{LANGUAGE_DIR}/{{lmodel}}/scores.parquet",
    log:
        f"{LOGS}/language/{{lmodel}}/score.log",
    conda:
        "../../envs/pytorch.yaml"
    params:
        setup=language_setup_of,
        model_path=of_model(model_path, "lmodel"),
    script:
        "../../scripts/language/score.py"


rule language_table2:
    input:
        scores=expand(
            f"{LANGUAGE_DIR}/{{lmodel}}/scores.parquet", lmodel=LANGUAGE_MODELS
        ),
        data=LANGUAGE_DATA,
    output:
        csv=f"{LANGUAGE_DIR}/table2.csv",
        md=f"{LANGUAGE_DIR}/table2.md",
        replacement_csv=f"{LANGUAGE_DIR}/replacement.csv",
        replacement_md=f"{LANGUAGE_DIR}/replacement.md",
    log:
        f"{LOGS}/language/table2.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        setups=[language_setup(config, m, REGISTRY) for m in LANGUAGE_MODELS],
    script:
        "../../scripts/language/table2.py"


rule language_fig5:
    input:
        scores=f"{LANGUAGE_DIR}/{{lmodel}}/scores.parquet",
        neurons=f"{LANGUAGE_DIR}/{{lmodel}}/neurons.parquet",
        data=LANGUAGE_DATA,
    output:
        png=f"{LANGUAGE_DIR}/{{lmodel}}/fig5.png",
        csv=f"{LANGUAGE_DIR}/{{lmodel}}/fig5.csv",
    log:
        f"{LOGS}/language/{{lmodel}}/fig5.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        setup=language_setup_of,
    script:
        "../../scripts/language/fig5.py"
