"""One table of the run as an HTML page for the report (the study's own Markdown, rendered)."""

from pathlib import Path

from lmanatomy.report import markdown_page
from lmanatomy.runtime import script_context
from lmanatomy.tables import atomic_write_text

with script_context(snakemake, uses_torch=False) as log:
    markdown = Path(snakemake.input.md).read_text(encoding="utf-8")
    atomic_write_text(snakemake.output.html, markdown_page(markdown, snakemake.params.title))
    log.info("rendered %s", snakemake.input.md)
