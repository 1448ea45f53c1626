"""The prompt llm-jp-eval sends: a header, the instruction, few-shots, the input — per version.

The layouts themselves (header, section markers) live in ``versions``: the late-2023 one that
Harada et al. (2024) ran and the later ``v1.1`` one, each with an English analogue for the
project's English demo tasks. ``v1.1`` stays the default of this function so that callers which
name no version keep the prompt they had.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lmanatomy.evaluation.versions import V1_1, version


def render_prompt(
    instruction: str,
    few_shots: Iterable[Mapping[str, str]],
    input: str,
    language: str = "ja",
    llm_jp_eval: str = V1_1,
) -> str:
    """The exact prompt string of one sample under llm-jp-eval version ``llm_jp_eval``.

    ``v1.1``: ``header\\n\\n### 指示:\\n{instruction}``
    + per few-shot ``\\n\\n### 入力:\\n{input}\\n\\n### 応答:\\n{output}``
    + ``\\n\\n### 入力:\\n{input}\\n\\n### 応答:\\n``.
    ``2023-11``: ``header\\n### 指示\\n{instruction}``
    + per few-shot ``\\n\\n### 入力：\\n{input}\\n### 回答：\\n{output}``
    + ``\\n\\n### 入力：\\n{input}\\n### 回答：\\n``.
    """
    return version(llm_jp_eval).layout(language).render(instruction, list(few_shots), input)
