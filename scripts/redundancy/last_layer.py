"""The last layer pair both ways: target = the raw last
decoder layer output and = after the final norm."""

from lmanatomy.redundancy.analysis import last_layer_table, read_rows
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    params = snakemake.params
    table = last_layer_table(
        read_rows(snakemake.input.pairs),
        read_rows([snakemake.input.other]),
        params.last_layer,
        params.other_last_layer,
    )
    log.info(
        "last pair: mean R² %s",
        ", ".join(
            f"{r.last_hidden_state.split(':')[0]} {r.mean_r2:.4f}" for r in table.itertuples()
        ),
    )
    note = (
        "The last entry of the hidden states can be read two ways: the last decoder layer's raw "
        "output (a hook; every pair then compares two residual-stream states on the same scale, "
        "which is why the paper config takes it) or the final norm's output, which is what "
        "Hugging Face's output_hidden_states[-1] returns and what a user of that API (plausibly "
        "the poster) reads. Only the last pair's target differs; a last pair that stands out only "
        "after the norm shows the norm, not the last layer."
    )
    write_table(
        table,
        snakemake.output.csv,
        snakemake.output.md,
        notes=[note],
        title=f"The last layer pair both ways — {params.display}",
    )
