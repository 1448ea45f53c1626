"""One task's llm-jp-eval files (train/dev/test + info) from
its prepared dataset, in the config's llm-jp-eval version."""

from lmanatomy.data import read_prepared
from lmanatomy.data.prepare import read_origin
from lmanatomy.evaluation.tasks import build_task, fixed_fewshot_frame, save_task, task_spec
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    task, params = snakemake.wildcards.task, snakemake.params
    frame = read_prepared(snakemake.input.data)
    # The version's fixed few-shots: from the dataset's own train split, else the upstream file
    # (its root's copy, or the one the download rule fetched into data/raw).
    shots = fixed_fewshot_frame(task, params.llm_jp_eval, frame, params.root, download=False)
    files, info = build_task(
        task_spec(task), frame, params.num_few_shots, params.llm_jp_eval, shots
    )
    info["dataset"] = params.dataset
    info["data"] = read_origin(
        snakemake.input.data
    )  # the prepared dataset's provenance: real, subset or demo
    log.info(
        "%s: %s; few-shots: %s",
        task,
        {k: v for k, v in info.items() if k.endswith("_samples")},
        info["fewshot_source"],
    )
    save_task(files, info, dict(snakemake.output.items()))
