"""One evaluated prompt of a lesion config, exactly
as the evaluator sends it (``lmanatomy prompt``).

The same steps as the workflow's ``lesion_task`` and ``lesion_evaluate`` jobs: prepare the task's
dataset as its config says (data root, sampling), build the llm-jp-eval task files with the
config's version and few-shot count, render test sample ``index`` with that version's layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lmanatomy.errors import ConfigError


def read_config(path: str | Path) -> dict[str, Any]:
    """A config file, validated and with its defaults
    filled in (paths relative to the project root)."""
    import yaml

    from lmanatomy.config import validate_config

    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    validate_config(config, Path("workflow") / "schemas")
    return config


def sample_prompt(
    config: dict[str, Any], task: str, index: int, data_root: str | None = None
) -> dict[str, Any]:
    """``{"prompt", "gold", "few_shots", "llm_jp_eval"}`` of test sample ``index`` of ``task``."""
    from lmanatomy.data.layout import dataset_root
    from lmanatomy.data.prepare import prepare
    from lmanatomy.evaluation.prompts import render_prompt
    from lmanatomy.evaluation.tasks import build_task, fixed_fewshot_frame, task_spec

    section = config.get("lesion")
    if not section:
        raise ConfigError("lesion", "this config has no lesion section")
    if task not in section["tasks"]:
        raise ConfigError(
            f"lesion.tasks.{task}",
            f"not a task of this config (tasks: {', '.join(section['tasks'])})",
        )
    settings = section["tasks"][task]
    name = settings["dataset"]
    root = data_root if data_root is not None else dataset_root(config, name)
    frame = prepare(config["datasets"][name], root, name=name)
    version = section["llm_jp_eval"]
    files, _ = build_task(
        task_spec(task),
        frame,
        settings.get("num_few_shots", section["num_few_shots"]),
        version,
        fixed_fewshot_frame(task, version, frame, root),
    )
    test = files["test"]
    cap = min(len(test["samples"]), settings.get("max_num_samples", section["max_num_samples"]))
    if not 0 <= index < cap:
        raise ConfigError(
            "INDEX", f"{task} evaluates test samples 0..{cap - 1} under this config, not {index}"
        )
    sample = test["samples"][index]
    prompt = render_prompt(
        test["instruction"], test["few_shots"], sample["input"], task_spec(task).language, version
    )
    return {
        "prompt": prompt,
        "gold": sample["output"],
        "few_shots": test["few_shots"],
        "llm_jp_eval": version,
    }
