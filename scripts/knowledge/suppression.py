"""The suppression test at the final checkpoint: knowledge
neurons vs random neurons of the same layers."""

from pathlib import Path

from lmanatomy.data import read_prepared
from lmanatomy.knowledge.prompts import questions_by_word, word_prompts
from lmanatomy.knowledge.suppression import (
    group_summary,
    suppression_figure,
    suppression_notes,
    suppression_rows,
)
from lmanatomy.knowledge.trajectories import read_trajectories
from lmanatomy.models import load_model
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake) as log:
    p, out = snakemake.params, snakemake.output
    section, test = p.section, p.section["suppression"]
    words = [w for members in section["groups"].values() for w in members]
    prompts = word_prompts(
        questions_by_word(read_prepared(snakemake.input.questions)),
        words,
        section["template"],
        section["leading_space"],
        section["prompts_per_word"],
    )
    model, tokenizer = load_model(
        Path(snakemake.input.model).parent, device=p.device, dtype=p.dtype
    )
    rows = suppression_rows(
        model,
        tokenizer,
        read_trajectories(snakemake.input.trajectories),
        {w: prompts[w].prompts for w in words},
        {w: prompts[w].target for w in words},
        section["groups"],
        section["site"],
        p.ff_width,
        test["random_draws"],
        test["seed"],
    )
    summary = group_summary(rows, test["resamples"], test["seed"])
    notes = suppression_notes(summary, section["top_k"], test["random_draws"], p.checkpoint)
    log.info("%s", notes[1])
    title = f"Suppressing knowledge neurons — {p.display}"
    write_table(rows, out.csv)
    write_table(summary, None, out.md, title=title, notes=notes, digits=4)
    suppression_figure(summary, title, out.png, notes[1])
