"""Table 1: overlap of the language-specific neuron sets between languages (6×6, diagonal 2k).

The Markdown is the paper's matrix of totals; the CSV splits each pair into top∩top, bottom∩bottom
and crossed.
"""

import pandas as pd

from lmanatomy.language.report import overlap_notes
from lmanatomy.language.selection import overlap_split, overlap_table
from lmanatomy.language.study import load_texts, notes
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    setup = snakemake.params.setup
    selection = pd.read_parquet(snakemake.input.selection)
    write_table(overlap_split(selection, setup["languages"], setup["k"]), snakemake.output.csv)
    write_table(
        overlap_table(selection, setup["languages"], setup["k"]),
        None,
        snakemake.output.md,
        title=(f"Table 1: overlap of language-specific neurons between languages — {setup['display']}"),
        notes=overlap_notes(setup["k"]) + notes({**setup, "models": [setup["model"]]}, load_texts(snakemake.input.data), generation=False),
    )
