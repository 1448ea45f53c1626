"""The shared statistics against independent references: a plain-loop bootstrap, scipy's bootstrap
and Wilson interval, and hand-checked same-layer random controls."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, bootstrap

from lmanatomy.stats import (
    bootstrap_mean,
    bootstrap_means,
    mover_mean,
    normal_interval,
    percentile_interval,
    resample_indices,
    same_layer_random,
    wilson,
)


def _plain_loop_interval(values, resamples, seed, level=0.95):
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    means = []
    for row in draws:
        total = 0.0
        for i in row:
            total += values[i]
        means.append(total / len(values))
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def test_bootstrap_mean_equals_a_plain_loop_over_the_same_draws():
    values = np.arange(10.0) ** 2
    mean, low, high = bootstrap_mean(values, resamples=100, seed=4)
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx(_plain_loop_interval(values, 100, 4))
    _, low90, high90 = bootstrap_mean(values, resamples=100, seed=4, level=0.9)
    assert (low90, high90) == pytest.approx(_plain_loop_interval(values, 100, 4, 0.9))
    assert low < low90 < high90 < high


def test_bootstrap_mean_agrees_with_scipys_percentile_bootstrap():
    values = np.random.default_rng(3).normal(0.1, 0.2, size=48)
    _, low, high = bootstrap_mean(values, resamples=4000, seed=0)
    ref = bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", random_state=1
    ).confidence_interval
    assert (
        abs(low - ref.low) < 0.015 and abs(high - ref.high) < 0.015
    )  # different draws: resampling noise only


def test_bootstrap_mean_drops_nan_and_needs_min_n_units():
    values = np.array([1.0, np.nan, 3.0, 5.0])
    assert bootstrap_mean(values, 200, 1) == bootstrap_mean(np.array([1.0, 3.0, 5.0]), 200, 1)
    assert np.isnan(bootstrap_mean(np.array([2.0]), 100, 0, min_n=2)).all()
    assert bootstrap_mean(np.array([2.0]), 100, 0) == (2.0, 2.0, 2.0)
    assert np.isnan(bootstrap_mean(np.array([]), 100, 0)).all()


def test_bootstrap_means_share_the_resampled_units():
    k = np.array([-0.5, -0.2, 0.1, -0.4, -0.3])
    r = np.array([-0.1, 0.0, 0.2, -0.2, 0.1])
    out = bootstrap_means({"k": k, "r": r, "d": k - r}, resamples=500, seed=7)
    draws = resample_indices(5, 500, 7)
    for name, values in (("k", k), ("r", r), ("d", k - r)):
        per_draw = np.array([np.mean([values[i] for i in row]) for row in draws])
        assert out[name] == pytest.approx((values.mean(), *np.quantile(per_draw, [0.025, 0.975])))
    with pytest.raises(ValueError, match="unequal length"):
        bootstrap_means({"a": k, "b": r[:3]}, 10, 0)


def test_percentile_interval_is_numpys_quantile_per_column():
    estimates = np.random.default_rng(0).normal(size=(300, 4))
    low, high = percentile_interval(estimates, 0.9)
    assert np.allclose(low, np.quantile(estimates, 0.05, axis=0)) and np.allclose(
        high, np.quantile(estimates, 0.95, axis=0)
    )
    with pytest.raises(ValueError, match="level"):
        percentile_interval(estimates, 95)


@pytest.mark.parametrize("k, n", [(0, 5), (3, 7), (16, 16), (40, 64), (30, 152)])
def test_wilson_equals_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(k, n) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_wilson_rejects_impossible_counts_and_has_no_interval_at_n_0():
    assert np.isnan(wilson(0, 0)).all()
    with pytest.raises(ValueError, match="hits <= n"):
        wilson(5, 4)


def _census(layers=3, modules=("a", "b"), width=10) -> pd.DataFrame:
    rows = [
        {"layer": layer, "module": f"l{layer}.{m}", "channel": c}
        for layer in range(layers)
        for m in modules
        for c in range(width)
    ]
    return pd.DataFrame(rows)


def test_same_layer_random_draws_the_same_count_per_layer_from_other_units():
    census = _census()
    chosen = pd.DataFrame(
        {"layer": [0, 0, 2], "module": ["l0.a", "l0.b", "l2.a"], "channel": [1, 2, 3]}
    )
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        drawn = same_layer_random(chosen, census, rng)
        assert drawn.groupby("layer").size().to_dict() == {0: 2, 2: 1}
        assert not set(zip(drawn["module"], drawn["channel"], strict=False)) & set(
            zip(chosen["module"], chosen["channel"], strict=False)
        )
        assert not drawn.duplicated().any()
        seen |= set(zip(drawn["layer"], drawn["module"], drawn["channel"], strict=False))
    # Every free unit of the chosen layers turns up: 18 free in layer 0, 19 in layer 2.
    assert len(seen) == 18 + 19


def test_same_layer_random_is_a_seeded_choice_over_each_layers_free_units_in_census_order():
    census = _census(layers=2, modules=("a",), width=6)
    chosen = pd.DataFrame(
        {"layer": [0, 1, 1], "module": ["l0.a", "l1.a", "l1.a"], "channel": [4, 0, 5]}
    )
    drawn = same_layer_random(chosen, census, np.random.default_rng(11))
    rng = np.random.default_rng(11)
    free0, free1 = [0, 1, 2, 3, 5], [1, 2, 3, 4]
    expected0 = [free0[i] for i in sorted(rng.choice(5, size=1, replace=False))]
    expected1 = [free1[i] for i in sorted(rng.choice(4, size=2, replace=False))]
    assert drawn["channel"].tolist() == expected0 + expected1
    assert drawn["layer"].tolist() == [0, 1, 1]


def test_same_layer_random_names_a_layer_with_too_few_free_units():
    census = _census(layers=1, modules=("a",), width=3)
    chosen = pd.DataFrame({"layer": [0, 0], "module": ["l0.a", "l0.a"], "channel": [0, 1]})
    with pytest.raises(ValueError, match="layer 0: 2 random units wanted, only 1"):
        same_layer_random(chosen, census, np.random.default_rng(0))


def test_normal_interval_is_the_estimate_plus_minus_z_bootstrap_standard_errors():
    replicates = np.random.default_rng(2).normal(3.0, 0.5, size=(400, 2))
    low, high = normal_interval(np.array([3.1, 2.9]), replicates, 0.95)
    se = np.array(
        [
            np.sqrt(sum((r - replicates[:, j].mean()) ** 2 for r in replicates[:, j]) / 399)
            for j in range(2)
        ]
    )
    assert np.allclose(low, [3.1, 2.9] - 1.959963984540054 * se) and np.allclose(
        high, [3.1, 2.9] + 1.959963984540054 * se
    )


def test_mover_mean_of_one_estimate_is_its_own_interval_and_of_many_the_root_sum_of_squares():
    mean, interval = mover_mean([0.3], [(0.1, 0.4)])
    assert mean == pytest.approx(0.3) and interval == pytest.approx((0.1, 0.4))
    mean, (low, high) = mover_mean([0.2, 0.4, 0.0], [(0.1, 0.5), (0.3, 0.45), (-0.2, 0.1)])
    assert mean == pytest.approx(0.2)
    assert low == pytest.approx(0.2 - np.sqrt(0.1**2 + 0.1**2 + 0.2**2) / 3)
    assert high == pytest.approx(0.2 + np.sqrt(0.3**2 + 0.05**2 + 0.1**2) / 3)
