# The neuron census (Kojima et al. 2024, Table 3): layers and neurons from architecture facts alone.

CENSUS = config.get("census") or schema_filled("census", {"models": []})
# Models whose registry facts are also checked against their real weights (census.verify_weights).
CENSUS_VERIFIED = CENSUS["models"] if CENSUS["verify_weights"] else []

TARGETS["census"] = [f"{RESULTS}/census/table3.csv", f"{RESULTS}/census/table3.md"]


rule census_table3:
    input:
        weights=[model_ready(name) for name in CENSUS_VERIFIED],
    output:
        csv=f"{RESULTS}/census/table3.csv",
        md=f"{RESULTS}/census/table3.md",
    log:
        f"{LOGS}/census/table3.log",
    conda:
        "../../envs/pytorch.yaml"
    resources:
        mem_mb=4096,
    params:
        entries={name: REGISTRY.raw_entry(name) for name in CENSUS["models"]},
        verified=CENSUS_VERIFIED,
        verified_paths=[model_path(name) for name in CENSUS_VERIFIED],
    script:
        "../../scripts/census/table3.py"
