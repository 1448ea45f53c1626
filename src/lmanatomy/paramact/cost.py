"""The work of each paramact job, for its runtime estimate (models.resources; docs/slurm.md).

Counted from what the job runs, not from its wall time: the schedule's forward + backward passes
(plan.schedule), two passes per STS pair, and for validations 1-2 the calibration forwards of
every pruned model plus the evaluation forwards of every scored model. A draw's length is its
window where the config cuts windows, else PROMPT_TOKENS (an upper bound: the prompts of BoolQ,
MMLU, HumanEval, SIQA and HellaSwag are shorter); an STS sentence is at most SENTENCE_TOKENS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.models.resources import Work
from lmanatomy.paramact.plan import Compute, Job, schedule

PROMPT_TOKENS = 1024
SENTENCE_TOKENS = 128


def draw_tokens(dataset: str, windows: Mapping[str, int]) -> int:
    """Tokens of one draw of ``dataset``: its window, or the prompt upper bound."""
    return int(windows.get(dataset, PROMPT_TOKENS))


def job_work(job: Job, cache_units: int, windows: Mapping[str, int]) -> Work:
    """Every Compute of the job's schedule is one forward + backward pass over one draw."""
    computes = [
        op
        for op in schedule(dict(job.density), job.pairs, cache_units).ops
        if isinstance(op, Compute)
    ]
    tokens = sum(draw_tokens(op.unit.dataset, windows) for op in computes)
    return Work(gradient_tokens=tokens, gradient_passes=len(computes))


def sts_work(pairs: int) -> Work:
    """Two passes per pair (one per sentence)."""
    return Work(gradient_tokens=2 * pairs * SENTENCE_TOKENS, gradient_passes=2 * pairs)


def validation_work(
    section: Mapping[str, Any], windows: Mapping[str, int], num_layers: int
) -> Work:
    """Validations 1-2: one pruned model per distinct (ratio profile,
    calibration set), each scored on the evaluation sets, and the dense model
    scored once. Pruning layer i runs the calibration inputs through layers
    0..i (prune.input_sq_norms), (L + 1) / 2 full forwards per input in all."""
    models = {("uniform", section["calibration"]), ("density", section["calibration"])}
    models |= {("uniform", name) for name in section["calibration_sets"]}
    depth = (num_layers + 1) / 2
    calibration = sum(
        int(section["calibration_samples"]) * draw_tokens(c, windows) * depth for _, c in models
    )
    evaluation = int(section["eval_samples"]) * sum(
        draw_tokens(name, windows) for name in section["evaluation"]
    )
    # scoring, sorting and masking every weight of each
    # pruned model: priced as two gradient passes' traffic
    return Work(
        forward_tokens=calibration + (len(models) + 1) * evaluation, gradient_passes=2 * len(models)
    )
