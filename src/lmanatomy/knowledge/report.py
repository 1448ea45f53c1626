"""What a run did, and where it departs from the paper: the notes under every table and figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.knowledge.emd import METRIC_NAMES, METRICS


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
        f"attributions × {section['scale']:g}, top-{section['top_k']} neurons, EMD "
        f"{section['metric']} = {METRIC_NAMES[section['metric']]}."
    )


def first_token_note(words: Sequence[str]) -> list[str]:
    """Words attributed by their first token only (a
    fact of this run's tokenizer, not a config key)."""
    return (
        [f"Multi-token words attributed by their first token only: {', '.join(words)}."]
        if words
        else []
    )


def figure_note(
    section: Mapping[str, Any], display: str, checkpoints: Sequence[str], differs: str
) -> str:
    """A short caveat for a figure: the model, checkpoints and k, and how the run differs from the
    paper (``differs``: lmanatomy.deviations' one-line note); the table notes have the rest."""
    return (
        f"{display}, {len(checkpoints)} checkpoints, top-{section['top_k']}, "
        f"{section['site']}-activation, EMD {METRIC_NAMES[section['metric']]}. {differs}"
    ).strip()


def questions_note(dataset_meta: Mapping[str, Any] | None) -> list[str]:
    """Where the questions came from, from the prepared dataset's
    sidecar (lmanatomy.data): its origin fact (real, a seeded subset,
    or demo) and whether each file is the pinned upstream file."""
    if not dataset_meta:
        return []
    if "origin" not in dataset_meta:
        raise DataError(
            "the question set's provenance has no 'origin' (prepared by an older lm-anatomy; "
            "prepare it again)"
        )
    origin = dataset_meta["origin"]
    where = (
        f"{dataset_meta.get('rows', '?')} questions from "
        f"{dataset_meta.get('root') or 'data/raw'}, {origin['text']}"
    )
    if origin["is_demo"]:
        return [f"Questions: {where}; not the authors' question file."]
    foreign = [
        s["path"] for s in dataset_meta.get("sources", []) if not s.get("matches_upstream", False)
    ]
    if foreign:
        return [
            f"Questions: {where}; not the authors' question file (sha256 differs from the pinned "
            f"upstream): {', '.join(foreign)}."
        ]
    return [f"Questions: {where} (the authors' file: sha256 matches the pinned upstream)."]


def _first_token_words(answers: pd.DataFrame) -> list[str]:
    words = " ".join(
        str(v) for v in answers.get("first_token_only", pd.Series(dtype=str)).fillna("")
    )
    return sorted(set(words.split()))


def training_note(corpus: Mapping[str, Any] | None) -> list[str]:
    """Whether the model was trained on the question prompts
    (a ``local`` series' corpus spec; None: pretrained)."""
    if corpus is None:
        return []
    if corpus.get("prompts", "held_out") == "held_out":
        return [
            "Held-out prompts: the series was trained on statements and paraphrased questions of "
            "the facts (lmanatomy.knowledge.facts), never on the question prompts attributed here "
            "(the corpus builder checks); accuracy is on these held-out prompts."
        ]
    return [
        "The series was trained on the very question prompts attributed here (corpus prompts: "
        "trained), so its accuracy can be memory of the token sequences, not knowledge."
    ]


def accuracy_line(answers: pd.DataFrame, held_out: bool) -> str:
    """Accuracy at every checkpoint, the final one with its 95% Wilson interval (for a caption)."""
    what = "Held-out accuracy" if held_out else "Accuracy"
    final = answers.iloc[-1]
    steps = ", ".join(
        f"{c} {a:.0%}" for c, a in zip(answers["checkpoint"], answers["accuracy"], strict=True)
    )
    return (
        f"{what} per checkpoint: {steps}; final {final['accuracy']:.1%} of "
        f"{int(final['prompts'])} prompts (95% CI "
        f"{final['accuracy_low']:.1%}–{final['accuracy_high']:.1%})."
    )


def is_held_out(corpus: Mapping[str, Any] | None) -> bool:
    return corpus is not None and corpus.get("prompts", "held_out") == "held_out"


def answers_notes(
    section: Mapping[str, Any],
    differs: Sequence[str],
    dataset_meta: Mapping[str, Any] | None = None,
    corpus: Mapping[str, Any] | None = None,
) -> list[str]:
    """Notes of the answers table; ``differs``: how the run differs from the paper
    (lmanatomy.deviations)."""
    return [
        "accuracy: share of prompts whose greedy next token is the target word "
        "(accuracy_low/high: 95% Wilson interval); mean_probability: mean softmax P(target) at "
        "the last position of the unmodified model (both from the attribution pass).",
        *training_note(corpus),
        settings_line(section),
        *questions_note(dataset_meta),
        *differs,
    ]


def metrics_note(scores: pd.DataFrame, configured: str) -> str:
    """Table 2's scores under every EMD metric
    (``stats.scores_by_metric``), the configured one marked."""
    parts = []
    for metric in METRICS:
        part = scores[scores["metric"] == metric]
        values = ", ".join(
            f"{g} {a:.1f} / {c:.1f}"
            for g, a, c in zip(
                part["group"], part["score_as_paper"], part["score_corrected"], strict=True
            )
        )
        mark = " (this table)" if metric == configured else ""
        parts.append(f"{metric} = {METRIC_NAMES[metric]}{mark}: {values}")
    return (
        "Scores under each EMD metric (as the paper computed it / corrected): "
        + "; ".join(parts)
        + "."
    )


def table2_notes(
    section: Mapping[str, Any],
    differs: Sequence[str],
    answers: pd.DataFrame,
    paper: Mapping[str, Any],
    dataset_meta: Mapping[str, Any] | None = None,
    scores: pd.DataFrame | None = None,
    layers_note: str | None = None,
    corpus: Mapping[str, Any] | None = None,
) -> list[str]:
    """Notes of Table 2: both denominators, the paper's values (``paper``: paper_values.yaml), every
    metric, the run's settings and how it differs from the paper (``differs``:
    lmanatomy.deviations)."""
    from lmanatomy.knowledge.stats import SCORE_LABELS, headline_column, paper_note

    return [
        "hits: other-group words whose EMD to the row word exceeds the row word's mean EMD to its "
        f"own group. score_as_paper ({SCORE_LABELS['as_paper']}): hits / comparisons_as_paper, "
        "which also counts each word against itself, as the released code does "
        "(knowledge-neuron-sim@aeda0cd, wasserstein_distance.py make_binary_df); score_corrected "
        f"({SCORE_LABELS['corrected']}): hits / other-group comparisons. Bold: the configured "
        f"headline ({headline_column(section['denominator'])}).",
        paper_note(section["groups"], paper)
        + " Compare them with score_as_paper: only that denominator reproduces the paper's "
        "94.0 / 78.6 / 76.3 exactly (233/248, 176/224, 206/270).",
        *([metrics_note(scores, section["metric"])] if scores is not None else []),
        accuracy_line(answers, is_held_out(corpus)),
        *training_note(corpus),
        *([layers_note] if layers_note else []),
        settings_line(section),
        *questions_note(dataset_meta),
        *differs,
        *first_token_note(_first_token_words(answers)),
    ]
