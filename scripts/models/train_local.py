"""Train a `local` registry model and save its checkpoints into data/models/<name>/<checkpoint>/."""

from pathlib import Path

from lmanatomy.models import parse_entry
from lmanatomy.models.corpora import corpus_for
from lmanatomy.models.local import train_local
from lmanatomy.runtime import script_context

with script_context(snakemake, seed=0) as log:
    entry = parse_entry(snakemake.params.model, snakemake.params.entry)
    lines, required = corpus_for(entry)
    log.info(
        "model %s: %d corpus lines, %d checkpoints", entry.name, len(lines), len(entry.checkpoints)
    )
    train_local(
        entry,
        lines,
        Path(snakemake.output.provenance[0]).parent.parent,
        required_tokens=required,
        log=log.info,
    )
