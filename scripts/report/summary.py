"""results/<run>/summary.md: each reproduced table next to the paper's numbers (and as HTML)."""

from pathlib import Path

from lmanatomy.deviations import recorded_origins, study_deviations
from lmanatomy.report import load_paper_values, markdown_page, summarize
from lmanatomy.runtime import script_context
from lmanatomy.study import studies_by_name
from lmanatomy.tables import atomic_write_text

with script_context(snakemake, uses_torch=False) as log:
    origins, studies = recorded_origins(snakemake.input.data), studies_by_name()
    text = summarize(
        Path(snakemake.output.md).parent,  # results/<run>/
        snakemake.config["run"],
        snakemake.params.studies,
        load_paper_values(snakemake.input.paper_values),
        snakemake.params.models,
        snakemake.params.displays,
        {
            name: study_deviations(studies[name], snakemake.config, origins)
            for name in snakemake.params.studies
        },
    )
    atomic_write_text(snakemake.output.md, text)
    atomic_write_text(
        snakemake.output.html, markdown_page(text, f"Summary of run {snakemake.config['run']}")
    )
    log.info("summary of %d studies", len(snakemake.params.studies))
