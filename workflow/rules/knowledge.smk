# The knowledge study (Ariyama et al. 2025): integrated gradients of every FF neuron at every
# checkpoint → each word's top-k knowledge neurons and their formation trajectories → EMD
# between words → Table 2, Figs 3–5.
#
#   attribute (one job per part of the checkpoint × word grid) → trajectories → emd (one job per
#   block of word pairs) → distances → table2, fig3, fig4 / fig5

from lmanatomy.knowledge.config import checkpoints as knowledge_checkpoints
from lmanatomy.knowledge.groups import ordered_words
from lmanatomy.knowledge.plan import part_items, plan_parts, shard_pairs

KN = study_section("knowledge")
KN_OUT = f"{RESULTS}/knowledge"
KN_MODEL = KN["model"] if KN else None
KN_DISPLAY = REGISTRY[KN_MODEL].display if KN else None
KN_NEURONS = REGISTRY[KN_MODEL].ff_neurons if KN else None
KN_LAYERS = REGISTRY[KN_MODEL].num_layers if KN else None
# The training corpus of a series the workflow trains itself (None for a pretrained series).
KN_CORPUS = REGISTRY[KN_MODEL].train.get("corpus") if KN else None
KN_CHECKPOINTS = knowledge_checkpoints(KN, REGISTRY[KN_MODEL]) if KN else []
KN_WORDS = ordered_words(KN["groups"]) if KN else []
KN_PARTS = (
    plan_parts(KN_CHECKPOINTS, KN_WORDS, KN["checkpoints_per_job"], KN["words_per_job"])
    if KN
    else {}
)
KN_PAIRS = shard_pairs(KN_WORDS, KN["emd_shards"]) if KN else {}

TARGETS["knowledge"] = [
    f"{KN_OUT}/{name}"
    for name in (
        "table2.csv",
        "table2.md",
        "distance_matrix.csv",
        "distances_by_metric.csv",
        "layers.csv",
        "fig3_distances.png",
        "fig4_comparison.png",
        "fig5_intersections.png",
        "intersections.csv",
        "answers.csv",
        "answers.md",
    )
] + (
    [f"{KN_OUT}/suppression.{ext}" for ext in ("csv", "md", "png")]
    if KN and KN["suppression"]["enabled"]
    else []
)


include: "functions/knowledge.smk"


localrules:
    knowledge_distances,
    knowledge_table2,


rule knowledge_attribute:
    input:
        questions=f"{RESULTS}/data/{KN['dataset']}.parquet" if KN else [],
        models=knowledge_part_models,
    output:
        manifest=f"{KN_OUT}/parts/{{part}}.json",
    log:
        f"{LOGS}/knowledge/attribute_{{part}}.log",
    benchmark:
        f"{BENCH}/knowledge/attribute_{{part}}.tsv"
    wildcard_constraints:
        part=r"\d{4}",
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=mem_mb_for(KN_MODEL, "gradients") if KN else 1024,
        gpu=gpus_for(KN_MODEL, "gradients") if KN else 0,
        runtime=knowledge_part_minutes,
    params:
        section=KN,
        part=knowledge_part,
        model_dirs=knowledge_part_model_dirs,
        shards=f"{KN_OUT}/attributions",
        device=DEVICE,
        dtype=DTYPE,
    script:
        "../../scripts/knowledge/attribute.py"


rule knowledge_trajectories:
    input:
        manifests=expand(f"{KN_OUT}/parts/{{part}}.json", part=KN_PARTS),
        questions_meta=f"{RESULTS}/data/{KN['dataset']}.json" if KN else [],
    output:
        trajectories=f"{KN_OUT}/trajectories.parquet",
        answers=f"{KN_OUT}/answers.csv",
        answers_md=f"{KN_OUT}/answers.md",
        layers=f"{KN_OUT}/layers.csv",
    log:
        f"{LOGS}/knowledge/trajectories.log",
    benchmark:
        f"{BENCH}/knowledge/trajectories.tsv"
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=8192,
    params:
        section=KN,
        model=KN_MODEL,
        display=KN_DISPLAY,
        ff_neurons=KN_NEURONS,
        checkpoints=KN_CHECKPOINTS,
        words=KN_WORDS,
        shards=f"{KN_OUT}/attributions",
        n_layers=KN_LAYERS,
        corpus=KN_CORPUS,
    script:
        "../../scripts/knowledge/trajectories.py"


