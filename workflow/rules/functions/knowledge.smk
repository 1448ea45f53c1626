# The input, params and resources functions of rules/knowledge.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def knowledge_part(wildcards):
    """The (checkpoint × word) block of the grid one attribution job covers."""
    return KN_PARTS[wildcards.part]


def knowledge_part_models(wildcards):
    """The prepared checkpoints of the part (each a folder marked complete)."""
    return [model_ready(KN_MODEL, c) for c in knowledge_part(wildcards)["checkpoints"]]


def knowledge_part_model_dirs(wildcards):
    return {
        c: model_path(KN_MODEL, c) for c in knowledge_part(wildcards)["checkpoints"]
    }


def knowledge_part_minutes(wildcards):
    """Runtime estimate: gradients of one (checkpoint, word) item count as a tenth of a unit."""
    units = len(part_items(knowledge_part(wildcards))) / 10
    return runtime_for(KN_MODEL, "gradients", units=units)
