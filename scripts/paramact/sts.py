"""Finding 3 for one model and one STS dataset: LLMDcos per layer between the two sentences of each pair."""

import pandas as pd

from lmanatomy.models import load_model
from lmanatomy.paramact.scores import ParameterActivation
from lmanatomy.paramact.sts import sts_pairs, sts_table
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, seed=snakemake.params.seed) as log:
    model, tokenizer = load_model(snakemake.params.model_path, snakemake.params.device, snakemake.params.dtype,
                                  trust_remote_code=snakemake.params.trust_remote_code)
    pairs = sts_pairs(pd.read_parquet(snakemake.input.data), snakemake.params.pairs, snakemake.params.seed)
    log.info("STS %s: %d pairs", snakemake.wildcards.dataset, len(pairs))
    table = sts_table(ParameterActivation(model), tokenizer, snakemake.wildcards.dataset, pairs, log)
    write_table(table, snakemake.output.table)
