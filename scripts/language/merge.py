"""Join the blocks of a generation split over several
jobs, in plan order: the unsplit generation."""

import pandas as pd

from lmanatomy.runtime import script_context
from lmanatomy.tables import write_parquet

with script_context(snakemake, uses_torch=False) as log:
    blocks = [pd.read_parquet(path) for path in snakemake.input.blocks]
    log.info("%d generation blocks, %d texts", len(blocks), sum(len(b) for b in blocks))
    write_parquet(pd.concat(blocks, ignore_index=True), snakemake.output.generations)
