"""Extract one probe of one model over one prepared dataset into an activation store."""

from pathlib import Path

from lmanatomy.extract import extract_dataset
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    wc = snakemake.wildcards
    store = extract_dataset(
        snakemake.params.model_path,
        snakemake.input.data,
        snakemake.params.probe,
        Path(snakemake.output.manifest).parent,
        model_name=wc.model,
        dataset_name=wc.dataset,
        probe_name=wc.probe,
        device=snakemake.params.device,
        dtype=snakemake.params.dtype,
    )
    log.info(
        "%s: %d rows, %d columns, %d shards",
        store.path,
        store.num_rows,
        len(store.columns),
        len(store.shards),
    )
