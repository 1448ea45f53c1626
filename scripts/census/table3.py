"""Table 3 of Kojima et al. 2024: layers and neurons per model, from architecture facts alone."""

from lmanatomy.models import census_table, parse_entry
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake) as log:
    entries = [parse_entry(name, raw) for name, raw in snakemake.params.entries.items()]
    verified = dict(zip(snakemake.params.verified, snakemake.params.verified_paths, strict=True))
    table = census_table(entries, verified)
    log.info("census of %d models", len(table))
    write_table(
        table,
        snakemake.output.csv,
        snakemake.output.md,
        title="Table 3: layers and neurons per model",
        notes=[
            "A neuron is one output channel of one linear map inside a decoder layer (embedding "
            "and lm_head excluded).",
            "Counted from architecture facts on the meta device; rows marked "
            "checked_against_weights were also verified on the real weights.",
        ],
    )
