"""Figs 1, 2, 3 and 6 of Wang, Dai & Sui 2024, their
tables, and the findings check, for one model."""

from lmanatomy.paramact.report import Context, read_gamma, write_report
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    gamma, gamma_line = read_gamma(snakemake.input.gamma)
    ctx = Context(
        section=snakemake.params.section,
        model=snakemake.wildcards.model,
        display=snakemake.params.display,
        num_layers=snakemake.params.num_layers,
        gamma=gamma,
        notes=(gamma_line, *snakemake.params.notes),
        figure_note=f"{gamma_line} {snakemake.params.note}",
    )
    lines = write_report(
        snakemake.input.density,
        snakemake.input.pairs,
        snakemake.input.samples,
        ctx,
        snakemake.output,
        snakemake.input.by_d,
    )
    for line in lines:
        log.info("%s", line)
