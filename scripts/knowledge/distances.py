"""The words × words EMD matrix of the configured metric,
and every metric's pair distances, from the pair shards."""

import pandas as pd

from lmanatomy.knowledge.emd import METRICS, assemble
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    pairs = [pd.read_csv(path) for path in snakemake.input.pairs]
    matrix = assemble(pairs, snakemake.params.words)
    log.info("distance matrix %s", matrix.shape)
    write_table(matrix.rename_axis("word"), snakemake.output.matrix, index=True)
    by_metric = pd.concat(pairs, ignore_index=True)[["word_1", "word_2", *METRICS]]
    write_table(
        by_metric.sort_values(["word_1", "word_2"], ignore_index=True), snakemake.output.by_metric
    )
