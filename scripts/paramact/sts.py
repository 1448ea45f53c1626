"""Finding 3 for one model and one STS dataset: LLMDcos per layer
between the two sentences of each pair (of one block of the pairs when
the work is split into several jobs: params.block = (index, count))."""

import pandas as pd

from lmanatomy.models import load_model
from lmanatomy.paramact.scores import ParameterActivation
from lmanatomy.paramact.sts import sts_pairs, sts_table
from lmanatomy.runtime import script_context
from lmanatomy.tables import block_of, write_table

with script_context(snakemake, seed=snakemake.params.seed) as log:
    model, tokenizer = load_model(
        snakemake.params.model_path,
        snakemake.params.device,
        snakemake.params.dtype,
        trust_remote_code=snakemake.params.trust_remote_code,
    )
    pairs = sts_pairs(
        pd.read_parquet(snakemake.input.data), snakemake.params.pairs, snakemake.params.seed
    )
    pairs = block_of(pairs, *snakemake.params.block)
    log.info(
        "STS %s: %d pairs (block %d of %d)",
        snakemake.wildcards.dataset,
        len(pairs),
        *snakemake.params.block,
    )
    table = sts_table(
        ParameterActivation(model), tokenizer, snakemake.wildcards.dataset, pairs, log
    )
    write_table(table, snakemake.output.table)
