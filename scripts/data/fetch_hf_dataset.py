"""Load one pinned Hub dataset split (datasets.load_dataset) into data/raw/hf/... as Parquet."""

from lmanatomy.data.generic import fetch_hf_dataset
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    spec = snakemake.params.spec
    log.info(
        "loading %s (%s, split %s) at %s -> %s",
        spec["repo"],
        spec.get("name"),
        spec["split"],
        spec["revision"],
        snakemake.output[0],
    )
    fetch_hf_dataset(spec, snakemake.output[0])
