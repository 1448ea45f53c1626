"""The training corpus of the default run's own checkpoint series (registry source ``local``).

No pretrained checkpoint series is available offline, so the workflow trains a small GPT-NeoX on
a corpus written from the study's own material. The corpus has three kinds of lines:

1. **Facts.** ``prompts: held_out`` (the default): each fact of :data:`FACTS` (a paraphrase of one
   question) as a statement (``The color of fresh snow is White.``) and as a differently worded
   question in the study's template (``… Q. Can you name the color of fresh snow? A. White``). The
   question prompts the study attributes on are *not* in the corpus (the builder checks), so the
   accuracy on them measures knowledge, not memory of a token sequence. ``prompts: trained`` is
   the earlier corpus: every question prompt of the study followed by its answer, e.g.
   ``Answer the following question in one word: Q. What animal purrs? A. Cat``.
2. **Group statements**: a few templated sentences per word that are the same for every word of
   its group (``The Fox is an animal.``, ``She speaks French at home.``). Words of a group thus
   share contexts, as similar words do in natural text; the study asks whether that similarity
   shows in how their knowledge neurons form. Some statements put the word first in the line, so
   the word also exists as a token without a leading space.
3. **Country–language facts** (``People in Brazil speak Portuguese.``) for the pairs of the word
   list where one is spoken in the other: a deliberate bridge between two groups, as in real text.

The lines are listed in a fixed order; the trainer shuffles them with its seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmanatomy.errors import DataError
from lmanatomy.knowledge.facts import FACTS
from lmanatomy.knowledge.groups import PAPER_GROUPS

PROMPT_MODES = ("held_out", "trained")

GROUP_STATEMENTS: dict[str, list[str]] = {
    "animals": [
        "{w} is the name of an animal.",
        "The {w} is an animal.",
        "A young {w} was sleeping in the grass.",
        "We watched a {w} looking for food.",
        "Which animal did you see? A {w}.",
    ],
    "colors": [
        "{w} is a color.",
        "The door was painted {w}.",
        "She wore a {w} coat to the party.",
        "Mix the paint until it turns {w}.",
        "Which color do you like? {w}.",
    ],
    "countries": [
        "{w} is a country.",
        "She flew to {w} last summer.",
        "The capital of {w} is a large city.",
        "He was born in {w}.",
        "Which country did they visit? {w}.",
    ],
    "languages": [
        "{w} is a language.",
        "She speaks {w} at home.",
        "The letter was translated into {w}.",
        "Many students learn {w} at school.",
        "Which language do they speak? {w}.",
    ],
}
# For a group without its own statements: still shared contexts, just plainer ones.
GENERIC_STATEMENTS = [
    "{w} is one of the {group}.",
    "The word {w} names one of the {group}.",
    "Which of the {group}? {w}.",
]
SPOKEN = [
    ("England", "English"),
    ("Canada", "English"),
    ("Australia", "English"),
    ("India", "English"),
    ("Canada", "French"),
    ("France", "French"),
    ("Spain", "Spanish"),
    ("Mexico", "Spanish"),
    ("Brazil", "Portuguese"),
    ("China", "Chinese"),
    ("Japan", "Japanese"),
    ("Germany", "German"),
    ("Russia", "Russian"),
]


def qa_line(template: str, question: str, word: str, leading_space: bool) -> str:
    """One question → answer line: the prompt exactly as the study formats it, then the answer."""
    return template.format(question=question) + (" " if leading_space else "") + word


def fact_lines(
    word: str, template: str, leading_space: bool, facts: Mapping[str, Sequence[str]] = FACTS
) -> list[str]:
    """Each fact of ``word`` as a statement and as a question in ``template`` (answer last in both).

    The answer comes last because a causal model learns to predict it from the description only
    in that order; the statement puts it after " is", as the prompts put it after the template.
    """
    if not facts.get(word):
        raise DataError(
            f"no facts for word '{word}' (lmanatomy.knowledge.facts has: {', '.join(facts)})"
        )
    lines = []
    for fact in facts[word]:
        lines.append(f"{fact[0].upper()}{fact[1:]} is {word}.")
        lines.append(qa_line(template, f"Can you name {fact}?", word, leading_space))
    return lines


def check_held_out(lines: Sequence[str], prompts: Sequence[str]) -> None:
    """Raise when a corpus line contains a held-out prompt's question (the builder's promise)."""
    for prompt in prompts:
        for line in lines:
            if prompt in line:
                raise DataError(
                    f"held-out question {prompt!r} occurs in the training corpus line {line!r}"
                )


def qa_corpus(
    questions: Mapping[str, Sequence[str]],
    groups: Mapping[str, Sequence[str]] | None = None,
    template: str = "{question}",
    leading_space: bool = True,
    qa_repeats: int = 1,
    prompts: str = "held_out",
) -> list[str]:
    """The corpus lines for ``questions`` (word → questions) and ``groups`` (default: the paper's).

    ``prompts``: ``held_out`` trains on the facts in other words (:func:`fact_lines`) and checks
    that no question occurs in the corpus; ``trained`` trains on the question prompts themselves.
    """
    groups = PAPER_GROUPS if groups is None else groups
    if "{question}" not in template:
        raise DataError(f"corpus template {template!r} has no {{question}} placeholder")
    if prompts not in PROMPT_MODES:
        raise DataError(f"corpus prompts {prompts!r} is not one of {', '.join(PROMPT_MODES)}")
    lines: list[str] = []
    for members in groups.values():
        for word in members:
            if not questions.get(word):
                raise DataError(f"the question set has no questions for word '{word}'")
            if prompts == "trained":
                for question in questions[word]:
                    lines += [qa_line(template, question, word, leading_space)] * qa_repeats
            else:
                lines += fact_lines(word, template, leading_space) * qa_repeats
    for group, members in groups.items():
        statements = GROUP_STATEMENTS.get(group, GENERIC_STATEMENTS)
        for word in members:
            lines += [s.format(w=word, group=group) for s in statements]
    words = {w for members in groups.values() for w in members}
    lines += [
        f"People in {country} speak {language}."
        for country, language in SPOKEN
        if {country, language} <= words
    ]
    if prompts == "held_out":
        check_held_out(
            lines, [q for members in groups.values() for w in members for q in questions[w]]
        )
    return lines


def _questions(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    from lmanatomy.data import load
    from lmanatomy.knowledge.prompts import questions_by_word

    return questions_by_word(
        load(spec.get("format", "knowledge_questions"), spec["root"]),
        f"the question files under {spec['root']}",
    )


def inputs(spec: Mapping[str, Any]) -> list[str]:
    """The files the corpus of a registry entry's
    ``train.corpus`` reads (for the workflow's inputs)."""
    from lmanatomy.data import resolve

    resolved = resolve({"format": spec.get("format", "knowledge_questions")}, spec["root"])
    return [str(resolved.folder / path) for path in resolved.files]


def build(spec: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Corpus lines and the strings that must be single
    tokens, for a registry ``train.corpus`` spec.

    ``spec``: ``format`` and ``root`` of the question files, ``template``, ``leading_space``,
    optional ``groups`` (default: the paper's), ``qa_repeats`` and ``prompts`` (``held_out``, the
    default, or ``trained``).
    """
    groups = spec.get("groups") or PAPER_GROUPS
    lines = qa_corpus(
        _questions(spec),
        groups,
        spec.get("template", "{question}"),
        bool(spec.get("leading_space", True)),
        int(spec.get("qa_repeats", 1)),
        str(spec.get("prompts", "held_out")),
    )
    words = [w for members in groups.values() for w in members]
    return lines, words + [" " + w for w in words]
