# The input, params and resources functions of rules/lesion.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def lesion_task_dataset(wildcards):
    return LESION["tasks"][wildcards.task]["dataset"]


def lesion_task_data(wildcards):
    return f"{RESULTS}/data/{lesion_task_dataset(wildcards)}.parquet"


def lesion_fewshot_file(wildcards):
    return fewshot_download(config, wildcards.task)


def lesion_num_few_shots(wildcards):
    """The task's own few-shot count, else the section's."""
    task = LESION["tasks"][wildcards.task]
    return task.get("num_few_shots", LESION["num_few_shots"])


def lesion_task_root(wildcards):
    return task_root(config, wildcards.task)


def lesion_variant(wildcards):
    """The one lesion (or the original) a per_lesion evaluation job scores."""
    return [wildcards.variant]
