"""Fig 5: k-ablation — target-language probability and BLEU-4 against log10 k."""

import pandas as pd
import pyarrow.parquet as pq

from lmanatomy.language.report import k_ablation, plot_k_ablation, start_description
from lmanatomy.language.steering import usable_ks
from lmanatomy.language.study import load_texts, notes
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    setup = snakemake.params.setup
    usable, skipped = usable_ks(
        setup["ablation_k"], pq.ParquetFile(snakemake.input.neurons).metadata.num_rows
    )
    scored = pd.read_parquet(snakemake.input.scores)
    points = k_ablation(scored, setup["languages"], usable)
    start = f"Generated from {start_description(scored, setup['start'])}."
    note = " ".join(
        [start]
        + notes(
            {**setup, "models": [setup["model"]]},
            load_texts(snakemake.input.data),
            skipped_ks=skipped,
            figure=True,
        )
    )
    write_table(points, snakemake.output.csv)
    plot_k_ablation(points, setup["languages"], setup["display"], snakemake.output.png, note)
