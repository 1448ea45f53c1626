"""Tasks in llm-jp-eval's dataset format, built from prepared datasets.

A task file is ``{instruction, output_length, metrics, few_shots, samples: [{input, output}]}``,
one per split (train, dev, test), as llm-jp-eval v1.1's preprocessing writes them:

* test = the upstream evaluation split (JGLUE valid), in file order;
* train/dev = the upstream train split shuffled with Python's ``random.seed(42)``, first 90% train,
  the rest dev;
* few-shots = the first ``num_few_shots`` train samples (stored in every split's ``few_shots``).

When the source has no train split (the real-data folder lacks JNLI train; BoolQ has only val),
the few-shots come from a held-out part of the evaluation split: its LAST
``max(n // 10, 2 * num_few_shots)`` rows go through the train shuffle and split above, and the
test set keeps the first rows in file order, so the evaluated samples (the first
``max_num_samples``) are the same ones a full-data run evaluates. The task's info says so.

The three JGLUE tasks (instructions, input formats, output lengths) are llm-jp-eval v1.1's. The
English tasks (BoolQ, MMLU) are the project's own, written in the same style for the default
run, whose English model cannot do the Japanese ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from lmanatomy.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

Row = Mapping[str, Any]
SEED = 42
TRAIN_FRACTION = 0.9
KEYS = ("instruction", "output_length", "metrics", "few_shots", "samples")


def _boolq_answer(label: Any) -> str:
    text = str(label).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise DataError(f"boolq label {label!r} is not true/false")
    return "yes" if text in ("true", "1") else "no"


@dataclass(frozen=True)
class TaskSpec:
    """One task: how a prepared dataset's rows become llm-jp-eval samples."""

    name: str
    display: str
    format: str
    language: str
    instruction: str
    output_length: int
    metrics: tuple[str, ...]
    render: Callable[[Row], tuple[str, str]]
    test_splits: tuple[str, ...]
    train_splits: tuple[str, ...]
    shuffle_test: bool = False
    origin: str = "llm-jp-eval v1.1"
    notes: tuple[str, ...] = field(default=())

    @property
    def main_metric(self) -> str:
        return self.metrics[0]


TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in [
        TaskSpec(
            "jnli", "JNLI", "jnli", "ja",
            "前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。"
            "\n\n制約：\n- 前提から仮説が、論理的知識や常識的知識を用いて導出可能である場合はentailmentと出力\n"
            "- 前提と仮説が両立しえない場合はcontradictionと出力\n- そのいずれでもない場合はneutralと出力",
            3, ("exact_match",),
            lambda r: (f"前提：{r['sentence1']}\n仮説：{r['sentence2']}", str(r["label"])),
            ("valid",), ("train",),
        ),
        TaskSpec(
            "jsts", "JSTS", "jsts", "ja",
            "日本語の文ペアの意味がどのくらい近いかを判定し、類似度を0.0〜5.0までの間の値で付与してください。"
            "0.0に近いほど文ペアの意味が異なり、5.0に近いほど文ペアの意味が似ていることを表しています。"
            "整数値のみを返し、それ以外には何も含めないことを厳守してください。",
            3, ("pearson", "spearman"),
            lambda r: (f"文1：{r['sentence1']}\n文2：{r['sentence2']}", str(float(r["label"]))),
            ("valid",), ("train",),
        ),
        TaskSpec(
            "jcommonsenseqa", "JCommonsenseQA", "jcommonsenseqa", "ja",
            "質問と回答の選択肢を入力として受け取り、選択肢から回答を選択してください。なお、回答は選択肢の番号（例：0）でするものとします。 "
            "回答となる数値をint型で返し、他には何も含めないことを厳守してください。",
            1, ("exact_match",),
            lambda r: (
                f"質問：{r['question']}\n選択肢：" + ",".join(f"{i}.{r[f'choice{i}']}" for i in range(5)),
                str(int(r["label"])),
            ),
            ("valid",), ("train",),
        ),
        TaskSpec(
            "boolq", "BoolQ", "boolq", "en",
            "Read the passage and answer the question with yes or no. Answer with yes or no only and include nothing else.",
            3, ("exact_match",),
            lambda r: (f"Passage: {r['passage']}\nQuestion: {r['question']}?", _boolq_answer(r["label"])),
            ("val",), ("train",),
            origin="lm-anatomy (English demo task)",
        ),
        TaskSpec(
            "mmlu", "MMLU", "mmlu", "en",
            "Answer the multiple-choice question with the letter of the correct choice (A, B, C or D). "
            "Return the letter only and include nothing else.",
            1, ("exact_match",),
            lambda r: (f"Question: {r['question']}\nChoices: " + ",".join(f"{c}.{r[c]}" for c in "ABCD"), str(r["label"]).strip()),
            ("test",), ("dev",),
            shuffle_test=True,
            origin="lm-anatomy (English demo task)",
            notes=("test rows shuffled (seed 42) before capping, so a small cap spans the subjects",),
        ),
    ]
}


