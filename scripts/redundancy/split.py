"""The seeded train/test sample of distinct sentences (Baba & Kano: 800 / 200 of JSTS sentence1)."""

import pandas as pd

from lmanatomy.redundancy.pairs import choose_sentences, describe_split
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    frame = pd.read_parquet(snakemake.input.data, columns=["id", "text"])
    split = choose_sentences(
        frame, snakemake.params.train, snakemake.params.test, snakemake.params.seed
    )
    log.info(
        "%d rows, %d distinct texts; chose %s",
        len(frame),
        frame["text"].nunique(),
        describe_split(split),
    )
    write_table(split, snakemake.output[0])
