"""The schedule: every LLMDcos sample once, every count sample once, cache never exceeded."""

import itertools

import pytest

from lmanatomy.errors import ConfigError
from lmanatomy.paramact.plan import (
    Compute,
    Pair,
    Unit,
    draws_needed,
    job_from_params,
    job_params,
    jobs_for,
    schedule,
    study_pairs,
)

SECTION = {
    "task_datasets": ["boolq", "mmlu", "humaneval"],
    "general_datasets": ["flores_en"],
    "boxplot_pairs": [["boolq", "boolq"], ["mmlu", "boolq"]],
    "heatmap_datasets": ["boolq", "mmlu", "humaneval"],
    "samples": 5,
    "pair_samples": 3,
    "pair_sample_overrides": [{"pair": ["humaneval", "humaneval"], "samples": 1}],
}


def _simulate(plan, cache_units):
    """Replay a schedule: check slot contents, return dots done and units accumulated."""
    slots, work, dots, accumulated = {}, None, [], []
    for op in plan.ops:
        if isinstance(op, Compute):
            work = op.unit
            if op.accumulate:
                accumulated.append(op.unit)
            if op.slot is not None:
                assert 0 <= op.slot < cache_units
                slots[op.slot] = op.unit
        else:
            assert slots[op.a_slot] == op.a
            assert (work if op.b_slot is None else slots[op.b_slot]) == op.b
            assert {op.a, op.b} == set(op.pair.units(op.index))
            dots.append((op.pair, op.index))
    return dots, accumulated


def test_pair_units_within_and_cross():
    assert Pair("a", "a", 4).units(2) == (Unit("a", 4), Unit("a", 5))
    assert Pair("a", "b", 4).units(2) == (Unit("a", 4), Unit("b", 4))


def test_study_pairs_union_of_boxplots_and_heatmap_in_canonical_order():
    pairs = study_pairs(SECTION)
    keys = [(p.x, p.y, p.samples) for p in pairs]
    assert keys == [
        ("boolq", "boolq", 3),
        ("boolq", "mmlu", 3),
        ("boolq", "humaneval", 3),
        ("mmlu", "mmlu", 3),
        ("mmlu", "humaneval", 3),
        ("humaneval", "humaneval", 1),
    ]


@pytest.mark.parametrize("cache_units", [1, 2, 3, 4, 8])
def test_schedule_covers_every_sample_exactly_once(cache_units):
    [job] = jobs_for(SECTION)
    density = dict(job.density)
    plan = schedule(density, job.pairs, cache_units)
    dots, accumulated = _simulate(plan, cache_units)
    expected = [(p, i) for p in job.pairs for i in range(p.samples)]
    assert sorted(dots, key=repr) == sorted(expected, key=repr)
    assert sorted(accumulated, key=repr) == sorted(
        [Unit(d, j) for d, n in density.items() for j in range(n)], key=repr
    )
    distinct = {op.unit for op in plan.ops if isinstance(op, Compute)}
    assert distinct == {
        Unit(d, j) for d, n in draws_needed(density, job.pairs).items() for j in range(n)
    }
    if cache_units >= 3:  # as many slots as paired datasets: no input is scored twice
        assert plan.passes == len(distinct)
    else:
        assert plan.passes > len(distinct)


def test_cache_of_one_costs_at_most_two_passes_per_pair_sample():
    pairs = [Pair("a", "b", 4)]
    plan = schedule({}, pairs, 1)
    assert plan.passes == 8
    assert schedule({}, pairs, 0 + 1).passes == schedule({}, pairs, 5).passes


def test_schedule_needs_a_cache_for_pairs():
    with pytest.raises(ConfigError, match="cache_units"):
        schedule({}, [Pair("a", "a", 1)], 0)
    assert schedule({"a": 3}, [], 0).passes == 3


def test_split_jobs_and_params_round_trip():
    jobs = jobs_for({**SECTION, "jobs": "split"})
    names = [j.name for j in jobs]
    assert names[:4] == ["density-boolq", "density-mmlu", "density-humaneval", "density-flores_en"]
    assert "pair-boolq-mmlu" in names and len(names) == 4 + 6
    for job in jobs:
        assert job_from_params(job_params(job)) == job
    with pytest.raises(ConfigError, match="paramact.jobs"):
        jobs_for({**SECTION, "jobs": "many"})


def test_draws_needed():
    assert draws_needed({"a": 5}, [Pair("a", "a", 3), Pair("a", "b", 4)]) == {"a": 7, "b": 7}
    assert draws_needed({"a": 1}, [Pair("b", "b", 2)]) == {"a": 1, "b": 4}


def test_every_combination_of_small_plans_is_consistent():
    for n_a, n_b, k in itertools.product([0, 1, 3], [1, 2], [1, 2]):
        density = {"a": n_a} if n_a else {}
        pairs = [Pair("a", "b", n_b), Pair("b", "b", n_b)]
        plan = schedule(density, pairs, k)
        dots, accumulated = _simulate(plan, k)
        assert len(dots) == 2 * n_b and len(accumulated) == n_a
