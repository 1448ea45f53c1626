"""The prompt of llm-jp-eval v1.1: an Alpaca-style header, the instruction, few-shots, the input.

The Japanese template is llm-jp-eval's, byte for byte (Harada et al. 2024 score with it). The
English template, used for the project's English demo tasks, is the same layout with the
English Alpaca header and section names (the form llm-jp-eval itself uses for English).
"""

from __future__ import annotations

from typing import Iterable, Mapping

HEADERS = {
    "ja": "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。",
    "en": (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request."
    ),
}
# (instruction, input, response) section names per language.
SECTIONS = {"ja": ("指示", "入力", "応答"), "en": ("Instruction", "Input", "Response")}


def render_prompt(instruction: str, few_shots: Iterable[Mapping[str, str]], input: str, language: str = "ja") -> str:
    """``header\\n\\n### 指示:\\n{instruction}`` + per few-shot ``\\n\\n### 入力:\\n{input}\\n\\n### 応答:\\n{output}``
    + ``\\n\\n### 入力:\\n{input}\\n\\n### 応答:\\n``."""
    if language not in HEADERS:
        raise ValueError(f"unknown prompt language '{language}' (known: {sorted(HEADERS)})")
    head, inp, resp = SECTIONS[language]
    parts = [f"{HEADERS[language]}\n\n### {head}:\n{instruction}"]
    for shot in few_shots:
        parts.append(f"\n\n### {inp}:\n{shot['input']}\n\n### {resp}:\n{shot['output']}")
    parts.append(f"\n\n### {inp}:\n{input}\n\n### {resp}:\n")
    return "".join(parts)
