# The layer atlas (beyond the five papers): per model, every enabled study's finding by decoder
# layer on one axis, and the rank correlations between those profiles.

from lmanatomy.atlas.plan import reasons as atlas_reasons

ATLAS = study_section("atlas")
ATLAS_DIR = f"{RESULTS}/atlas"
ATLAS_MODELS = list(ATLAS["models"]) if ATLAS else []
ATLAS_FILES = ["atlas.png", "atlas.csv", "atlas.md", "correlations.csv"]

TARGETS["atlas"] = [f"{ATLAS_DIR}/{m}/{f}" for m in ATLAS_MODELS for f in ATLAS_FILES]


include: "functions/atlas.smk"


localrules:
    atlas,


rule atlas:
    input:
        unpack(atlas_study_files),
    output:
        png=f"{ATLAS_DIR}/{{amodel}}/atlas.png",
        csv=f"{ATLAS_DIR}/{{amodel}}/atlas.csv",
        md=f"{ATLAS_DIR}/{{amodel}}/atlas.md",
        correlations=f"{ATLAS_DIR}/{{amodel}}/correlations.csv",
    log:
        f"{LOGS}/atlas/{{amodel}}.log",
    wildcard_constraints:
        amodel=alternation(ATLAS_MODELS),
    conda:
        "../../envs/analysis.yaml"
    params:
        studies=atlas_studies,
        reasons=atlas_reasons_of,
        layers=entry_fact("num_layers", "amodel"),
        display=entry_fact("display", "amodel"),
        resamples=(ATLAS or {}).get("resamples"),
        seed=(ATLAS or {}).get("seed"),
        notes=[],
    script:
        "../../scripts/atlas/atlas.py"


ATLAS_LL = (ATLAS or {}).get("language_lesions") or {}
ATLAS_LL_FILES = ["language_lesions.csv", "language_lesions.md", "language_lesions.png"]
# Models on which the language study and the lesion study both run.
ATLAS_LL_MODELS = [
    m
    for m in ATLAS_MODELS
    if not atlas_reasons(config, m)["language"]
    and not atlas_reasons(config, m)["lesion"]
]
ATLAS_LL_TARGETS = [
    f"{ATLAS_DIR}/{m}/{f}" for m in ATLAS_LL_MODELS for f in ATLAS_LL_FILES
]
if ATLAS_LL.get("in_all"):
    TARGETS["atlas"] += ATLAS_LL_TARGETS


# `snakemake atlas_language_lesions`: the cross-study lesion without the rest of the run.
rule atlas_language_lesions:
    input:
        ATLAS_LL_TARGETS,


rule atlas_language_lesion:
    input:
        model=of_model(model_ready, "amodel"),
        selection=f"{RESULTS}/language/{{amodel}}/selected.parquet",
        stores=atlas_language_stores,
        data=atlas_language_data,
        tasks=atlas_lesion_tasks,
    output:
        csv=f"{ATLAS_DIR}/{{amodel}}/language_lesions.csv",
        md=f"{ATLAS_DIR}/{{amodel}}/language_lesions.md",
        png=f"{ATLAS_DIR}/{{amodel}}/language_lesions.png",
        predictions=f"{ATLAS_DIR}/{{amodel}}/language_lesions_predictions.parquet",
    log:
        f"{LOGS}/atlas/{{amodel}}_language_lesions.log",
    benchmark:
        f"{BENCH}/atlas/{{amodel}}_language_lesions.tsv"
    wildcard_constraints:
        amodel=alternation(ATLAS_LL_MODELS),
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=of_model(mem_mb_for, "amodel"),
        gpu=of_model(gpus_for, "amodel"),
        runtime=atlas_language_lesion_minutes,
    params:
        section=ATLAS_LL,
        model=atlas_model,
        registry=config["models_file"],
        display=entry_fact("display", "amodel"),
        generation=(config.get("lesion") or {}).get("generation"),
        device=DEVICE,
        dtype=DTYPE,
    script:
        "../../scripts/atlas/language_lesions.py"
