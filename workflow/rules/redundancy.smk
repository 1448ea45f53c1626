# Redundancy between hidden layers (Baba & Kano 2025): one linear SVR per (layer pair, dim) on
# EOS-token hidden states; R² heatmaps (Figs 1-3), the top-500 list and redundancy paths (Fig 4).

from lmanatomy.redundancy.normed import derivable
from lmanatomy.redundancy.pairs import layer_pairs

# Rules exist when the study is enabled (its section is then checked against the registry).
REDUNDANCY = study_section("redundancy") or schema_filled("redundancy", {"models": []})
REDUNDANCY_OUT = f"{RESULTS}/redundancy"
# Source layer n of every fitted pair n -> n+1, per model (hidden-state indices).
REDUNDANCY_SOURCES = {
    name: layer_pairs(REGISTRY[name].num_layers, REDUNDANCY["include_embedding"])
    for name in REDUNDANCY["models"]
}
REDUNDANCY_PAIR_FILES = {
    name: [f"{REDUNDANCY_OUT}/{name}/pairs/layer{s:02d}.parquet" for s in sources]
    for name, sources in REDUNDANCY_SOURCES.items()
}
# With `last_layer_probe`, the last pair is also fitted on that probe's store (its last hidden
# state taken the other way: raw vs after the final norm), into pairs_<probe>/.
REDUNDANCY_OTHER = REDUNDANCY.get("last_layer_probe")
REDUNDANCY_PAIR_DIRS = ["pairs"] + (
    [f"pairs_{REDUNDANCY_OTHER}"] if REDUNDANCY_OTHER else []
)
# A normed last layer is derived from the raw store where that is bit-identical
# (lmanatomy.redundancy.normed): the second extraction pass over the dataset is then not run.
REDUNDANCY_DERIVE_NORMED = bool(REDUNDANCY_OTHER) and derivable(
    config["probes"][REDUNDANCY["probe"]],
    config["probes"][REDUNDANCY_OTHER],
    DEVICE,
    DTYPE,
)

# The probe whose store each pair folder is fitted on (pairs_<probe>/ reads the raw one when derived).
REDUNDANCY_STORE_PROBE = {"pairs": REDUNDANCY.get("probe")}
if REDUNDANCY_OTHER:
    REDUNDANCY_STORE_PROBE[f"pairs_{REDUNDANCY_OTHER}"] = (
        REDUNDANCY["probe"] if REDUNDANCY_DERIVE_NORMED else REDUNDANCY_OTHER
    )

REDUNDANCY_TABLES = ["pair_summary", "top_pairs", "frequent_dims"]
REDUNDANCY_FIGURES = [
    "fig1_mean_r2",
    "fig2_max_r2",
    "fig3_std_r2",
    "fig1_mean_gain",
    "fig2_max_gain",
    "fig3_std_gain",
    "r2_layer_dim",
    "fig4_paths",
]

TARGETS["redundancy"] = [
    f"{REDUNDANCY_OUT}/{name}/{table}.{ext}"
    for name in REDUNDANCY["models"]
    for table in REDUNDANCY_TABLES + (["last_layer"] if REDUNDANCY_OTHER else [])
    for ext in ("csv", "md")
] + [
    f"{REDUNDANCY_OUT}/{name}/{fig}.png"
    for name in REDUNDANCY["models"]
    for fig in REDUNDANCY_FIGURES
]


localrules:
    redundancy_split,


wildcard_constraints:
    redundancy_model=alternation(REDUNDANCY["models"]),
    redundancy_pairs=alternation(REDUNDANCY_PAIR_DIRS),


include: "functions/redundancy.smk"


# The seeded train/test sample of distinct sentences, shared by every model and pair.
rule redundancy_split:
    input:
        data=redundancy_dataset_file("parquet"),
    output:
        f"{REDUNDANCY_OUT}/split.csv",
    log:
        f"{LOGS}/redundancy/split.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        train=REDUNDANCY.get("train"),
        test=REDUNDANCY.get("test"),
        seed=REDUNDANCY["seed"],
    script:
        "../../scripts/redundancy/split.py"


