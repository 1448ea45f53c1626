"""Dequantize a GGUF model shipped in a Python package into data/models/<name>/."""

from pathlib import Path

from lmanatomy.models import convert_gguf, parse_entry
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    entry = parse_entry(snakemake.wildcards.model, snakemake.params.entry)
    dest = Path(snakemake.output.provenance).parent
    log.info(
        "converting %s (%s from package %s) into %s", entry.name, entry.file, entry.package, dest
    )
    convert_gguf(entry, dest)
