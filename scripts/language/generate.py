"""Generate from the start token under every condition (none; top / bottom
/ both at k; both at each ablation k); one block of the plan when the
generation is split into several jobs (params.shard = (index, count))."""

import pandas as pd
import pyarrow.parquet as pq

from lmanatomy.language.study import generate_texts
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_parquet

with script_context(snakemake) as log:
    setup = snakemake.params.setup
    neurons = pq.ParquetFile(snakemake.input.neurons).metadata.num_rows
    generations = generate_texts(
        snakemake.params.model_path,
        pd.read_parquet(snakemake.input.selection),
        neurons,
        setup["languages"],
        setup["k"],
        setup["ablation_k"],
        setup["seeds"],
        setup["batch_size"],
        setup["max_new_tokens"],
        setup["temperature"],
        snakemake.params.device,
        snakemake.params.dtype,
        start=setup["start"],
        expected_start=setup["start_token"],
        shard=tuple(snakemake.params.shard),
        ablation_seeds=setup.get("ablation_seeds"),
    )
    log.info(
        "start token %s (id %s)",
        generations["start_token"].iloc[0],
        generations["start_id"].iloc[0],
    )
    log.info(
        "%d texts, %.1f new tokens on average, %d stopped at EOS",
        len(generations),
        generations["n_tokens"].mean(),
        int(generations["stopped_at_eos"].sum()),
    )
    write_parquet(generations, snakemake.output.generations)
