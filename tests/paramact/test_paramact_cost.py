"""The work each paramact job is priced by (paramact.cost), counted by hand."""

from lmanatomy.paramact.cost import (
    PROMPT_TOKENS,
    SENTENCE_TOKENS,
    job_work,
    sts_work,
    validation_work,
)
from lmanatomy.paramact.plan import Job, Pair


def test_a_counts_job_is_one_pass_per_draw():
    work = job_work(Job("density-c4", (("c4", 4),), ()), cache_units=1, windows={"c4": 256})
    assert (work.gradient_passes, work.gradient_tokens) == (4, 4 * 256)


def test_a_pair_job_is_two_passes_per_sample_without_windows():
    work = job_work(
        Job("pair-boolq-boolq", (), (Pair("boolq", "boolq", 3),)), cache_units=1, windows={}
    )
    assert (work.gradient_passes, work.gradient_tokens) == (6, 6 * PROMPT_TOKENS)


def test_sts_is_two_passes_per_pair():
    assert (sts_work(10).gradient_passes, sts_work(10).gradient_tokens) == (
        20,
        20 * SENTENCE_TOKENS,
    )


def test_validation_prunes_each_distinct_model_once_and_scores_it():
    section = {
        "calibration": "c4",
        "calibration_sets": ["c4", "wikitext2"],
        "calibration_samples": 2,
        "eval_samples": 3,
        "evaluation": ["boolq", "wikitext2"],
    }
    work = validation_work(section, {"c4": 100, "wikitext2": 50}, num_layers=3)
    # pruned models: (uniform, c4), (density, c4), (uniform,
    # wikitext2); 2 layer-forwards per input on average
    calibration = 2 * 2 * (100 + 100 + 50)
    evaluation = 4 * 3 * (PROMPT_TOKENS + 50)  # the dense model and the 3 pruned ones
    assert work.forward_tokens == calibration + evaluation
    assert work.gradient_passes == 2 * 3
