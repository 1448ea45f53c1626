"""Average precision of every neuron against sklearn's per-column reference, ties included."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from lmanatomy.errors import DataError, NumericalError
from lmanatomy.language.ap import (
    BYTES_PER_ELEMENT,
    average_precision,
    average_precision_sets,
    chunk_columns,
)


def _reference(scores, labels):
    return np.array([average_precision_score(labels, scores[:, j]) for j in range(scores.shape[1])])


def _labels(rng, n, share=0.3):
    labels = rng.random(n) < share
    labels[:2] = [True, False]
    return labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    n, m = 120, 300
    # Integer-rounded scores: every column has many tie groups, some columns are constant.
    scores = np.round(rng.normal(size=(n, m)) * rng.uniform(0.2, 3, size=m)).astype(np.float32)
    scores[:, :3] = 0.0
    scores[:, 3] = np.arange(n)
    labels = _labels(rng, n)
    got = average_precision(scores, labels, memory_mb=0.2)  # several chunks
    assert chunk_columns(n, 0.2) < m
    assert np.abs(got - _reference(scores, labels)).max() <= 1e-9


def test_matches_sklearn_on_continuous_scores_and_tiny_sizes():
    rng = np.random.default_rng(3)
    for n in (2, 3, 7, 50):
        scores = rng.normal(size=(n, 40))
        labels = _labels(rng, n, 0.5)
        assert np.abs(average_precision(scores, labels) - _reference(scores, labels)).max() <= 1e-9


def test_input_types_give_the_same_result():
    rng = np.random.default_rng(4)
    scores = np.round(rng.normal(size=(60, 50)) * 4)
    labels = _labels(rng, 60)
    reference = _reference(scores, labels)
    for variant in (
        scores.astype(np.float16),
        scores.astype(np.int64),
        torch.from_numpy(scores.astype(np.float32)),
        torch.from_numpy(scores).to(torch.bfloat16),
    ):
        got = average_precision(variant, labels.astype(np.int64))
        assert np.abs(got - reference).max() <= 1e-9
    assert np.abs(average_precision(scores, torch.from_numpy(labels)) - reference).max() <= 1e-9


def test_label_sets_share_one_sort():
    rng = np.random.default_rng(5)
    scores = np.round(rng.normal(size=(90, 70)) * 2)
    groups = rng.integers(0, 6, 90)
    sets = [groups == g for g in range(6)]
    got = average_precision_sets(scores, sets, memory_mb=0.1)
    for row, labels in enumerate(sets):
        assert np.abs(got[row] - _reference(scores, labels)).max() <= 1e-9


def test_known_values():
    # Positives ranked 1st and 3rd: AP = (1/1 + 2/3) / 2.
    scores = np.array([[0.9], [0.8], [0.7], [0.1]])
    assert average_precision(scores, [1, 0, 1, 0])[0] == pytest.approx((1 + 2 / 3) / 2, abs=1e-15)
    # All scores tied: one threshold, precision = share of positives.
    assert average_precision(np.ones((4, 1)), [1, 0, 0, 0])[0] == pytest.approx(0.25, abs=1e-15)


@pytest.mark.parametrize(
    "labels, error, match",
    [
        ([0, 0, 0, 0], DataError, "no positive"),
        ([1, 1, 1, 1], DataError, "no negative"),
        ([1, 0, 1], DataError, "length 3 but scores have 4"),
        ([1, 0, 2, 0], DataError, "binary 0/1"),
        (["en", "de", "en", "de"], DataError, "binary"),
        ([[1, 0, 1, 0]], DataError, "1-D"),
    ],
)
def test_degenerate_labels_are_errors(labels, error, match):
    with pytest.raises(error, match=match):
        average_precision(np.zeros((4, 3)), labels)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_are_errors(bad):
    scores = np.zeros((4, 3))
    scores[2, 1] = bad
    with pytest.raises(NumericalError, match="column\\) 1"):
        average_precision(scores, [1, 0, 1, 0])


def test_shape_and_budget_errors():
    with pytest.raises(DataError, match="2-D"):
        average_precision(np.zeros(4), [1, 0, 1, 0])
    with pytest.raises(DataError, match="memory budget"):
        average_precision(np.zeros((4, 2)), [1, 0, 1, 0], memory_mb=0)


def test_chunk_width_follows_the_budget():
    # Llama-2-13b at 3,000 texts: a 1 GiB budget is a few thousand neurons per chunk.
    width = chunk_columns(3000, 1024)
    assert 1000 < width < 20000
    assert width * 3000 * BYTES_PER_ELEMENT <= 1024 * 2**20
    assert chunk_columns(3000, 0.001) == 1  # never zero columns


@pytest.mark.parametrize("rounding", [None, 1, 0])
def test_value_sort_path_equals_the_torch_path_and_sklearn(rounding):
    """The CPU path (value-only NumPy sort of packed keys) against the torch.sort path and sklearn,
    with overlapping label vectors (more than two label patterns) and ±0.0 in the scores."""
    from lmanatomy.language import ap

    rng = np.random.default_rng(7)
    scores = rng.normal(size=(150, 80)).astype(np.float32)
    if rounding is not None:
        scores = np.round(scores, rounding).astype(np.float32)
    scores[:40, 5] = np.where(rng.random(40) < 0.5, np.float32(-0.0), np.float32(0.0))
    sets = [_labels(rng, 150, share) for share in (0.1, 0.3, 0.5)]
    masks = np.stack(sets)
    chunk = torch.from_numpy(scores.T.copy())
    space = ap._Workspace(80, 150)
    keys = ap._sort_keys(torch.from_numpy(scores), 0, 80, space)
    assert keys is not None
    fast = ap._ap_chunk_values(keys, masks, masks.sum(1), space)
    slow = ap._ap_chunk(chunk, torch.from_numpy(masks), masks.sum(1)).numpy()
    assert np.abs(fast - slow).max() <= 1e-12
    for row, labels in enumerate(sets):
        assert np.abs(fast[row] - _reference(scores, labels)).max() <= 1e-9
    # float64 scores that are not float32 values keep the torch path; float32-exact ones do not.
    assert ap._sort_keys(torch.from_numpy(scores.astype(np.float64) + 1e-12), 0, 80, space) is None
    assert ap._sort_keys(torch.from_numpy(scores.astype(np.float64)), 0, 80, space) is not None
