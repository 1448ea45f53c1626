"""Tables and figures of the validation experiments
for one model: finding 3 (STS), pruning 1 and 2."""

from lmanatomy.paramact.report import Context
from lmanatomy.paramact.validation_report import sts_report, validation_report
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    ctx = Context(
        section=snakemake.params.section,
        model=snakemake.wildcards.model,
        display=snakemake.params.display,
        num_layers=snakemake.params.num_layers,
        gamma=snakemake.params.gamma,
        notes=tuple(snakemake.params.notes),
        figure_note=snakemake.params.note,
    )
    if snakemake.params.kind == "sts":
        lines = sts_report(
            snakemake.input.tables, ctx, snakemake.output, snakemake.params.resamples
        )
    else:
        lines = validation_report(
            snakemake.input.runs,
            snakemake.input.ratios,
            ctx,
            snakemake.params.sparsity,
            snakemake.output,
        )
    for line in lines:
        log.info("%s", line)
