"""Evaluate the original and/or lesions of one model on every task (llm-jp-eval style), one model
load for all of them (each lesion pruned in memory); keep every prediction."""

import json
from pathlib import Path

from lmanatomy.evaluation import GenerationSettings
from lmanatomy.evaluation.harness import save_predictions
from lmanatomy.evaluation.tasks import load_task
from lmanatomy.lesion import read_plans
from lmanatomy.lesion.sweep import evaluate_lesions
from lmanatomy.runtime import script_context
from lmanatomy.tables import atomic_write_text

with script_context(snakemake) as log:
    params, output = snakemake.params, snakemake.output
    base = Path(snakemake.input.base).parent  # the model folder of its provenance.json
    tasks = {
        name: load_task(path)
        for name, path in zip(params.tasks, snakemake.input.tasks, strict=True)
    }
    settings = GenerationSettings(**params.generation)
    files = dict(
        zip(params.variants, zip(output.predictions, output.scores, strict=True), strict=True)
    )
    lesions = evaluate_lesions(
        base,
        params.variants,
        read_plans(snakemake.input.plans),
        tasks,
        settings,
        params.max_num_samples,
        params.device,
        params.dtype,
    )
    for variant, predictions, summaries, records in lesions:
        for record in records:
            log.info(
                "%s, layer %d: removed heads %s and %d neurons",
                variant,
                record.layer,
                list(record.removed_heads),
                len(record.removed_neurons),
            )
        for summary in summaries:
            log.info("%s: %s", variant, summary)
        predictions_path, scores_path = files[variant]
        save_predictions(predictions, predictions_path)
        result = {
            "variant": variant,
            "model": params.model,
            "generation": settings.to_dict(),
            "tasks": summaries,
        }
        atomic_write_text(scores_path, json.dumps(result, indent=1, sort_keys=True) + "\n")
