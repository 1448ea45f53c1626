# The input, params and resources functions of rules/redundancy.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def redundancy_dataset_file(suffix):
    """Input function: the study's prepared dataset (.parquet) or its provenance (.json)."""

    def dataset_file(wildcards):
        return f"{RESULTS}/data/{REDUNDANCY['dataset']}.{suffix}"

    return dataset_file


def redundancy_store(wildcards):
    """The activation store a pair is fitted on: the study's probe (pairs/), else last_layer_probe's,
    or the study's own raw store when the normed last layer is derived from it (lmanatomy.redundancy.normed).
    """
    probe = REDUNDANCY_STORE_PROBE[wildcards.redundancy_pairs]
    return f"{RESULTS}/activations/{wildcards.redundancy_model}/{REDUNDANCY['dataset']}/{probe}/_manifest.json"


def redundancy_normed_from(wildcards):
    """The model whose final norm derives the normed last layer (none when nothing is derived)."""
    if wildcards.redundancy_pairs != "pairs" and REDUNDANCY_DERIVE_NORMED:
        return model_ready(wildcards.redundancy_model)
    return []


def redundancy_pair_files(wildcards):
    return REDUNDANCY_PAIR_FILES[wildcards.redundancy_model]


def redundancy_last_pairs(wildcards):
    """The last two fitted pairs of the study's probe."""
    return redundancy_pair_files(wildcards)[-2:]


def redundancy_other_last_pair(wildcards):
    """The last pair fitted on the last_layer_probe's store."""
    model = wildcards.redundancy_model
    last = REDUNDANCY_SOURCES[model][-1]
    return f"{REDUNDANCY_OUT}/{model}/pairs_{REDUNDANCY_OTHER}/layer{last:02d}.parquet"


def redundancy_probe(wildcards):
    """The settings of the study's probe (its last hidden state: raw or after the final norm)."""
    return config["probes"][REDUNDANCY["probe"]]


def redundancy_other_last_layer(wildcards):
    return config["probes"][REDUNDANCY_OTHER]["last_layer"]


def redundancy_last_layer(wildcards):
    return redundancy_probe(wildcards)["last_layer"]
