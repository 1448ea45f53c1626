"""One report item: a figure or data file of the run, linked into the report folder."""

from lmanatomy.report import link_file
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    link_file(snakemake.input[0], snakemake.output[0])
    log.info("linked %s -> %s", snakemake.input[0], snakemake.output[0])
