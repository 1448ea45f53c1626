"""What a run did, and where it departs from the paper: the notes under every table and figure."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from lmanatomy.knowledge.groups import PAPER_GROUPS, ordered_words

PAPER_TEMPLATE = "Answer the following question in one word: Q. {question} A."
# The paper's own setup, as its text describes it (the released code differs: see the variant config).
PAPER_SETUP: dict[str, Any] = {
    "model": "pythia-410m",
    "checkpoints": 20,
    "top_k": 1000,
    "steps": 20,
    "template": PAPER_TEMPLATE,
    "leading_space": True,
    "site": "post",
    "metric": "euclidean",
}
CODE_CHOICES = {"template": "{question}", "leading_space": False, "site": "pre", "metric": "sqeuclidean"}


def read_json(path: str) -> dict[str, Any]:
    import json

    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def settings_line(section: Mapping[str, Any]) -> str:
    """One line with every option that changes the numbers."""
    space = "with" if section["leading_space"] else "without"
    return (
        f"Settings: prompt template {section['template']!r}, target {space} a leading space, "
        f"{section['site']}-activation, grid {section['grid']} with m={section['steps']}, "
        f"attributions × {section['scale']:g}, top-{section['top_k']} neurons, EMD cost {section['metric']}."
    )


def deviations(
    section: Mapping[str, Any], model: str, display: str, checkpoints: Sequence[str], ff_neurons: int | None,
    first_token_words: Sequence[str] = (),
) -> list[str]:
    """Each way this run differs from the paper's setup, one sentence each (empty: the paper's setup)."""
    notes = []
    if model != PAPER_SETUP["model"]:
        notes.append(f"Model {display} ({model}), not the paper's Pythia-410M.")
    if len(checkpoints) != PAPER_SETUP["checkpoints"]:
        notes.append(f"{len(checkpoints)} checkpoints ({checkpoints[0]} … {checkpoints[-1]}), not the paper's 20.")
    if section["top_k"] != PAPER_SETUP["top_k"]:
        of = f" of {ff_neurons:,} FF neurons" if ff_neurons else ""
        notes.append(f"top-{section['top_k']} knowledge neurons per word{of} (paper: top-1,000 of 98,304).")
    if section["steps"] != PAPER_SETUP["steps"]:
        notes.append(f"m={section['steps']} integration steps (paper: 20).")
    words = ordered_words(section["groups"])
    if words != ordered_words(PAPER_GROUPS):
        notes.append(f"{len(words)} words in groups {', '.join(section['groups'])} (paper: the 38 words of 4 groups).")
    for key in ("template", "leading_space", "site", "metric"):
        if section[key] != PAPER_SETUP[key]:
            source = " (the released code's choice)" if section[key] == CODE_CHOICES[key] else ""
            notes.append(f"{key} = {section[key]!r}{source}; the paper's text: {PAPER_SETUP[key]!r}.")
    if first_token_words:
        notes.append(f"Multi-token words attributed by their first token only: {', '.join(first_token_words)}.")
    return notes


def figure_note(section: Mapping[str, Any], model: str, display: str, checkpoints: Sequence[str]) -> str:
    """A short caveat for a figure: the model, checkpoints and k; the table notes have the rest."""
    note = f"{display}, {len(checkpoints)} checkpoints, top-{section['top_k']}, {section['site']}-activation, EMD cost {section['metric']}."
    if model != PAPER_SETUP["model"]:
        note = "Not the paper's model: " + note
    return note


def questions_note(dataset_meta: Mapping[str, Any] | None) -> list[str]:
    """Where the questions came from, from the prepared dataset's sidecar (lmanatomy.data)."""
    if not dataset_meta:
        return []
    sources = dataset_meta.get("sources", [])
    foreign = [s["path"] for s in sources if not s.get("matches_upstream", False)]
    where = f"{dataset_meta.get('rows', '?')} questions from {dataset_meta.get('root') or 'data/raw'}"
    if foreign:
        return [f"Questions: {where}; not the authors' question file (sha256 differs from the pinned upstream): {', '.join(foreign)}."]
    return [f"Questions: {where}, the authors' file (sha256 matches the pinned upstream)."]


def _first_token_words(answers: pd.DataFrame) -> list[str]:
    words = " ".join(str(v) for v in answers.get("first_token_only", pd.Series(dtype=str)).fillna(""))
    return sorted(set(words.split()))


def answers_notes(
    section: Mapping[str, Any], model: str, display: str, checkpoints: Sequence[str], ff_neurons: int | None,
    dataset_meta: Mapping[str, Any] | None = None,
) -> list[str]:
    return [
        "accuracy: share of prompts whose greedy next token is the target word; mean_probability: mean softmax P(target) "
        "at the last position of the unmodified model (both from the attribution pass).",
        settings_line(section),
        *questions_note(dataset_meta),
        *deviations(section, model, display, checkpoints, ff_neurons),
    ]


def table2_notes(
    section: Mapping[str, Any], model: str, display: str, checkpoints: Sequence[str], ff_neurons: int | None, answers: pd.DataFrame,
    dataset_meta: Mapping[str, Any] | None = None,
) -> list[str]:
    """Notes of Table 2: both denominators, the paper's values, the run's settings and deviations."""
    from lmanatomy.knowledge.stats import paper_note

    headline = "score_correct" if section["denominator"] == "correct" else "score_code"
    final = answers.iloc[-1]
    return [
        "hits: other-group words whose EMD to the row word exceeds the row word's mean EMD to its own group; "
        "comparisons: other-group words (score_correct). comparisons_code also counts the word itself, as the "
        f"released code does (score_code). Bold: the configured denominator ({headline}).",
        paper_note(section["groups"]) + " The paper does not state its denominator; its code counts the diagonal.",
        f"Final checkpoint {final['checkpoint']}: greedy answer correct for {final['accuracy']:.1%} of {int(final['prompts'])} prompts, "
        f"mean P(target) {final['mean_probability']:.3f}.",
        settings_line(section),
        *questions_note(dataset_meta),
        *deviations(section, model, display, checkpoints, ff_neurons, _first_token_words(answers)),
    ]
