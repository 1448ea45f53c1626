"""Running and scoring validation experiments 1 and 2 (see :mod:`lmanatomy.paramact.prune`).

Scoring as the released code does (``wanda_test.py``, commit 9350311): perplexity of the pruned
model on held-out text (the code: WikiText-2 test), and zero-shot choice accuracy — the answer is
the choice whose *last* token has the larger logit at the position after ``Answer:``
(``eval_boolq``: choices ``no``/``yes``). Here MMLU is scored the same way with ``A``–``D`` (the
code's ``eval_mmlu`` uses 5 shots), HumanEval (no accuracy without execution) by the perplexity of
prompt + canonical solution, text corpora by the perplexity of their windows.

Calibration and evaluation inputs of a dataset are disjoint: both come from its seeded draw order
(:class:`~lmanatomy.paramact.prompts.Draws`), calibration from draws
0..c−1, evaluation from c..c+e−1. Every estimate carries a 95% interval:
Wilson for accuracies, a percentile bootstrap over texts for perplexities.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from lmanatomy.errors import ConfigError, DataError
from lmanatomy.paramact.prompts import Draws
from lmanatomy.stats import percentile_interval, resample_indices, wilson

CHOICES = {"boolq": ("no", "yes"), "mmlu": ("A", "B", "C", "D")}
RUN_COLUMNS = [
    "experiment",
    "allocation",
    "calibration",
    "evaluation",
    "metric",
    "value",
    "low",
    "high",
    "n",
]


def label_index(fmt: str, label: Any) -> int:
    """The index of the gold choice among :data:`CHOICES` of the format."""
    if fmt == "boolq":
        return int(bool(label))
    if fmt == "mmlu":
        return "ABCD".index(str(label))
    raise DataError(f"no choice scoring for format '{fmt}'")


def choice_tokens(tokenizer: Any, fmt: str) -> list[int]:
    """The last token id of each choice string (as the released code's ``eval_boolq``)."""
    return [tokenizer(choice).input_ids[-1] for choice in CHOICES[fmt]]


def choice_accuracy(
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    golds: Sequence[int],
    tokens: Sequence[int],
) -> tuple[float, float, float, int]:
    """(accuracy, low, high, n): the larger of the choices'
    last-position logits against the gold index."""
    device = next(model.parameters()).device
    correct = 0
    with torch.no_grad():
        for ids, gold in zip(inputs, golds, strict=True):
            logits = model(input_ids=ids.reshape(1, -1).to(device), use_cache=False).logits[0, -1]
            correct += int(int(torch.argmax(logits[list(tokens)])) == gold)
    if not golds:
        raise DataError("an accuracy over zero items has no interval")
    low, high = wilson(correct, len(golds))
    return correct / len(golds), low, high, len(golds)


def text_nll(model: torch.nn.Module, ids: torch.Tensor) -> tuple[float, int]:
    """Summed next-token negative log-likelihood of one text and the number of predicted tokens."""
    device = next(model.parameters()).device
    ids = ids.reshape(1, -1).to(device)
    if ids.shape[1] < 2:
        raise DataError("a perplexity needs texts of at least 2 tokens")
    with torch.no_grad():
        logits = model(input_ids=ids, use_cache=False).logits[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum")
    return float(nll), ids.shape[1] - 1


def perplexity(
    model: torch.nn.Module, inputs: Sequence[torch.Tensor], resamples: int = 1000, seed: int = 0
) -> tuple[float, float, float, int]:
    """(perplexity, low, high, n): exp(Σ NLL / Σ tokens); the interval resamples texts."""
    parts = np.array([text_nll(model, ids) for ids in inputs], dtype=np.float64)
    value = math.exp(parts[:, 0].sum() / parts[:, 1].sum())
    picks = resample_indices(len(parts), resamples, seed)
    boot = np.exp(parts[picks, 0].sum(axis=1) / parts[picks, 1].sum(axis=1))
    low, high = percentile_interval(boot)
    return value, float(low), float(high), len(parts)


@dataclass
class EvalSet:
    """One evaluation dataset: its inputs and how they are scored."""

    name: str
    metric: str  # "accuracy" or "perplexity"
    inputs: list[torch.Tensor]
    golds: list[int]
    tokens: list[int]


def eval_set(draws: Draws, start: int, count: int, tokenizer: Any) -> EvalSet:
    """Draws start..start+count−1 of a dataset, as
    choice items (BoolQ, MMLU) or perplexity texts."""
    fmt = draws.fmt
    if fmt in CHOICES:
        inputs, golds = [], []
        for j in range(start, start + count):
            inputs.append(draws.draw(j).input_ids)
            golds.append(label_index(fmt, draws.row(j)["label"]))
        return EvalSet(draws.name, "accuracy", inputs, golds, choice_tokens(tokenizer, fmt))
    texts = []
    for j in range(start, start + count):
        if fmt == "humaneval":
            row = draws.row(j)
            texts.append(
                tokenizer(
                    str(row["prompt"]) + str(row["canonical_solution"]), return_tensors="pt"
                ).input_ids
            )
        else:
            texts.append(draws.draw(j).input_ids)
    return EvalSet(draws.name, "perplexity", texts, [], [])


def score(model: torch.nn.Module, sets: Sequence[EvalSet]) -> list[dict]:
    """One row per evaluation set: metric, value, 95% interval, n."""
    rows = []
    for item in sets:
        if item.metric == "accuracy":
            value, low, high, n = choice_accuracy(model, item.inputs, item.golds, item.tokens)
        else:
            value, low, high, n = perplexity(model, item.inputs)
        rows.append(
            {
                "evaluation": item.name,
                "metric": item.metric,
                "value": value,
                "low": low,
                "high": high,
                "n": n,
            }
        )
    return rows


@dataclass(frozen=True)
class Plan:
    """What one validation job prunes: (experiment, allocation, calibration set) triples."""

    sparsity: float
    spread: float
    criterion: str
    calibration: str
    calibration_sets: tuple[str, ...]

    def runs(self) -> list[tuple[str, str, str]]:
        """Experiment 1 (uniform vs density at the main calibration
        set), then experiment 2 (uniform, every set)."""
        runs = [("1", "uniform", self.calibration), ("1", "density", self.calibration)]
        runs += [("2", "uniform", name) for name in self.calibration_sets]
        return runs


def plan_from(section: Mapping[str, Any]) -> Plan:
    """The ``paramact.validation`` config section as a :class:`Plan`."""
    try:
        return Plan(
            float(section["sparsity"]),
            float(section["spread"]),
            str(section.get("criterion", "wanda")),
            str(section["calibration"]),
            tuple(section["calibration_sets"]),
        )
    except KeyError as exc:
        raise ConfigError(f"paramact.validation.{exc.args[0]}", "is required") from None


def run_validation(
    model: torch.nn.Module,
    tokenizer: Any,
    draws: Mapping[str, Draws],
    plan: Plan,
    density: Sequence[float],
    *,
    calibration_samples: int,
    eval_samples: int,
    evaluation: Sequence[str],
    log: logging.Logger | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prune and score every run of the plan (the dense model first); returns (runs, ratios)."""
    from lmanatomy.paramact.prune import allocate_ratios, prune_model
    from lmanatomy.paramact.scores import decoder_weights

    sizes = [layer.size for layer in decoder_weights(model)]
    allocations = {
        "uniform": np.full(len(sizes), plan.sparsity),
        "density": allocate_ratios(density, sizes, plan.sparsity, plan.spread),
    }
    sets = [
        eval_set(draws[name], calibration_samples, eval_samples, tokenizer) for name in evaluation
    ]
    dense = {k: v.detach().clone() for k, v in model.state_dict().items()}
    rows = [
        {"experiment": "dense", "allocation": "none", "calibration": "", **r}
        for r in score(model, sets)
    ]
    reached: dict[tuple[str, str], list[float]] = {}
    scored: dict[tuple[str, str], list[dict]] = {}
    for experiment, allocation, calibration in plan.runs():
        key = (allocation, calibration)
        if (
            key not in scored
        ):  # experiments 1 and 2 share the uniform model of the main calibration set
            calib = [draws[calibration].draw(j).input_ids for j in range(calibration_samples)]
            model.load_state_dict(dense)
            reached[key] = prune_model(model, allocations[allocation], calib, plan.criterion)
            scored[key] = score(model, sets)
            if log:
                log.info(
                    "%s ratios, calibration %s: sparsity %.4f",
                    allocation,
                    calibration,
                    float(np.average(reached[key], weights=sizes)),
                )
        rows += [
            {"experiment": experiment, "allocation": allocation, "calibration": calibration, **r}
            for r in scored[key]
        ]
    model.load_state_dict(dense)
    ratios = pd.DataFrame(
        {
            "layer": range(len(sizes)),
            "parameters": sizes,
            "density": list(density),
            "uniform": allocations["uniform"],
            "density_ratio": allocations["density"],
            "reached_density": reached[("density", plan.calibration)],
        }
    )
    return pd.DataFrame(rows, columns=RUN_COLUMNS), ratios
