"""Each word's top-k knowledge neurons at the final
checkpoint, their attribution trajectories and layers."""

from lmanatomy.deviations import notes_of
from lmanatomy.knowledge import STUDY
from lmanatomy.knowledge.report import answers_notes, read_json
from lmanatomy.knowledge.trajectories import (
    answer_summary,
    layer_shares,
    pile_up_note,
    word_trajectories,
    write_trajectories,
)
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    p = snakemake.params
    frame = word_trajectories(
        p.shards, p.checkpoints, p.words, p.section["top_k"], p.section["scale"]
    )
    write_trajectories(frame, snakemake.output.trajectories)
    shares = layer_shares(frame, p.n_layers)
    write_table(shares, snakemake.output.layers)
    log.info(pile_up_note(shares))
    answers = answer_summary(p.shards, p.checkpoints, p.words)
    log.info("final checkpoint: accuracy %.3f", answers["accuracy"].iloc[-1])
    write_table(
        answers,
        snakemake.output.answers,
        snakemake.output.answers_md,
        title=(
            f"Answers of {p.display} per checkpoint (greedy answer = target word; mean P(target))"
        ),
        notes=answers_notes(
            p.section,
            notes_of(STUDY, snakemake.config, [snakemake.input.questions_meta]),
            read_json(snakemake.input.questions_meta),
            p.corpus,
        ),
    )
