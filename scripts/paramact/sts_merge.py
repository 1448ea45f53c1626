"""Join the blocks of an STS pair table split over
several jobs, in pair order: the unsplit table."""

import pandas as pd

from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    blocks = [pd.read_csv(path) for path in snakemake.input.blocks]
    log.info("%d STS blocks, %d rows", len(blocks), sum(len(b) for b in blocks))
    write_table(pd.concat(blocks, ignore_index=True), snakemake.output.table)
