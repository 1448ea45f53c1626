"""The run's provenance (JSON, Markdown, and HTML for the report), written after every result.

It runs last (its inputs are the run's targets), so every model folder and dataset the run used
exists: their provenance.json / sidecar files are read as they are on disk.
"""

import json
from pathlib import Path

from lmanatomy.provenance import collect, to_markdown
from lmanatomy.report import markdown_page
from lmanatomy.runtime import script_context
from lmanatomy.tables import atomic_write_text

with script_context(snakemake, uses_torch=False) as log:
    models = {
        key: path for key, path in snakemake.params.model_files.items() if Path(path).is_file()
    }
    datasets = {Path(p).stem: p for p in snakemake.params.dataset_files if Path(p).is_file()}
    document = collect(snakemake.config, models, datasets)
    document["registry"] = snakemake.params.registry
    markdown = to_markdown(document)
    atomic_write_text(snakemake.output.json, json.dumps(document, indent=2, sort_keys=True) + "\n")
    atomic_write_text(snakemake.output.md, markdown)
    atomic_write_text(
        snakemake.output.html, markdown_page(markdown, f"Provenance of run {document['run']}")
    )
    log.info("%d model folders, %d datasets", len(models), len(datasets))
