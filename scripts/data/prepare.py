"""Prepare one named dataset: upstream files -> normalised Parquet + provenance JSON."""

from lmanatomy.data import prepare_dataset, write_prepared
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    name = snakemake.wildcards.dataset
    prepared = prepare_dataset(dict(snakemake.params.spec), snakemake.params.root, name=name)
    meta = write_prepared(
        prepared.frame, snakemake.output.parquet, snakemake.output.meta, meta=prepared.meta
    )
    log.info(
        "dataset %s: %d rows from %d files, content sha256 %s",
        name,
        meta["rows"],
        len(meta["sources"]),
        meta["content_sha256"],
    )
    for note in meta["notes"]:
        log.warning("%s", note)
