"""Fig 4: activation values of each language's top / bottom neurons on target vs other texts."""

import pandas as pd

from lmanatomy.language.report import FIG4_CLIPPING, plot_activation_distributions
from lmanatomy.language.study import distributions, load_texts, notes
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    setup = snakemake.params.setup
    selection = pd.read_parquet(snakemake.input.selection)
    hist = distributions(
        snakemake.input.stores, snakemake.input.data, selection, setup["languages"], setup["k"]
    )
    note = " ".join(
        [FIG4_CLIPPING]
        + notes(
            {**setup, "models": [setup["model"]]},
            load_texts(snakemake.input.data),
            generation=False,
            figure=True,
        )
    )
    write_table(hist, snakemake.output.csv)
    plot_activation_distributions(
        hist, setup["languages"], setup["k"], setup["display"], snakemake.output.png, note
    )
