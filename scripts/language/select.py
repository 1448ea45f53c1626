"""Top-k and bottom-k neurons per language, for the largest k any later step needs."""

import pandas as pd

from lmanatomy.language.selection import select
from lmanatomy.language.steering import usable_ks
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_parquet

with script_context(snakemake, uses_torch=False) as log:
    ranked = pd.read_parquet(snakemake.input.neurons)
    usable, skipped = usable_ks(snakemake.params.ablation_k, len(ranked))
    k_max = max([snakemake.params.k, *usable])
    if skipped:
        log.info("k = %s skipped: 2k exceeds the model's %d neurons", skipped, len(ranked))
    selection = select(ranked, snakemake.params.languages, k_max)
    log.info(
        "selected top/bottom-%d of %d neurons for %s",
        k_max,
        len(ranked),
        snakemake.params.languages,
    )
    write_parquet(selection, snakemake.output.selection)
