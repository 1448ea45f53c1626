"""The bootstrap interval of a pair's mean test R² against a plain loop over the same resamples."""

import warnings

import numpy as np
import pandas as pd

from lmanatomy.redundancy.analysis import pair_summary
from lmanatomy.redundancy.fitting import SVRSettings, fit_pair
from lmanatomy.redundancy.interval import draw_counts, draw_indices, pair_interval, resampled_r2
from lmanatomy.redundancy.svr import r2_scores


def _data(seed=0, n=30, dims=5):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, dims)) * np.array([1.0, 3.0, 0.2, 1.0, 5.0])[:dims] + 10.0
    prediction = y + rng.normal(scale=0.8, size=y.shape)
    identity = y + rng.normal(scale=1.5, size=y.shape)
    return y, prediction, identity


def _loop_means(y, prediction, identity, resamples, seed):
    """Per resample, the mean over dims of R² and of the
    gain, each resample's rows indexed out one by one."""
    r2_means, gain_means = [], []
    for rows in draw_indices(len(y), resamples, seed):
        r2, _ = r2_scores(y[rows], prediction[rows])
        base, _ = r2_scores(y[rows], identity[rows])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r2_means.append(np.nanmean(r2))
            gain_means.append(np.nanmean(r2 - base))
    return np.array(r2_means), np.array(gain_means)


def test_resampled_r2_equals_r2_on_the_indexed_rows():
    y, prediction, _ = _data()
    counts = draw_counts(len(y), 50, seed=3)
    fast = resampled_r2(y, prediction, counts)
    for b, rows in enumerate(draw_indices(len(y), 50, seed=3)):
        np.testing.assert_allclose(
            fast[b], r2_scores(y[rows], prediction[rows])[0], rtol=1e-10, atol=1e-12
        )


def test_pair_interval_is_the_percentile_interval_of_the_loop():
    y, prediction, identity = _data(seed=1)
    interval = pair_interval(y, prediction, identity, resamples=400, seed=7)
    r2_means, gain_means = _loop_means(y, prediction, identity, 400, 7)
    np.testing.assert_allclose(interval.mean_r2, np.percentile(r2_means, [2.5, 97.5]), rtol=1e-10)
    np.testing.assert_allclose(
        interval.mean_gain, np.percentile(gain_means, [2.5, 97.5]), rtol=1e-10
    )
    point = np.nanmean(r2_scores(y, prediction)[0])
    assert interval.mean_r2[0] < point < interval.mean_r2[1]
    assert (interval.resamples, interval.seed) == (400, 7)


def test_a_constant_target_is_left_out_as_in_r2_scores():
    y, prediction, identity = _data(seed=2)
    y[:, 2] = 4.0  # undefined R² in the full test set and in every resample
    interval = pair_interval(y, prediction, identity, resamples=200, seed=0)
    r2_means, gain_means = _loop_means(y, prediction, identity, 200, 0)
    assert np.isnan(resampled_r2(y, prediction, draw_counts(len(y), 5))[:, 2]).all()
    np.testing.assert_allclose(interval.mean_r2, np.percentile(r2_means, [2.5, 97.5]), rtol=1e-10)
    np.testing.assert_allclose(
        interval.mean_gain, np.percentile(gain_means, [2.5, 97.5]), rtol=1e-10
    )


def test_fitted_rows_carry_the_interval_into_the_pair_summary():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x @ rng.normal(size=(4, 4)) + 0.3 * rng.normal(size=(60, 4))).astype(np.float32)
    arrays = {"x_train": x[:40], "y_train": y[:40], "x_test": x[40:], "y_test": y[40:]}
    rows, model = fit_pair(arrays, 3, SVRSettings())
    expected = pair_interval(
        y[40:],
        model.predict(x[40:]).cpu().numpy(),
        x[40:] * rows["identity_slope"].to_numpy()
        + (y[:40].mean(0) - rows["identity_slope"].to_numpy() * x[:40].mean(0)),
    )
    summary = pair_summary(rows)
    assert summary.loc[0, "n_test"] == 20 and rows["ci_resamples"].eq(1000).all()
    assert (
        summary.loc[0, "mean_r2_ci95_low"],
        summary.loc[0, "mean_r2_ci95_high"],
    ) == expected.mean_r2
    assert (
        summary.loc[0, "mean_gain_ci95_low"],
        summary.loc[0, "mean_gain_ci95_high"],
    ) == expected.mean_gain
    assert (
        summary.loc[0, "mean_r2_ci95_low"]
        < summary.loc[0, "mean_r2"]
        < summary.loc[0, "mean_r2_ci95_high"]
    )
    # pair files written before the intervals: the summary says NaN rather than failing
    old = pair_summary(
        rows.drop(
            columns=[
                "mean_r2_ci95_low",
                "mean_r2_ci95_high",
                "mean_gain_ci95_low",
                "mean_gain_ci95_high",
            ]
        )
    )
    assert pd.isna(old.loc[0, "mean_r2_ci95_low"])


def test_the_mean_figures_say_n_and_the_interval_widths():
    from lmanatomy.redundancy.figures import interval_caption

    summary = pd.DataFrame(
        {
            "pair": ["1→2", "2→3"],
            "n_test": [20, 20],
            "mean_r2": [0.5, 0.8],
            "mean_r2_ci95_low": [0.4, 0.75],
            "mean_r2_ci95_high": [0.6, 0.9],
        }
    )
    caption = interval_caption(summary, "mean_r2")
    assert "n = 20 test sentences" in caption and "± 0.075 to ± 0.100" in caption
    assert interval_caption(summary, "max_r2") == ""  # no interval for the maxima
    assert (
        interval_caption(
            summary.assign(mean_r2_ci95_low=np.nan, mean_r2_ci95_high=np.nan), "mean_r2"
        )
        == ""
    )


def test_too_few_test_sentences_give_no_interval_rather_than_a_false_one():
    """2 sentences: half the resamples draw one sentence
    twice (R² undefined); the rest all equal the point."""
    y, prediction, identity = _data(seed=3, n=2)
    interval = pair_interval(y, prediction, identity, resamples=200)
    assert np.isnan(interval.mean_r2).all() and np.isnan(interval.mean_gain).all()
    assert np.isfinite(pair_interval(*_data(seed=3, n=12), resamples=200).mean_r2).all()
