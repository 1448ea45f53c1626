"""Per-pair R² statistics (Figs 1-3 numbers), the top-500
(pair, dim) and the most frequent contributing dims."""

from lmanatomy.deviations import notes_of
from lmanatomy.redundancy import STUDY
from lmanatomy.redundancy.analysis import (
    baseline_note,
    frequent_dims,
    pair_summary,
    poster_dims_note,
    read_rows,
    settings_note,
    top_pairs,
    write_table_head,
)
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    section, out = snakemake.params.section, snakemake.output
    model = snakemake.wildcards.redundancy_model
    rows = read_rows(snakemake.input.pairs)
    summary = pair_summary(rows)
    notes = [
        baseline_note(summary),
        *notes_of(STUDY, snakemake.config, [snakemake.input.dataset]),
        settings_note(rows),
    ]
    top = top_pairs(rows, section["top_pairs"])
    frequent = frequent_dims(rows, top)
    log.info("%d regressions over %d pairs; top list of %d", len(rows), len(summary), len(top))
    display = snakemake.params.display
    write_table(
        summary,
        out.pair_summary_csv,
        out.pair_summary_md,
        notes=notes,
        title=f"Test R² per layer pair, over target dims — {display} (Figs 1-3)",
    )
    write_table(
        top,
        out.top_pairs_csv,
        out.top_pairs_md,
        notes=notes,
        title=(
            f"Top {len(top)} (layer pair, target dim) by test R², with their largest-|weight| "
            f"input dims — {display}"
        ),
    )
    write_table_head(
        frequent,
        out.frequent_dims_csv,
        out.frequent_dims_md,
        rows=30,
        notes=[poster_dims_note(frequent, int(rows["dim"].max()) + 1, model), *notes],
        title=(
            f"Dims that recur among the top contributors and the targets of the top {len(top)} — "
            f"{display}"
        ),
    )
