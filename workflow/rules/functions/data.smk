# The input, params and resources functions of rules/data.smk (its rules name them; Snakemake's
# lint keeps functions out of rule files).


def upstream_fact(attribute):
    """Params function: a fact (url, sha256…) of the pinned upstream file {path}."""

    def fact(path):
        return getattr(UPSTREAM[path], attribute)

    fact.__name__ = attribute
    return of_wildcard(fact, "path")


def upstream_archive(wildcards):
    """The downloaded archive a file {path} is unpacked from."""
    return f"{RAW_ROOT}/{UPSTREAM[wildcards.path].archive}"


def hf_dataset_spec(wildcards):
    return HF_DATASETS[wildcards.path]


def dataset_spec(wildcards):
    return DATASETS[wildcards.dataset]


def dataset_root_of(wildcards):
    """The folder the dataset reads its files from (its root, else data_root, else data/raw)."""
    return dataset_root(config, wildcards.dataset)
