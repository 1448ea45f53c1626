"""One report item: a study's Markdown table as a standalone HTML page."""

from lmanatomy.report import render_table_page
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    render_table_page(snakemake.input.md, snakemake.output.html, snakemake.params.title)
    log.info("rendered %s -> %s", snakemake.input.md, snakemake.output.html)
