# Data: the config's named datasets -> results/<run>/data/<name>.parquet (+ <name>.json, their
# provenance). A dataset reads its files from its root (datasets.<name>.root, else data_root); a
# null root reads data/raw, filled by the download and unpack jobs below from pinned upstreams.


include: "functions/data.smk"


localrules:
    download_data,
    fetch_hf_dataset,
    unpack_data,
    prepare_dataset,
    datasets,


rule download_data:
    output:
        f"{RAW_ROOT}/{{path}}",
    log:
        f"{RAW_ROOT}/logs/{{path}}.download.log",
    wildcard_constraints:
        path=alternation(downloaded_paths()),
    conda:
        "../../envs/analysis.yaml"
    params:
        url=upstream_fact("url"),
        sha256=upstream_fact("sha256"),
        git_blob=upstream_fact("git_blob"),
    script:
        "../../scripts/data/download.py"


rule unpack_data:
    input:
        archive=upstream_archive,
    output:
        f"{RAW_ROOT}/{{path}}",
    log:
        f"{RAW_ROOT}/logs/{{path}}.unpack.log",
    wildcard_constraints:
        path=alternation(unpacked_paths()),
    conda:
        "../../envs/analysis.yaml"
    params:
        member=upstream_fact("member"),
        sha256=upstream_fact("sha256"),
    script:
        "../../scripts/data/unpack.py"


# `format: hf` datasets: one pinned split loaded with datasets.load_dataset, cached as Parquet.
rule fetch_hf_dataset:
    output:
        f"{RAW_ROOT}/{{path}}",
    log:
        f"{RAW_ROOT}/logs/{{path}}.hf.log",
    wildcard_constraints:
        path=alternation(HF_DATASETS),
    conda:
        "../../envs/analysis.yaml"
    params:
        spec=hf_dataset_spec,
    script:
        "../../scripts/data/fetch_hf_dataset.py"


rule prepare_dataset:
    input:
        dataset_files,
    output:
        parquet=f"{RESULTS}/data/{{dataset}}.parquet",
        meta=f"{RESULTS}/data/{{dataset}}.json",
    log:
        f"{LOGS}/data/{{dataset}}.log",
    benchmark:
        f"{BENCH}/data/{{dataset}}.tsv"
    wildcard_constraints:
        dataset=alternation(DATASETS),
    conda:
        "../../envs/analysis.yaml"
    params:
        spec=dataset_spec,
        root=dataset_root_of,
    script:
        "../../scripts/data/prepare.py"


# `snakemake datasets`: prepare every dataset of the config (studies pull in only those they use).
rule datasets:
    input:
        expand(f"{RESULTS}/data/{{name}}.parquet", name=DATASETS),