def task_spec(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise DataError(f"unknown task '{name}' (known: {', '.join(sorted(TASKS))})") from None


def _samples(spec: TaskSpec, frame: pd.DataFrame) -> list[dict[str, str]]:
    out = []
    for row in frame.to_dict("records"):
        text, answer = spec.render(row)
        out.append({"input": text, "output": answer})
    return out


def _shuffled(samples: list[dict[str, str]]) -> list[dict[str, str]]:
    """llm-jp-eval's train shuffle: ``random.seed(42); random.shuffle(samples)``."""
    samples = list(samples)
    random.Random(SEED).shuffle(samples)
    return samples


def build_task(spec: TaskSpec, frame: pd.DataFrame, num_few_shots: int = 4) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The task's train/dev/test files (llm-jp-eval format) and an info record, from a prepared dataset.

    ``frame`` has the prepared dataset's columns (``split`` names the upstream split) in upstream
    file order.
    """
    if "split" not in frame.columns:
        raise DataError(f"task '{spec.name}': the dataset has no 'split' column")
    if num_few_shots < 0:
        raise DataError(f"task '{spec.name}': num_few_shots must be >= 0, got {num_few_shots}")
    test = _samples(spec, frame[frame["split"].isin(spec.test_splits)])
    train_source = _samples(spec, frame[frame["split"].isin(spec.train_splits)])
    info: dict[str, Any] = {"task": spec.name, "origin": spec.origin, "language": spec.language, "notes": list(spec.notes)}
    if not test:
        raise DataError(f"task '{spec.name}': the dataset has no rows in split(s) {list(spec.test_splits)}")
    if train_source:
        info["fewshot_source"] = f"upstream split(s) {'/'.join(spec.train_splits)}"
    else:
        held = max(len(test) // 10, 2 * num_few_shots)
        if held >= len(test):
            raise DataError(f"task '{spec.name}': no train split, and {len(test)} test rows are too few to hold out {held}")
        train_source, test = test[len(test) - held :], test[: len(test) - held]
        info["fewshot_source"] = (
            f"held out from {'/'.join(spec.test_splits)} (last {held} rows; the dataset has no "
            f"{'/'.join(spec.train_splits)} split)"
        )
        info["notes"].append(f"few-shots from a held-out part of {'/'.join(spec.test_splits)}: no train split in the data")
    if spec.shuffle_test:
        test = _shuffled(test)
    shuffled = _shuffled(train_source)
    cut = int(len(shuffled) * TRAIN_FRACTION)
    splits = {"train": shuffled[:cut], "dev": shuffled[cut:], "test": test}
    if len(splits["train"]) < num_few_shots:
        raise DataError(f"task '{spec.name}': {len(splits['train'])} train samples, fewer than num_few_shots={num_few_shots}")
    few_shots = splits["train"][:num_few_shots]
    files = {
        split: {
            "instruction": spec.instruction,
            "output_length": spec.output_length,
            "metrics": list(spec.metrics),
            "few_shots": few_shots,
            "samples": samples,
        }
        for split, samples in splits.items()
    }
    info.update({f"{split}_samples": len(samples) for split, samples in splits.items()})
    info["num_few_shots"] = num_few_shots
    return files, info


def check_task_file(data: Mapping[str, Any], where: str) -> None:
    """A task file must have llm-jp-eval's keys and samples with input and output."""
    missing = [k for k in KEYS if k not in data]
    if missing:
        raise DataError(f"{where}: not an llm-jp-eval task file (missing keys {missing})")
    for i, sample in enumerate(list(data["samples"]) + list(data["few_shots"])):
        if not isinstance(sample, Mapping) or "input" not in sample or "output" not in sample:
            raise DataError(f"{where}: sample {i} lacks 'input' or 'output'")


def save_task(files: Mapping[str, Mapping[str, Any]], info: Mapping[str, Any], paths: Mapping[str, str]) -> None:
    """Write each split's file and the info record (``paths``: split or ``info`` → path), atomically."""
    import json

    from lmanatomy.tables import atomic_write_text

    for key, content in [*files.items(), ("info", info)]:
        atomic_write_text(paths[key], json.dumps(content, ensure_ascii=False, indent=1) + "\n")


def load_task(path: str) -> dict[str, Any]:
    """One llm-jp-eval task file, checked."""
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read task file ({exc})") from None
    check_task_file(data, str(path))
    return data
