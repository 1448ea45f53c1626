# The layer atlas (beyond the five papers): per model, every enabled study's finding by decoder
# layer on one axis, and the rank correlations between those profiles.

from lmanatomy.atlas.plan import inputs as atlas_inputs, reasons as atlas_reasons

ATLAS = config.get("atlas") if "atlas" in STUDIES else None
ATLAS_DIR = f"{RESULTS}/atlas"
ATLAS_MODELS = list(ATLAS["models"]) if ATLAS else []
ATLAS_FILES = ["atlas.png", "atlas.csv", "atlas.md", "correlations.csv"]

TARGETS["atlas"] = [f"{ATLAS_DIR}/{m}/{f}" for m in ATLAS_MODELS for f in ATLAS_FILES]


localrules:
    atlas,


def atlas_study_files(wildcards):
    """The contributing studies' output files, named by study."""
    return atlas_inputs(
        config, wildcards.amodel, RESULTS, REGISTRY[wildcards.amodel].num_layers
    )


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
        amodel=alternation(ATLAS_MODELS or ["none"]),
    conda:
        "../../envs/analysis.yaml"
    params:
        studies=lambda wc: list(atlas_study_files(wc)),
        reasons=lambda wc: atlas_reasons(config, wc.amodel),
        layers=lambda wc: REGISTRY[wc.amodel].num_layers,
        display=lambda wc: REGISTRY[wc.amodel].display,
        resamples=(ATLAS or {}).get("resamples"),
        seed=(ATLAS or {}).get("seed"),
        notes=[],
    script:
        "../../scripts/atlas/atlas.py"
