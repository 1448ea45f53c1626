"""Integrated-gradients attributions of one part of the checkpoint × word grid, into shards."""

from lmanatomy.data import read_prepared
from lmanatomy.knowledge.driver import run_part, write_manifest
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    p = snakemake.params
    records = run_part(
        p.section,
        p.part,
        read_prepared(snakemake.input.questions),
        p.model_dirs,
        p.shards,
        p.device,
        p.dtype,
        log.info,
    )
    write_manifest(snakemake.output.manifest, records)
