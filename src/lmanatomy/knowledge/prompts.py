"""From the question set to prompts and target tokens.

The paper and the released code differ here, so both are settings: the paper wraps each question
in an instruction ("Answer the following question in one word: Q. … A.") and predicts the word
with a leading space; the code feeds the bare question and encodes the word without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lmanatomy.errors import DataError

QUESTION_COLUMNS = ("word", "question")


@dataclass(frozen=True)
class WordPrompts:
    """The prompts of one word and the exact string whose single token is the target."""

    word: str
    prompts: tuple[str, ...]
    target: str


def format_prompt(template: str, question: str) -> str:
    """The prompt the model reads: ``template`` with ``{question}`` filled in."""
    try:
        return template.format(question=question)
    except (KeyError, IndexError) as exc:
        raise DataError(
            f"prompt template {template!r} may only use the placeholder {{question}} ({exc})"
        ) from None


def target_string(word: str, leading_space: bool) -> str:
    return (" " if leading_space else "") + word


def questions_by_word(
    table: pd.DataFrame, source: str = "the question table"
) -> dict[str, list[str]]:
    """word → its questions in table order, from a prepared ``knowledge_questions`` dataset."""
    missing = [c for c in QUESTION_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{source} lacks column(s) {missing}; expected a prepared knowledge_questions dataset"
        )
    grouped: dict[str, list[str]] = {}
    for word, question in zip(table["word"], table["question"], strict=True):
        grouped.setdefault(str(word), []).append(str(question))
    return grouped


def word_prompts(
    questions: Mapping[str, Sequence[str]],
    words: Sequence[str],
    template: str,
    leading_space: bool,
    prompts_per_word: int | None = None,
) -> dict[str, WordPrompts]:
    """The prompts of every word of ``words``; a word without questions is an error naming it."""
    result = {}
    for word in words:
        found = list(questions.get(word, ()))
        if not found:
            known = ", ".join(sorted(questions)) or "none"
            raise DataError(
                f"the question set has no questions for word '{word}' (words in it: {known})"
            )
        if prompts_per_word is not None:
            if len(found) < prompts_per_word:
                raise DataError(
                    f"word '{word}' has {len(found)} questions, fewer than "
                    f"prompts_per_word={prompts_per_word}"
                )
            found = found[:prompts_per_word]
        result[word] = WordPrompts(
            word,
            tuple(format_prompt(template, q) for q in found),
            target_string(word, leading_space),
        )
    return result


def describe_tokens(tokenizer: Any, text: str) -> list[str]:
    return [
        str(t)
        for t in tokenizer.convert_ids_to_tokens(tokenizer.encode(text, add_special_tokens=False))
    ]
