"""Rank correlations between layer profiles, against scipy and hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lmanatomy.atlas.compare import (
    AGREE,
    OPPOSE,
    UNDECIDED,
    bootstrap_spearman,
    paragraph,
    rank_correlations,
    reading,
    spearman,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spearman_equals_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, size=30).astype(float)  # many ties
    y = x + rng.normal(size=30)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_constant_profile_has_no_correlation():
    assert np.isnan(spearman(np.ones(6), np.arange(6.0)))


def test_bootstrap_interval_is_the_percentile_of_a_plain_loop():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20)
    y = x + rng.normal(size=20)
    rho, low, high = bootstrap_spearman(x, y, resamples=200, seed=7)
    draws = np.random.default_rng(7).integers(0, 20, size=(200, 20))
    loop = []
    for d in draws:
        value = stats.spearmanr(x[d], y[d]).statistic
        if not np.isnan(value):
            loop.append(value)
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert (low, high) == pytest.approx(tuple(np.percentile(loop, [2.5, 97.5])))


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (0.1, 0.9, AGREE),
        (-0.8, -0.2, OPPOSE),
        (-0.1, 0.5, UNDECIDED),
        (0.0, 0.5, UNDECIDED),
        (float("nan"), float("nan"), UNDECIDED),
    ],
)
def test_reading_by_interval(low, high, expected):
    assert reading(low, high) == expected


def test_pairs_use_shared_layers_only_and_read_their_intervals():
    layers = np.arange(24)
    profiles = pd.DataFrame(
        {
            "up": layers * 1.0,
            "down": -layers * 1.0 + 0.01 * np.sin(layers),
            "sparse": np.where(layers < 3, layers, np.nan),
        },
        index=layers,
    )
    table = rank_correlations(profiles, resamples=200, seed=0)
    by_pair = {(r.profile_a, r.profile_b): r for r in table.itertuples()}
    assert by_pair[("up", "down")].spearman == pytest.approx(-1.0)
    assert by_pair[("up", "down")].reading == OPPOSE
    assert by_pair[("up", "sparse")].units == 3 and np.isnan(by_pair[("up", "sparse")].spearman)
    text = paragraph(table, {"up": "Up", "down": "Down"})
    assert (
        "Up and Down run opposite" in text
        and "2 of 3 pairs of different studies are undecided" in text
    )
    assert by_pair[("up", "down")].units == 24


def test_a_blocked_profile_is_compared_range_by_range():
    layers = np.arange(12)
    lesion = np.repeat([3.0, 1.0, 2.0, 0.0], 3)  # four ranges of three layers
    other = layers * 1.0
    profiles = pd.DataFrame(
        {"lesion_drop": lesion, "redundancy_r2": other, "redundancy_gain": -other}, index=layers
    )
    blocks = {"lesion_drop": [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]}
    table = rank_correlations(profiles, resamples=200, seed=0, min_layers=4, blocks=blocks)
    row = table[
        (table["profile_a"] == "lesion_drop") & (table["profile_b"] == "redundancy_r2")
    ].iloc[0]
    assert (row["units"], row["unit"], row["reading"]) == (
        4,
        "ranges",
        "undecided",
    )  # 4 units: never read
    assert row["spearman"] == pytest.approx(stats.spearmanr([3, 1, 2, 0], [1, 4, 7, 10]).statistic)
    same = table[
        (table["profile_a"] == "redundancy_r2") & (table["profile_b"] == "redundancy_gain")
    ].iloc[0]
    assert same["same_study"] and same["unit"] == "layers"
    assert "redundancy: R²" not in paragraph(table, {})  # same-study pairs stay out of the text
