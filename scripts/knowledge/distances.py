"""The words × words EMD matrix, assembled from the pair shards."""

import pandas as pd

from lmanatomy.knowledge.emd import assemble
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    matrix = assemble([pd.read_csv(path) for path in snakemake.input.pairs], snakemake.params.words)
    log.info("distance matrix %s", matrix.shape)
    write_table(matrix.rename_axis("word"), snakemake.output.matrix, index=True)