rule knowledge_emd:
    input:
        trajectories=f"{KN_OUT}/trajectories.parquet",
    output:
        pairs=f"{KN_OUT}/emd/shard-{{shard}}.csv",
    log:
        f"{LOGS}/knowledge/emd_{{shard}}.log",
    benchmark:
        f"{BENCH}/knowledge/emd_{{shard}}.tsv"
    wildcard_constraints:
        shard=r"\d{3}",
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=4096,
    params:
        words=KN_WORDS,
        shards=KN["emd_shards"] if KN else None,
        metric=KN["metric"] if KN else None,
        num_itermax=KN["num_itermax"] if KN else None,
    script:
        "../../scripts/knowledge/emd.py"


rule knowledge_distances:
    input:
        pairs=expand(f"{KN_OUT}/emd/shard-{{shard}}.csv", shard=KN_PAIRS),
    output:
        matrix=f"{KN_OUT}/distance_matrix.csv",
        by_metric=f"{KN_OUT}/distances_by_metric.csv",
    log:
        f"{LOGS}/knowledge/distances.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        words=KN_WORDS,
    script:
        "../../scripts/knowledge/distances.py"


rule knowledge_table2:
    input:
        matrix=f"{KN_OUT}/distance_matrix.csv",
        by_metric=f"{KN_OUT}/distances_by_metric.csv",
        answers=f"{KN_OUT}/answers.csv",
        layers=f"{KN_OUT}/layers.csv",
        questions_meta=f"{RESULTS}/data/{KN['dataset']}.json" if KN else [],
        paper_values=Path(workflow.basedir) / "workflow/report/paper_values.yaml",
    output:
        csv=f"{KN_OUT}/table2.csv",
        md=f"{KN_OUT}/table2.md",
    log:
        f"{LOGS}/knowledge/table2.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        section=KN,
        model=KN_MODEL,
        display=KN_DISPLAY,
        ff_neurons=KN_NEURONS,
        checkpoints=KN_CHECKPOINTS,
        words=KN_WORDS,
        corpus=KN_CORPUS,
    script:
        "../../scripts/knowledge/table2.py"


rule knowledge_figures:
    input:
        matrix=f"{KN_OUT}/distance_matrix.csv",
        trajectories=f"{KN_OUT}/trajectories.parquet",
        answers=f"{KN_OUT}/answers.csv",
        layers=f"{KN_OUT}/layers.csv",
    output:
        fig3=f"{KN_OUT}/fig3_distances.png",
        fig4=f"{KN_OUT}/fig4_comparison.png",
        fig5=f"{KN_OUT}/fig5_intersections.png",
        intersections=f"{KN_OUT}/intersections.csv",
    log:
        f"{LOGS}/knowledge/figures.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        section=KN,
        model=KN_MODEL,
        display=KN_DISPLAY,
        ff_neurons=KN_NEURONS,
        checkpoints=KN_CHECKPOINTS,
        words=KN_WORDS,
        corpus=KN_CORPUS,
    script:
        "../../scripts/knowledge/figures.py"


# The suppression test (Dai et al. 2022) at the final checkpoint: each word's knowledge neurons
# set to 0 vs as many random neurons of the same layers; change of P(answer) on its prompts.
rule knowledge_suppression:
    input:
        questions=f"{RESULTS}/data/{KN['dataset']}.parquet" if KN else [],
        trajectories=f"{KN_OUT}/trajectories.parquet",
        model=model_ready(KN_MODEL, KN_CHECKPOINTS[-1]) if KN else [],
    output:
        csv=f"{KN_OUT}/suppression.csv",
        md=f"{KN_OUT}/suppression.md",
        png=f"{KN_OUT}/suppression.png",
    log:
        f"{LOGS}/knowledge/suppression.log",
    benchmark:
        f"{BENCH}/knowledge/suppression.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=mem_mb_for(KN_MODEL) if KN else 1024,
        gpu=gpus_for(KN_MODEL) if KN else 0,
        runtime=runtime_for(KN_MODEL, units=len(KN_WORDS) / 10) if KN else 10,
    params:
        section=KN,
        checkpoint=KN_CHECKPOINTS[-1] if KN else None,
        ff_width=KN_NEURONS // KN_LAYERS if KN else None,
        display=KN_DISPLAY,
        device=DEVICE,
        dtype=DTYPE,
    script:
        "../../scripts/knowledge/suppression.py"
