"""One task's llm-jp-eval files (train/dev/test + info) from its prepared dataset."""

from lmanatomy.data import read_prepared
from lmanatomy.evaluation.tasks import build_task, save_task, task_spec
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    frame = read_prepared(snakemake.input.data)
    files, info = build_task(task_spec(snakemake.wildcards.task), frame, snakemake.params.num_few_shots)
    info["dataset"] = snakemake.params.dataset
    log.info("%s: %s", snakemake.wildcards.task, {k: v for k, v in info.items() if k.endswith("_samples")})
    save_task(files, info, dict(snakemake.output.items()))
