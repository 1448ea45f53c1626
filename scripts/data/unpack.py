"""Extract one member of a downloaded upstream archive into data/raw, with its sha256 record."""

from lmanatomy.data import unpack
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    params = snakemake.params
    log.info("unpacking %s:%s -> %s", snakemake.input.archive, params.member, snakemake.output[0])
    sha256 = unpack(snakemake.input.archive, params.member, snakemake.output[0], params.sha256)
    log.info("sha256 %s", sha256)
