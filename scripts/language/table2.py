"""Table 2: probability (%) of the target language in generated text, before and under intervention."""

import pandas as pd

from lmanatomy.language.report import table2, table2_notes
from lmanatomy.language.study import load_texts, notes
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    setups = snakemake.params.setups
    first = setups[0]
    scored = {s["display"]: pd.read_parquet(path) for s, path in zip(setups, snakemake.input.scores)}
    table = table2(scored, first["languages"], first["k"])
    write_table(
        table,
        snakemake.output.csv,
        snakemake.output.md,
        title="Table 2: probability (%) of the target language in generated text",
        notes=table2_notes(first["k"], len(first["seeds"]), first["lid_threshold"]) + notes(first, load_texts(snakemake.input.data)),
        digits=1,
    )
