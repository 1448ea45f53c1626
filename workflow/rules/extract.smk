# The activation store: a model's probe over a prepared dataset, as Parquet shards + _manifest.json.
# Generic: a study asks for results/<run>/activations/<model>/<dataset>/<probe>/_manifest.json and
# this rule makes it. Interrupted runs resume from the last complete shard (see lmanatomy.extract).

# Wildcards take only names the registry and the config define (series models have no single folder).
EXTRACT_MODELS = alternation(n for n, e in REGISTRY.items() if not e.is_series)
EXTRACT_DATASETS = alternation(DATASETS)
EXTRACT_PROBES = alternation(config.get("probes", {}))


rule extract:
    input:
        data=f"{RESULTS}/data/{{dataset}}.parquet",
        meta=f"{RESULTS}/data/{{dataset}}.json",
        model=of_model(model_ready),
    output:
        manifest=f"{RESULTS}/activations/{{model}}/{{dataset}}/{{probe}}/_manifest.json",
    log:
        f"{LOGS}/extract/{{model}}/{{dataset}}/{{probe}}.log",
    benchmark:
        f"{BENCH}/extract/{{model}}/{{dataset}}/{{probe}}.tsv"
    wildcard_constraints:
        model=EXTRACT_MODELS,
        dataset=EXTRACT_DATASETS,
        probe=EXTRACT_PROBES,
    # The longest chains of the default run start first: language (extract → rank → select → generate)
    # and the lesion evaluation (priority 10), then paramact scoring (5).
    priority: 10
    conda:
        TORCH_ENV
    # On CPU one thread per job, so that Snakemake runs jobs side by side (two threads on two busy
    # cores cost far more CPU for little wall time, docs/benchmarks.md); on a GPU the threads feed it.
    threads: 1 if DEVICE == "cpu" else 8
    resources:
        mem_mb=of_model(mem_mb_for, "model", "inference"),
        gpu=of_model(gpus_for, "model", "inference"),
        runtime=of_model(runtime_for, "model", "inference"),
    params:
        model_path=of_model(model_path),
        probe=probe_settings,
        device=DEVICE,
        dtype=DTYPE,
    script:
        "../../scripts/extract/extract.py"
