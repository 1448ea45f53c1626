"""Table 1 of Harada et al. (2024), the few-shot-repeat
table and the figure of score vs layer range."""

import json

from lmanatomy.deviations import deviation_note, deviation_sentences
from lmanatomy.lesion import STUDY, read_plans
from lmanatomy.lesion.report import (
    baselines,
    fewshot_table,
    figure,
    figure_note,
    table1,
    table1_notes,
    write_table1,
)
from lmanatomy.report import load_paper_values
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    params = snakemake.params
    plans = read_plans(snakemake.input.plans)
    results = [json.loads(open(path, encoding="utf-8").read()) for path in snakemake.input.scores]
    scores = {r["variant"]: r["tasks"] for r in results}
    infos = {
        task: json.loads(open(path, encoding="utf-8").read())
        for task, path in zip(params.tasks, snakemake.input.infos, strict=True)
    }
    original = scores["original"]
    # each task's dataset, as its prepared provenance
    # records it (the task's info carries the origin fact)
    origins = {
        snakemake.config["lesion"]["tasks"][task]["dataset"]: infos[task]["data"]
        for task in params.tasks
    }
    paper = STUDY.paper_values(load_paper_values(snakemake.input.paper_values))
    differs = deviation_sentences(STUDY, snakemake.config, origins)
    lines = table1_notes(plans, original, infos, results[0]["generation"], differs, paper)
    title = f"Table 1: task scores after pruning layer ranges of {params.display}"
    frame, bold = table1(scores, plans, params.tasks)
    write_table1(frame, bold, snakemake.output.csv, snakemake.output.md, title, lines)
    write_table(
        fewshot_table(scores, plans, params.tasks),
        snakemake.output.fewshot_csv,
        snakemake.output.fewshot_md,
        title=f"Share of predictions equal to a few-shot answer ({params.display})",
        notes=[
            "Harada et al. observe that pruned models repeat the few-shot answers; on a label "
            "task that can score by chance."
        ],
        digits=2,
    )
    note = figure_note(original, deviation_note(STUDY, snakemake.config, origins))
    figure(frame, plans, title, note, snakemake.output.figure, baselines(original))
    log.info("table 1:\n%s", frame.to_string())
