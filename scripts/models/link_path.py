"""Make a `source: path` folder a prepared model
folder: data/models/<name>/ links + provenance.json."""

from pathlib import Path

from lmanatomy.models import parse_entry
from lmanatomy.models.loading import link_path_model
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    entry = parse_entry(snakemake.wildcards.model, snakemake.params.entry)
    dest = Path(snakemake.output.provenance).parent
    log.info("linking %s into %s (weights hashed into provenance.json)", entry.path, dest)
    link_path_model(entry, dest)
