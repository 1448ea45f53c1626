"""Evaluate a model on llm-jp-eval task files: prompts → generations → predictions → scores.

Besides the task metrics, every result reports how often the model just repeats a few-shot
answer (any of them, and the last one shown): Harada et al. observed that lesioned models fall
back on copying the few-shot answers, which can score by chance on a label task.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.evaluation.generation import GenerationSettings, PromptPass, generate
from lmanatomy.evaluation.prompts import render_prompt
from lmanatomy.evaluation.scoring import (
    bootstrap_interval,
    constant_answers,
    fewshot_repeat_baseline,
    majority_answer,
    majority_baseline,
    normalize,
    parse_float,
    postprocess,
    score,
    undefined_correlation,
)
from lmanatomy.evaluation.tasks import TASKS, check_task_file
from lmanatomy.evaluation.versions import V1_1
from lmanatomy.io import atomic_path

PREDICTION_COLUMNS = (
    "task",
    "sample",
    "input",
    "gold",
    "output",
    "prediction",
    "correct",
    "parsed",
    "fewshot_answer",
)


def evaluate_task(
    model: Any,
    tokenizer: Any,
    name: str,
    data: Mapping[str, Any],
    settings: GenerationSettings = GenerationSettings(),
    max_num_samples: int | None = None,
    language: str | None = None,
    prompt_pass: PromptPass | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Predictions (one row per sample) and a summary
    (metrics, sample count, few-shot repeats) of one task.

    ``prompt_pass``: the generation hook around each prompt pass (``generation.generate``)."""
    check_task_file(data, f"task '{name}'")
    language = language or (TASKS[name].language if name in TASKS else "ja")
    samples = list(data["samples"])[: max_num_samples if max_num_samples is not None else None]
    if not samples:
        raise ValueError(f"task '{name}': no samples to evaluate")
    few_shots = list(data["few_shots"])
    llm_jp_eval = str(
        data.get("llm_jp_eval", V1_1)
    )  # task files written before versions existed are v1.1's
    prompts = [
        render_prompt(data["instruction"], few_shots, s["input"], language, llm_jp_eval)
        for s in samples
    ]
    max_new_tokens = (
        settings.max_new_tokens
        if settings.max_new_tokens is not None
        else int(data["output_length"])
    )
    outputs = generate(
        model, tokenizer, prompts, max_new_tokens, settings, progress=name, prompt_pass=prompt_pass
    )
    predictions = [postprocess(o) for o in outputs]
    golds = [normalize(str(s["output"])) for s in samples]
    shot_answers = [normalize(str(s["output"])) for s in few_shots]
    numeric = any(m in ("pearson", "spearman") for m in data["metrics"])
    frame = pd.DataFrame(
        {
            "task": name,
            "sample": np.arange(len(samples), dtype=np.int64),
            "input": [s["input"] for s in samples],
            "gold": golds,
            "output": outputs,
            "prediction": predictions,
            "correct": [p == g for p, g in zip(predictions, golds, strict=True)],
            "parsed": [parse_float(p) if numeric else math.nan for p in predictions],
            "fewshot_answer": [p in shot_answers for p in predictions],
        },
        columns=list(PREDICTION_COLUMNS),
    )
    metrics = list(data["metrics"])
    summary: dict[str, Any] = {
        "task": name,
        "llm_jp_eval": llm_jp_eval,
        "samples": len(samples),
        "num_few_shots": len(few_shots),
        "max_new_tokens": max_new_tokens,
        **score(metrics, outputs, golds),
        **_uncertainty(metrics, outputs, golds, shot_answers),
        "fewshot_answer_share": float(frame["fewshot_answer"].mean()),
        "last_fewshot_answer_share": float(np.mean([p == shot_answers[-1] for p in predictions]))
        if shot_answers
        else 0.0,
    }
    return frame, summary


def _uncertainty(
    metrics: list[str], outputs: list[str], golds: list[str], shot_answers: list[str]
) -> dict[str, Any]:
    """Per metric: 95% bootstrap interval, whether a correlation is undefined,
    and two baselines on the same samples with their 95% intervals: the
    constant majority answer and the repeated last few-shot answer."""
    out: dict[str, Any] = {}
    for metric in metrics:
        out[f"{metric}_ci95"] = _interval(metric, outputs, golds)
        out[f"{metric}_undefined"] = metric != "exact_match" and undefined_correlation(
            outputs, golds
        )
        out[f"{metric}_baseline"] = majority_baseline(metric, golds)
        out[f"{metric}_baseline_ci95"] = _constant_interval(metric, majority_answer(golds), golds)
        if shot_answers:
            answer, value = fewshot_repeat_baseline(metric, golds, shot_answers)
            out[f"{metric}_fewshot_baseline"] = value
            out[f"{metric}_fewshot_baseline_ci95"] = _constant_interval(metric, answer, golds)
            out["fewshot_baseline_answer"] = answer
    return out


def _constant_interval(metric: str, answer: str, golds: list[str]) -> list[float]:
    """The 95% interval of a constant answer; a correlation of
    constant predictions is undefined, 0 in every resample."""
    if metric != "exact_match":
        return [0.0, 0.0]
    return _interval(metric, constant_answers(metric, golds, answer), golds)


def _interval(metric: str, predictions: list[str], golds: list[str]) -> list[float]:
    """The 95% bootstrap interval, NaN for a single sample."""
    low, high = (
        bootstrap_interval(metric, predictions, golds) if len(golds) > 1 else (math.nan, math.nan)
    )
    return [low, high]


def evaluate(
    model: Any,
    tokenizer: Any,
    tasks: Mapping[str, Mapping[str, Any]],
    settings: GenerationSettings = GenerationSettings(),
    max_num_samples: int | Mapping[str, int] | None = None,
    prompt_pass: PromptPass | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every task in ``tasks`` (name → test file content), in the given order.

    ``max_num_samples``: one cap for all tasks, or task → cap.
    """
    frames, summaries = [], []
    for name, data in tasks.items():
        cap = max_num_samples.get(name) if isinstance(max_num_samples, Mapping) else max_num_samples
        frame, summary = evaluate_task(
            model, tokenizer, name, data, settings, cap, prompt_pass=prompt_pass
        )
        frames.append(frame)
        summaries.append(summary)
    return pd.concat(frames, ignore_index=True), summaries


def save_predictions(frame: pd.DataFrame, path: str | Path) -> None:
    """Predictions as Parquet (zstd), written to a temporary name and renamed."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, compression="zstd")
