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

A version of llm-jp-eval (``versions``) may replace an instruction and fix the few-shots of a
task (the late-2023 version does both): then the few-shots are those upstream rows, looked up in
the dataset's own train split or, where the dataset lacks it, in ``fewshot_frame`` (the upstream
train file, read by ``fixed_fewshot_frame``). Each task file records its version.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmanatomy.errors import DataError
from lmanatomy.evaluation.versions import V1_1, Version, fixed_fewshot_file, version

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
            "jnli",
            "JNLI",
            "jnli",
            "ja",
            "前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。"
            "\n\n制約：\n- 前提から仮説が、"
            "論理的知識や常識的知識を用いて導出可能である場合はentailmentと出力\n"
            "- 前提と仮説が両立しえない場合はcontradictionと出力\n"
            "- そのいずれでもない場合はneutralと出力",
            3,
            ("exact_match",),
            lambda r: (f"前提：{r['sentence1']}\n仮説：{r['sentence2']}", str(r["label"])),
            ("valid",),
            ("train",),
        ),
        TaskSpec(
            "jsts",
            "JSTS",
            "jsts",
            "ja",
            "日本語の文ペアの意味がどのくらい近いかを判定し、類似度を0.0〜5.0までの間の値で付与してください。"
            "0.0に近いほど文ペアの意味が異なり、5.0に近いほど文ペアの意味が似ていることを表しています。"
            "整数値のみを返し、それ以外には何も含めないことを厳守してください。",
            3,
            ("pearson", "spearman"),
            lambda r: (f"文1：{r['sentence1']}\n文2：{r['sentence2']}", str(float(r["label"]))),
            ("valid",),
            ("train",),
        ),
        TaskSpec(
            "jcommonsenseqa",
            "JCommonsenseQA",
            "jcommonsenseqa",
            "ja",
            "質問と回答の選択肢を入力として受け取り、選択肢から回答を選択してください。"
            "なお、回答は選択肢の番号（例：0）でするものとします。 "
            "回答となる数値をint型で返し、他には何も含めないことを厳守してください。",
            1,
            ("exact_match",),
            lambda r: (
                f"質問：{r['question']}\n選択肢："
                + ",".join(f"{i}.{r[f'choice{i}']}" for i in range(5)),
                str(int(r["label"])),
            ),
            ("valid",),
            ("train",),
        ),
        TaskSpec(
            "boolq",
            "BoolQ",
            "boolq",
            "en",
            "Read the passage and answer the question with yes or no. Answer with yes or no only "
            "and include nothing else.",
            3,
            ("exact_match",),
            lambda r: (
                f"Passage: {r['passage']}\nQuestion: {r['question']}?",
                _boolq_answer(r["label"]),
            ),
            ("val",),
            ("train",),
            origin="lm-anatomy (English task in the llm-jp-eval format)",
        ),
        TaskSpec(
            "mmlu",
            "MMLU",
            "mmlu",
            "en",
            "Answer the multiple-choice question with the letter of the correct choice (A, B, C "
            "or D). Return the letter only and include nothing else.",
            1,
            ("exact_match",),
            lambda r: (
                f"Question: {r['question']}\nChoices: " + ",".join(f"{c}.{r[c]}" for c in "ABCD"),
                str(r["label"]).strip(),
            ),
            ("test",),
            ("dev",),
            shuffle_test=True,
            origin="lm-anatomy (English task in the llm-jp-eval format)",
            notes=(
                "test rows shuffled (seed 42) before capping, so a small cap spans the subjects",
            ),
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


def _fixed_few_shots(
    spec: TaskSpec,
    ver: Version,
    frame: pd.DataFrame,
    fewshot_frame: pd.DataFrame | None,
    num_few_shots: int,
) -> tuple[list[dict[str, str]], str]:
    """The version's fixed few-shots of ``spec`` (the
    first ``num_few_shots``) and where they were read."""
    fixed = ver.fixed_few_shots[spec.name]
    if num_few_shots == 0:
        return [], "none (0-shot)"
    if num_few_shots > len(fixed.rows):
        raise DataError(
            f"task '{spec.name}': llm-jp-eval {ver.name} fixes {len(fixed.rows)} few-shots, "
            f"num_few_shots={num_few_shots}"
        )
    pool, where = frame[frame["split"] == fixed.split], "the dataset's own split"
    if pool.empty and fewshot_frame is not None:
        pool, where = (
            fewshot_frame[fewshot_frame["split"] == fixed.split],
            str(fewshot_frame.attrs.get("source", "the upstream file")),
        )
    if pool.empty:
        raise DataError(
            f"task '{spec.name}': llm-jp-eval {ver.name} fixes its few-shots as rows of the "
            f"upstream {fixed.split} split, which this dataset lacks (fetch it with "
            "fixed_fewshot_frame)"
        )
    index = {
        tuple(str(v) for v in key): i
        for i, key in enumerate(pool[list(fixed.key)].itertuples(index=False, name=None))
    }
    shots = []
    for key in fixed.rows[:num_few_shots]:
        if key not in index:
            raise DataError(
                f"task '{spec.name}': few-shot row {dict(zip(fixed.key, key, strict=True))} "
                f"of llm-jp-eval {ver.name} is not in {where}"
            )
        row = pool.iloc[index[key]].to_dict()
        text, answer = spec.render(row)
        shots.append(
            {
                "input": text,
                "output": fixed.label_text(row["label"]) if fixed.label_text else answer,
            }
        )
    return shots, (
        f"fixed by llm-jp-eval {ver.name}: upstream {fixed.split} rows "
        f"{[k[0] if len(k) == 1 else list(k) for k in fixed.rows[:num_few_shots]]}, read from "
        f"{where}"
    )


def build_task(
    spec: TaskSpec,
    frame: pd.DataFrame,
    num_few_shots: int = 4,
    llm_jp_eval: str = V1_1,
    fewshot_frame: pd.DataFrame | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The task's train/dev/test files (llm-jp-eval
    format) and an info record, from a prepared dataset.

    ``frame`` has the prepared dataset's columns (``split`` names the upstream split) in upstream
    file order. ``llm_jp_eval``: the version whose instruction and few-shots the files carry.
    """
    if "split" not in frame.columns:
        raise DataError(f"task '{spec.name}': the dataset has no 'split' column")
    if num_few_shots < 0:
        raise DataError(f"task '{spec.name}': num_few_shots must be >= 0, got {num_few_shots}")
    ver = version(llm_jp_eval)
    fixed = spec.name in ver.fixed_few_shots
    test = _samples(spec, frame[frame["split"].isin(spec.test_splits)])
    train_source = _samples(spec, frame[frame["split"].isin(spec.train_splits)])
    info: dict[str, Any] = {
        "task": spec.name,
        "origin": spec.origin,
        "language": spec.language,
        "notes": list(spec.notes),
        "llm_jp_eval": ver.name,
    }
    if not test:
        raise DataError(
            f"task '{spec.name}': the dataset has no rows in split(s) {list(spec.test_splits)}"
        )
    if train_source or fixed:
        info["fewshot_source"] = f"upstream split(s) {'/'.join(spec.train_splits)}"
    else:
        held = max(len(test) // 10, 2 * num_few_shots)
        if held >= len(test):
            raise DataError(
                f"task '{spec.name}': no train split, and {len(test)} test rows are too few to "
                f"hold out {held}"
            )
        train_source, test = test[len(test) - held :], test[: len(test) - held]
        info["fewshot_source"] = (
            f"held out from {'/'.join(spec.test_splits)} (last {held} rows; the dataset has no "
            f"{'/'.join(spec.train_splits)} split)"
        )
        info["notes"].append(
            f"few-shots from a held-out part of {'/'.join(spec.test_splits)}: no train split in "
            "the data"
        )
    if spec.shuffle_test:
        test = _shuffled(test)
    shuffled = _shuffled(train_source)
    cut = int(len(shuffled) * TRAIN_FRACTION)
    splits = {"train": shuffled[:cut], "dev": shuffled[cut:], "test": test}
    if fixed:
        few_shots, info["fewshot_source"] = _fixed_few_shots(
            spec, ver, frame, fewshot_frame, num_few_shots
        )
    elif len(splits["train"]) < num_few_shots:
        raise DataError(
            f"task '{spec.name}': {len(splits['train'])} train samples, fewer than "
            f"num_few_shots={num_few_shots}"
        )
    else:
        few_shots = splits["train"][:num_few_shots]
    files = {
        split: {
            "instruction": ver.instructions.get(spec.name, spec.instruction),
            "output_length": spec.output_length,
            "metrics": list(spec.metrics),
            "few_shots": few_shots,
            "samples": samples,
            "llm_jp_eval": ver.name,
        }
        for split, samples in splits.items()
    }
    info.update({f"{split}_samples": len(samples) for split, samples in splits.items()})
    info["num_few_shots"] = num_few_shots
    return files, info


def fixed_fewshot_frame(
    task: str, llm_jp_eval: str, frame: pd.DataFrame, root: str | None, download: bool = True
) -> pd.DataFrame | None:
    """The upstream split holding a version's fixed few-shots of ``task``, when ``frame`` lacks it.

    Read from ``root`` when it holds the file, else from the download folder (``data/raw``),
    downloading it there from its pinned URL (git blob id checked, sha256 recorded on first
    download) if ``download``. None when the version fixes no few-shots for the task or the
    dataset has the split itself.
    """
    from pathlib import Path

    from lmanatomy.data import load
    from lmanatomy.data.layout import RAW_ROOT

    ver = version(llm_jp_eval)
    if task not in ver.fixed_few_shots or ver.fixed_few_shots[task].split in set(frame["split"]):
        return None
    spec, split = task_spec(task), ver.fixed_few_shots[task].split
    rel = fixed_fewshot_file(task, llm_jp_eval)
    for folder in ([Path(root)] if root else []) + [Path(RAW_ROOT)]:
        if (folder / rel).is_file():
            frame = load(spec.format, folder, splits=[split])
            frame.attrs["source"] = str(folder / rel)
            return frame
    if not download:
        raise DataError(
            f"task '{task}': {rel} is in neither {root or '-'} nor {RAW_ROOT}; llm-jp-eval "
            f"{ver.name}'s few-shots need it"
        )
    from lmanatomy.data.download import fetch

    try:
        fetch(rel, RAW_ROOT)
    except Exception as exc:  # no network, or a hash mismatch: say which file and why
        raise DataError(
            f"task '{task}': llm-jp-eval {ver.name}'s few-shots need {rel}, which could not be "
            f"fetched ({exc})"
        ) from None
    return fixed_fewshot_frame(task, llm_jp_eval, frame, root, download=False)


def check_task_file(data: Mapping[str, Any], where: str) -> None:
    """A task file must have llm-jp-eval's keys and samples with input and output."""
    missing = [k for k in KEYS if k not in data]
    if missing:
        raise DataError(f"{where}: not an llm-jp-eval task file (missing keys {missing})")
    for i, sample in enumerate(list(data["samples"]) + list(data["few_shots"])):
        if not isinstance(sample, Mapping) or "input" not in sample or "output" not in sample:
            raise DataError(f"{where}: sample {i} lacks 'input' or 'output'")


def save_task(
    files: Mapping[str, Mapping[str, Any]], info: Mapping[str, Any], paths: Mapping[str, str]
) -> None:
    """Write each split's file and the info record
    (``paths``: split or ``info`` → path), atomically."""
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
