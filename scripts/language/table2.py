"""Table 2: probability (%) of the target language in generated text, before and under intervention.

Also the share of generated texts with U+FFFD per condition (replacement.csv / .md) and its cause.
"""

import pandas as pd

from lmanatomy.language.report import (
    replacement_shares,
    start_description,
    table2,
    table2_display,
    table2_notes,
)
from lmanatomy.language.study import load_texts, notes
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    setups = snakemake.params.setups
    first = setups[0]
    scored = {
        s["display"]: pd.read_parquet(path)
        for s, path in zip(setups, snakemake.input.scores, strict=True)
    }
    table = table2(scored, first["languages"], first["k"])
    starts = "; ".join(
        f"{model}: {start_description(frame, first['start'])}" for model, frame in scored.items()
    )
    lids = "; ".join(
        sorted({str(v) for frame in scored.values() for v in frame["lid_model"].unique()})
    )
    run_notes = table2_notes(first, starts, lids) + notes(first, load_texts(snakemake.input.data))
    title = "Table 2: probability (%) of the target language in generated text"
    write_table(table, snakemake.output.csv)
    write_table(table2_display(table), None, snakemake.output.md, title=title, notes=run_notes)
    shares = pd.concat(
        [replacement_shares(frame).assign(model=model) for model, frame in scored.items()],
        ignore_index=True,
    )
    write_table(
        shares[["model", *[c for c in shares.columns if c != "model"]]],
        snakemake.output.replacement_csv,
        snakemake.output.replacement_md,
        title="Generated texts containing U+FFFD, per condition (%, 95% Wilson interval)",
        notes=[
            "Texts are decoded as whole sequences (all new tokens in one decode), so a character "
            "split over tokens is joined first.",
            "cut_at_budget: only a trailing U+FFFD in a text that reached the token budget (its "
            "last character's bytes were cut); model_bytes: U+FFFD elsewhere or before EOS (the "
            "model drew bytes that are not valid UTF-8).",
        ],
        digits=1,
    )
