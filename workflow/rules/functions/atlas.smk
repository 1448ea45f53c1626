# The input, params and resources functions of rules/atlas.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def atlas_studies(wildcards):
    """The names of the studies contributing a profile of the model."""
    return list(atlas_study_files(wildcards))


def atlas_reasons_of(wildcards):
    """Per study, why it does not contribute to the model's atlas (empty when it does)."""
    return atlas_reasons(config, wildcards.amodel)


def atlas_model(wildcards):
    return wildcards.amodel


def atlas_language_data(wildcards):
    """The language study's datasets (their texts are the lesion's language inputs)."""
    return [f"{RESULTS}/data/{name}.parquet" for name in config["language"]["datasets"]]


def atlas_lesion_tasks(wildcards):
    """The lesion study's prepared test sets of the tasks the cross-study lesion scores."""
    return [f"{RESULTS}/lesion/tasks/{task}/test.json" for task in ATLAS_LL["tasks"]]


def atlas_language_lesion_minutes(wildcards):
    """Runtime estimate: the unlesioned pass plus two per (setting, language)."""
    units = 1 + 2 * len(ATLAS_LL["settings"]) * len(ATLAS_LL["languages"])
    return runtime_for(wildcards.amodel, units=units)