# One job per layer pair: every dim of layer n+1 regressed on layer n (all dims in one solve);
# pairs/ from the study's probe, pairs_<probe>/ from `last_layer_probe`.
rule redundancy_fit_pair:
    input:
        store=redundancy_store,
        split=f"{REDUNDANCY_OUT}/split.csv",
        # the model whose final norm derives the normed last layer (none when nothing is derived)
        normed_from=redundancy_normed_from,
    output:
        f"{REDUNDANCY_OUT}/{{redundancy_model}}/{{redundancy_pairs}}/layer{{source}}.parquet",
    log:
        f"{LOGS}/redundancy/{{redundancy_model}}/{{redundancy_pairs}}/layer{{source}}.log",
    benchmark:
        f"{BENCH}/redundancy/{{redundancy_model}}/{{redundancy_pairs}}/layer{{source}}.tsv"
    wildcard_constraints:
        source=r"\d{2}",
    conda:
        TORCH_ENV
    threads: REDUNDANCY["threads"]
    resources:
        mem_mb=4096,
        gpu=0 if DEVICE == "cpu" else 1,
        runtime=60,
    params:
        settings={
            k: REDUNDANCY[k]
            for k in ("C", "epsilon", "standardize", "tol", "max_iter")
        },
        top_inputs=REDUNDANCY["top_inputs"],
        device=DEVICE,
    script:
        "../../scripts/redundancy/fit_pair.py"


rule redundancy_tables:
    input:
        pairs=redundancy_pair_files,
        dataset=redundancy_dataset_file("json"),
    output:
        **{
            f"{table}_{ext}": f"{REDUNDANCY_OUT}/{{redundancy_model}}/{table}.{ext}"
            for table in REDUNDANCY_TABLES
            for ext in ("csv", "md")
        },
    log:
        f"{LOGS}/redundancy/{{redundancy_model}}/tables.log",
    benchmark:
        f"{BENCH}/redundancy/{{redundancy_model}}/tables.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        section=REDUNDANCY,
        display=entry_fact("display", "redundancy_model"),
    script:
        "../../scripts/redundancy/tables.py"


rule redundancy_figures:
    input:
        pairs=redundancy_pair_files,
        summary=f"{REDUNDANCY_OUT}/{{redundancy_model}}/pair_summary.csv",
        top=f"{REDUNDANCY_OUT}/{{redundancy_model}}/top_pairs.csv",
        frequent=f"{REDUNDANCY_OUT}/{{redundancy_model}}/frequent_dims.csv",
        dataset=redundancy_dataset_file("json"),
    output:
        **{
            fig: f"{REDUNDANCY_OUT}/{{redundancy_model}}/{fig}.png"
            for fig in REDUNDANCY_FIGURES
        },
    log:
        f"{LOGS}/redundancy/{{redundancy_model}}/figures.log",
    benchmark:
        f"{BENCH}/redundancy/{{redundancy_model}}/figures.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        display=entry_fact("display", "redundancy_model"),
    script:
        "../../scripts/redundancy/figures.py"


# The last pair both ways (raw last decoder layer vs after the final norm), beside the pair before.
rule redundancy_last_layer:
    input:
        pairs=redundancy_last_pairs,
        other=redundancy_other_last_pair,
    output:
        csv=f"{REDUNDANCY_OUT}/{{redundancy_model}}/last_layer.csv",
        md=f"{REDUNDANCY_OUT}/{{redundancy_model}}/last_layer.md",
    log:
        f"{LOGS}/redundancy/{{redundancy_model}}/last_layer.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        last_layer=redundancy_last_layer,
        other_last_layer=redundancy_other_last_layer,
        display=entry_fact("display", "redundancy_model"),
    script:
        "../../scripts/redundancy/last_layer.py"
