"""Versions of llm-jp-eval: prompt layout, instructions and few-shots, each named by its evidence.

llm-jp-eval changed its prompt between the version Harada et al. (2024) ran (late 2023) and the
later releases. A task file records which version built it (``llm_jp_eval``), and the prompt is
rendered with that version's layout, so the two can never be mixed within one run.

* ``2023-11``: the version seen in real llm-jp-eval output logs of November 2023 — among them a
  run on ELYZA-japanese-Llama-2-7b-instruct, the paper's model (AUGMXNT/shisa, commit a8101645,
  2023-11-07, ``eval/logs/elyza-7b-instruct/output_eval.json``; the same prompts appear in all
  41 of that repository's logs committed through 2023-11-09). Its header, section markers,
  JSTS instruction and fixed few-shots are written below from those logs.
* ``v1.1``: the later layout this harness rendered before (the spec's "llm-jp-eval v1.1"):
  ``### 指示:`` / ``### 入力:`` / ``### 応答:`` with the Japanese Alpaca header, few-shots = the
  first ``num_few_shots`` rows of the seed-42-shuffled train split. The release that introduced
  this layout was not established from a primary source here; see docs/lesion.md.

English tasks (the project's own demo tasks) use an English analogue of each layout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmanatomy.errors import DataError

LATE_2023 = "2023-11"
V1_1 = "v1.1"


@dataclass(frozen=True)
class Layout:
    """A prompt = ``header + instruction_marker + instruction + shot* + query``.

    ``shot`` and ``query`` are format strings with ``{input}`` (and ``{output}`` for a shot).
    """

    header: str
    instruction_marker: str
    shot: str
    query: str

    def render(self, instruction: str, few_shots: Any, input: str) -> str:
        parts = [self.header, self.instruction_marker, instruction]
        parts += [self.shot.format(input=s["input"], output=s["output"]) for s in few_shots]
        parts.append(self.query.format(input=input))
        return "".join(parts)


def float32_label(label: Any) -> str:
    """A float label printed the way the 2023-11 few-shots print it: via float32 (3.8 →
    ``3.799999952316284``)."""
    import numpy as np

    return str(float(np.float32(float(label))))


@dataclass(frozen=True)
class FixedShots:
    """Few-shots a version fixes per task: rows of an upstream split, identified by ``key`` columns.

    The rows are read from the upstream file (its label included), never retyped here; ``print``
    turns a row's label into the shot's output the way that version printed it (None: as the
    task renders it).
    """

    split: str
    key: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    label_text: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class Version:
    name: str
    title: str
    evidence: str
    layouts: Mapping[str, Layout]
    instructions: Mapping[str, str] = field(default_factory=dict)
    fixed_few_shots: Mapping[str, FixedShots] = field(default_factory=dict)

    def layout(self, language: str) -> Layout:
        if language not in self.layouts:
            raise ValueError(
                f"unknown prompt language '{language}' (known: {sorted(self.layouts)})"
            )
        return self.layouts[language]


_EN_HEADER = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request."
)

VERSIONS: dict[str, Version] = {
    LATE_2023: Version(
        name=LATE_2023,
        title="llm-jp-eval as run in November 2023 (the version of the paper's time)",
        evidence=(
            "AUGMXNT/shisa commit a8101645 (2023-11-07), "
            "eval/logs/elyza-7b-instruct/output_eval.json"
        ),
        layouts={
            "ja": Layout(
                "以下はタスクを説明する指示と、追加の背景情報を提供する入力の組み合わせです。要求を適切に満たす回答を書いてください。",
                "\n### 指示\n",
                "\n\n### 入力：\n{input}\n### 回答：\n{output}",
                "\n\n### 入力：\n{input}\n### 回答：\n",
            ),
            # The project's English analogue of the same layout (English words, ASCII colons).
            "en": Layout(
                _EN_HEADER,
                "\n### Instruction\n",
                "\n\n### Input:\n{input}\n### Response:\n{output}",
                "\n\n### Input:\n{input}\n### Response:\n",
            ),
        },
        instructions={
            "jsts": (
                "日本語の文ペアの意味がどのくらい近いかを判定し、類似度を0〜5までの間の値で付与してください。"
                "0に近いほど文ペアの意味が異なり、5に近いほど文ペアの意味が似ていることを表しています。"
                "整数値のみを返し、それ以外には何も含めないことを厳守してください。"
            ),
        },
        fixed_few_shots={
            # JGLUE v1.1 train rows, by the prepared id "<split>/<q_id or sentence_pair_id>".
            "jcommonsenseqa": FixedShots(
                "train", ("id",), (("train/0",), ("train/1",), ("train/2",), ("train/3",))
            ),
            "jsts": FixedShots(
                "train",
                ("id",),
                (("train/0",), ("train/1",), ("train/2",), ("train/1042",)),
                label_text=float32_label,
            ),
            # The logs show the sentence pairs, not their ids: the rows are found by their text.
            "jnli": FixedShots(
                "train",
                ("sentence1", "sentence2"),
                (
                    (
                        "柵で囲まれたテニスコートでは、女子シングルスが行われています。",
                        "柵で囲まれたテニスコートでは、女子ダブルスが行われています。",
                    ),
                    (
                        "二人の男性がジャンボジェット機を見ています。",
                        "2人の男性が、白い飛行機を眺めています。",
                    ),
                    (
                        "坊主頭の男性が子供を抱いて立っています。",
                        "男性が子供を抱き上げて立っています。",
                    ),
                    (
                        "手すりにクマのぬいぐるみが引っかかっている。",
                        "柵の間にはクマのぬいぐるみがはさんでおいてあります。",
                    ),
                ),
            ),
        },
    ),
    V1_1: Version(
        name=V1_1,
        title=(
            "llm-jp-eval's later layout (### 指示: / ### 入力: / ### 応答:), few-shots from the "
            "shuffled train split"
        ),
        evidence=(
            "the project's earlier spec (llm-jp-eval v1.1); release not re-established here, see "
            "docs/lesion.md"
        ),
        layouts={
            "ja": Layout(
                "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。",
                "\n\n### 指示:\n",
                "\n\n### 入力:\n{input}\n\n### 応答:\n{output}",
                "\n\n### 入力:\n{input}\n\n### 応答:\n",
            ),
            "en": Layout(
                _EN_HEADER,
                "\n\n### Instruction:\n",
                "\n\n### Input:\n{input}\n\n### Response:\n{output}",
                "\n\n### Input:\n{input}\n\n### Response:\n",
            ),
        },
    ),
}


def version(name: str) -> Version:
    try:
        return VERSIONS[name]
    except KeyError:
        raise DataError(
            f"unknown llm-jp-eval version '{name}' (known: {', '.join(VERSIONS)})"
        ) from None


def fixed_fewshot_file(task: str, llm_jp_eval: str) -> str | None:
    """The upstream file (data-root relative) holding a
    version's fixed few-shots of a JGLUE task, else None."""
    ver = version(llm_jp_eval)
    if task not in ver.fixed_few_shots:
        return None
    return f"jglue/{task}-v1.1/{ver.fixed_few_shots[task].split}-v1.1.json"
