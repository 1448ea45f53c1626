"""Scoring as llm-jp-eval v1.1 does it.

* prediction = generated text cut at the first ``"\\n\\n"``, NFKC-normalised (gold: NFKC too);
* ``exact_match``: share of predictions equal to their gold string;
* ``pearson`` / ``spearman``: correlation of ``float(gold)`` with a float parsed from the
  prediction after deleting every character that is not ``[0-9.]`` (-2.0 when that fails);
  a NaN correlation (e.g. a constant prediction) scores 0.

Beside a score, a table needs what it rests on: ``undefined`` says when a correlation is 0 only
because it is undefined (constant predictions or golds), ``bootstrap_interval`` gives a 95%
percentile interval over resampled samples, ``majority_baseline`` the score of always
answering the most frequent gold (0 for a correlation), and ``fewshot_repeat_baseline`` the score
of always answering the last few-shot's answer — what a model that only copies its prompt scores
(Harada et al. see pruned models repeat the few-shot answers).
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence

import numpy as np

UNPARSABLE = -2.0


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def postprocess(generated: str) -> str:
    """The scored prediction: the text before the first blank line, NFKC-normalised."""
    return normalize(generated.split("\n\n")[0])


def parse_float(text: str) -> float:
    """A float from whatever is left after deleting
    every character not in ``[0-9.]`` (else -2.0)."""
    cleaned = re.sub(r"[^0-9.]", "", text)
    try:
        return float(cleaned)
    except ValueError:
        return UNPARSABLE


def exact_match(predictions: Sequence[str], golds: Sequence[str]) -> float:
    return float(np.mean([p == g for p, g in zip(predictions, golds, strict=True)]))


def _correlation(statistic: Callable, predictions: Sequence[str], golds: Sequence[str]) -> float:
    if len(golds) < 2:
        raise ValueError(f"a correlation needs at least 2 samples, got {len(golds)}")
    with warnings.catch_warnings():  # constant input: scipy warns and returns NaN, scored 0 below
        warnings.simplefilter("ignore")
        value = float(
            statistic([float(g) for g in golds], [parse_float(p) for p in predictions])[0]
        )
    return 0.0 if math.isnan(value) else value


def pearson(predictions: Sequence[str], golds: Sequence[str]) -> float:
    from scipy.stats import pearsonr

    return _correlation(pearsonr, predictions, golds)


def spearman(predictions: Sequence[str], golds: Sequence[str]) -> float:
    from scipy.stats import spearmanr

    return _correlation(spearmanr, predictions, golds)


METRICS: dict[str, Callable[[Sequence[str], Sequence[str]], float]] = {
    "exact_match": exact_match,
    "pearson": pearson,
    "spearman": spearman,
}


def score(
    task: str | Sequence[str], predictions: Sequence[str], golds: Sequence[str]
) -> dict[str, float]:
    """Scores of generated texts against golds, per
    metric of ``task`` (a task name or a metric list).

    ``predictions`` may be raw generations or already post-processed: cutting at the first blank
    line and NFKC are idempotent.
    """
    if isinstance(task, str):
        from lmanatomy.evaluation.tasks import task_spec

        metrics: Sequence[str] = task_spec(task).metrics
    else:
        metrics = task
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions for {len(golds)} golds")
    if not golds:
        raise ValueError("nothing to score: no samples")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown} (known: {sorted(METRICS)})")
    preds = [postprocess(p) for p in predictions]
    refs = [normalize(str(g)) for g in golds]
    return {metric: METRICS[metric](preds, refs) for metric in metrics}


def undefined_correlation(predictions: Sequence[str], golds: Sequence[str]) -> bool:
    """True when Pearson/Spearman is undefined (constant parsed
    predictions or golds), which llm-jp-eval scores 0."""
    parsed = [parse_float(postprocess(p)) for p in predictions]
    return len(set(parsed)) < 2 or len({float(normalize(str(g))) for g in golds}) < 2


def bootstrap_interval(
    metric: str,
    predictions: Sequence[str],
    golds: Sequence[str],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric`` over samples drawn with replacement (seeded).

    A resample whose correlation is undefined scores 0, as llm-jp-eval scores it.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}' (known: {sorted(METRICS)})")
    preds = [postprocess(p) for p in predictions]
    refs = [normalize(str(g)) for g in golds]
    n = len(refs)
    if n < 2:
        raise ValueError(f"a bootstrap interval needs at least 2 samples, got {n}")
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    if metric == "exact_match":
        correct = np.array([p == g for p, g in zip(preds, refs, strict=True)], dtype=float)
        values = correct[draws].mean(axis=1)
    else:
        values = np.array(
            [METRICS[metric]([preds[i] for i in row], [refs[i] for i in row]) for row in draws]
        )
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def majority_baseline(metric: str, golds: Sequence[str]) -> float:
    """The score of a constant answer: the most frequent
    gold's share (exact match), 0 for a correlation."""
    if metric != "exact_match":
        return 0.0
    refs = [normalize(str(g)) for g in golds]
    return max(refs.count(g) for g in set(refs)) / len(refs)


def constant_answers(metric: str, golds: Sequence[str], answer: str) -> list[str]:
    """The predictions of a model that always answers
    ``answer`` (for a bootstrap interval of a baseline)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}' (known: {sorted(METRICS)})")
    return [answer] * len(golds)


def majority_answer(golds: Sequence[str]) -> str:
    """The most frequent gold (ties: the first in sorted
    order, so the choice does not depend on sample order)."""
    refs = [normalize(str(g)) for g in golds]
    if not refs:
        raise ValueError("a baseline needs at least one gold")
    top = max(refs.count(g) for g in set(refs))
    return sorted(g for g in set(refs) if refs.count(g) == top)[0]


def fewshot_repeat_baseline(
    metric: str, golds: Sequence[str], shot_answers: Sequence[str]
) -> tuple[str, float]:
    """(answer, score) of always repeating the last few-shot's
    answer: a constant answer, so 0 for a correlation.

    The last shot is the answer the model read just before the question, the one a copying model
    repeats; with no few-shots the baseline is undefined and raises.
    """
    if not shot_answers:
        raise ValueError("the few-shot repeat baseline needs at least one few-shot answer")
    answer = normalize(str(shot_answers[-1]))
    return answer, score([metric], constant_answers(metric, golds, answer), golds)[metric]
