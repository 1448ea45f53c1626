"""Table 2: per group, how often other-group words are farther than the word's own group."""

import pandas as pd

from lmanatomy.deviations import notes_of
from lmanatomy.knowledge import STUDY
from lmanatomy.knowledge.emd import METRICS, assemble
from lmanatomy.knowledge.report import read_json, table2_notes
from lmanatomy.knowledge.stats import INTERVAL_NOTE, headline_mask, scores_by_metric, table2
from lmanatomy.knowledge.trajectories import pile_up_note
from lmanatomy.report import load_paper_values
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    p = snakemake.params
    groups = p.section["groups"]
    table = table2(pd.read_csv(snakemake.input.matrix, index_col=0), groups)
    by_metric = pd.read_csv(snakemake.input.by_metric)
    scores = scores_by_metric(
        {m: assemble([by_metric], p.words, column=m) for m in METRICS}, groups
    )
    write_table(
        table,
        snakemake.output.csv,
        snakemake.output.md,
        title=(
            "Table 2: other-group words farther than the own-group mean (hits / comparisons × 100)"
        ),
        notes=table2_notes(
            p.section,
            notes_of(STUDY, snakemake.config, [snakemake.input.questions_meta]),
            pd.read_csv(snakemake.input.answers),
            STUDY.paper_values(load_paper_values(snakemake.input.paper_values)),
            read_json(snakemake.input.questions_meta),
            scores,
            pile_up_note(pd.read_csv(snakemake.input.layers)),
            p.corpus,
        )
        + [INTERVAL_NOTE],
        bold=headline_mask(table, p.section["denominator"]),
        digits=1,
    )
    log.info("Table 2 written")
