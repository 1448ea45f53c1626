"""Fig 2: layers of the top, middle and bottom neurons by AP, per language."""

import pandas as pd

from lmanatomy.language.report import plot_layer_histograms
from lmanatomy.language.selection import layer_histograms
from lmanatomy.language.study import load_texts, notes
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    setup = snakemake.params.setup
    ranked = pd.read_parquet(
        snakemake.input.neurons, columns=["layer", *[f"ap_{lang}" for lang in setup["languages"]]]
    )
    n = snakemake.params.histogram_k
    counts = layer_histograms(ranked, setup["languages"], n, int(ranked["layer"].max()) + 1)
    note = " ".join(
        notes(
            {**setup, "models": [setup["model"]]},
            load_texts(snakemake.input.data),
            generation=False,
            figure=True,
        )
    )
    write_table(counts, snakemake.output.csv)
    plot_layer_histograms(
        counts, setup["languages"], n, setup["display"], snakemake.output.png, note or None
    )
