"""Evaluate the original or one pruned model on every task (llm-jp-eval style); keep every prediction."""

import json
from pathlib import Path

from lmanatomy.evaluation import GenerationSettings, evaluate
from lmanatomy.evaluation.harness import save_predictions
from lmanatomy.evaluation.tasks import load_task
from lmanatomy.lesion import ORIGINAL, load_pruned
from lmanatomy.models import load_model
from lmanatomy.runtime import script_context
from lmanatomy.tables import atomic_write_text

with script_context(snakemake) as log:
    variant, params = snakemake.wildcards.variant, snakemake.params
    base = Path(snakemake.input.base).parent  # the model folder of its provenance.json
    if variant == ORIGINAL:
        model, tokenizer = load_model(base, params.device, params.dtype)
    else:
        model, tokenizer = load_pruned(Path(snakemake.input.pruned[0]).parent, params.device, params.dtype, base_dir=base)
    tasks = {name: load_task(path) for name, path in zip(params.tasks, snakemake.input.tasks)}
    settings = GenerationSettings(**params.generation)
    predictions, summaries = evaluate(model, tokenizer, tasks, settings, params.max_num_samples)
    for summary in summaries:
        log.info("%s", summary)
    save_predictions(predictions, snakemake.output.predictions)
    result = {"variant": variant, "model": params.model, "generation": settings.to_dict(), "tasks": summaries}
    atomic_write_text(snakemake.output.scores, json.dumps(result, indent=1, sort_keys=True) + "\n")
