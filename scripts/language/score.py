"""Language of every generated text (fastText lid.176)
and BLEU-4 against the target language's texts."""

import pandas as pd

from lmanatomy.language.study import score_texts
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_parquet

with script_context(snakemake) as log:
    setup = snakemake.params.setup
    scored = score_texts(
        pd.read_parquet(snakemake.input.generations),
        snakemake.params.model_path,
        snakemake.input.data,
        setup["languages"],
        setup["lid_threshold"],
        setup["lid_model"],
    )
    log.info(
        "%d texts scored; %d identified as their target language",
        len(scored),
        int(scored["is_target"].sum()),
    )
    write_parquet(scored, snakemake.output.scores)
