"""Download a pinned Hugging Face revision (safetensors only) into
data/models/<name>[/<checkpoint>]/."""

from pathlib import Path

from lmanatomy.models import fetch_hf, parse_entry
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    entry = parse_entry(snakemake.wildcards.model, snakemake.params.entry)
    checkpoint = snakemake.wildcards.get("checkpoint")
    dest = Path(snakemake.output.provenance).parent
    log.info("fetching %s@%s into %s", entry.repo, checkpoint or entry.revision, dest)
    fetch_hf(entry, dest, revision=checkpoint)
