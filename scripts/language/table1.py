"""Table 1: overlap of the language-specific neuron sets
between languages (6×6, diagonal 2k), with 95% intervals.

The Markdown is the paper's matrix of totals, each with its bootstrap interval; the CSV splits each
pair into top∩top, bottom∩bottom and crossed, every count with its bounds.
"""

import pandas as pd

from lmanatomy.language.report import (
    overlap_interval_notes,
    overlap_matrix,
    overlap_notes,
    overlap_with_intervals,
)
from lmanatomy.language.selection import overlap_split
from lmanatomy.language.study import load_texts, notes, overlap_bootstrap
from lmanatomy.models import resolve_device
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake) as log:
    setup = snakemake.params.setup
    languages, k = setup["languages"], setup["k"]
    selection = pd.read_parquet(snakemake.input.selection)
    bounds, facts = overlap_bootstrap(
        snakemake.input.stores,
        snakemake.input.data,
        pd.read_parquet(snakemake.input.neurons),
        languages,
        k,
        int(snakemake.params.replicates),
        float(snakemake.params.pool),
        snakemake.params.memory_mb,
        resolve_device(snakemake.params.device),
    )
    log.info("Table 1 bootstrap: %s", facts)
    table = overlap_with_intervals(overlap_split(selection, languages, k), bounds, facts["texts"])
    write_table(table, snakemake.output.csv)
    write_table(
        overlap_matrix(table, languages),
        None,
        snakemake.output.md,
        title=(
            f"Table 1: overlap of language-specific neurons between languages — {setup['display']}"
        ),
        notes=overlap_notes(k)
        + overlap_interval_notes(facts)
        + notes(
            {**setup, "models": [setup["model"]]},
            load_texts(snakemake.input.data),
            generation=False,
        ),
    )
