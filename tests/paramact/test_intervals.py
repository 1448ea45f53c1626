"""Finding 1's intervals: the subset bootstrap against
the definition's plain loop over every weight."""

import numpy as np
import pytest
import torch

from lmanatomy.paramact.intervals import ParameterSample, density_intervals
from lmanatomy.paramact.reference import bootstrap_shares
from lmanatomy.paramact.scores import Scores


def _layers(n=12, sizes=(3000, 3000, 3000, 3000), seed=0):
    """Per layer (n samples, weights) of A: shallow layers larger, samples differing in scale."""
    rng = np.random.default_rng(seed)
    scale = rng.lognormal(0, 0.5, size=(n, 1))
    return [
        scale * rng.lognormal(-1.0 - 0.4 * layer, 1.0, size=(n, size))
        for layer, size in enumerate(sizes)
    ]


def _exact_share(stacked, thresholds):
    return np.array(
        [[np.count_nonzero(s.mean(axis=0) > g) / s.shape[1] for g in thresholds] for s in stacked]
    )


def test_with_every_weight_in_the_subset_the_interval_is_the_definitions():
    stacked, thresholds = _layers(), [0.2, 0.5]
    ratio = _exact_share(stacked, thresholds)
    ours = density_intervals(stacked, ratio, thresholds, resamples=300, seed=5)
    reference = bootstrap_shares(stacked, thresholds, resamples=300, seed=5)
    for key in ("ratio_low", "ratio_high", "gap", "gap_low", "gap_high"):
        np.testing.assert_allclose(ours[key], reference[key], rtol=0, atol=1e-12)
    assert (ours["ratio_low"] <= ratio).all() and (
        ratio <= ours["ratio_high"]
    ).all()  # centred on the exact share
    assert (ours["gap_low"] < ours["gap"]).all() and (ours["gap"] < ours["gap_high"]).all()


def test_a_subset_of_the_weights_gives_nearly_the_definitions_interval():
    stacked, thresholds = _layers(sizes=(20000,) * 4), [0.3]
    ratio = _exact_share(stacked, thresholds)
    reference = bootstrap_shares(stacked, thresholds, resamples=200, seed=1)
    rng = np.random.default_rng(9)
    subset = [s[:, np.sort(rng.choice(s.shape[1], 4096, replace=False))] for s in stacked]
    ours = density_intervals(subset, ratio, thresholds, resamples=200, seed=1)
    widths = reference["ratio_high"] - reference["ratio_low"]
    # The same resamples; only the weights counted differ,
    # so the widths agree to a fraction of themselves.
    np.testing.assert_allclose(ours["ratio_high"] - ours["ratio_low"], widths, rtol=0.35)
    np.testing.assert_allclose(
        ours["gap_high"] - ours["gap_low"], reference["gap_high"] - reference["gap_low"], rtol=0.35
    )
    assert ours["gap"] == pytest.approx(reference["gap"])  # the point estimate is the exact one


def test_one_sample_has_no_interval():
    stacked = [s[:1] for s in _layers()]
    out = density_intervals(stacked, _exact_share(stacked, [0.5]), [0.5])
    assert (
        np.isnan(out["ratio_low"]).all()
        and np.isnan(out["gap_high"]).all()
        and not np.isnan(out["gap"]).any()
    )


def test_parameter_sample_keeps_the_seeded_positions_of_the_flattened_layer():
    shapes = [[(4, 5), (3, 2)], [(7,), (2, 2)]]
    sizes = [sum(int(np.prod(s)) for s in layer) for layer in shapes]
    sample = ParameterSample(sizes, size=10, seed=3)
    flats = []
    for k in range(3):
        gen = torch.Generator().manual_seed(k)
        layers = [[torch.rand(s, generator=gen) for s in layer] for layer in shapes]
        sample.add(Scores(layers=layers, names=[("a", "b")] * 2, D=1.0, token_id=0, n_tokens=3))
        flats.append([torch.cat([t.reshape(-1) for t in layer]).numpy() for layer in layers])
    values = sample.values()
    assert [v.shape for v in values] == [(3, 10), (3, 10)]
    for layer in range(2):
        assert len(set(sample.positions[layer])) == 10
        expected = np.stack([flat[layer][sample.positions[layer]] for flat in flats])
        np.testing.assert_array_equal(values[layer], expected)
    small = ParameterSample([6], size=10)
    assert list(small.positions[0]) == list(range(6))
