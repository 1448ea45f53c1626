"""LLMDcos and the paper's layer range, against numpy written out here."""

import numpy as np
import pytest
import torch

from lmanatomy.errors import DataError, NumericalError
from lmanatomy.paramact import deep_mean, deep_range, llmdcos


def _numpy_cos(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a @ b / np.sqrt((a @ a) * (b @ b))


def test_llmdcos_equals_numpy_per_layer():
    rng = np.random.default_rng(0)
    a = [np.abs(rng.normal(size=n)).astype(np.float32) for n in (50, 70, 90)]
    b = [np.abs(rng.normal(size=n)).astype(np.float32) for n in (50, 70, 90)]
    expected = [_numpy_cos(x, y) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(llmdcos(a, b), expected, rtol=1e-6)
    # per layer as several weight tensors: the same vector split into (10, 5) and (20,) pieces
    split = [
        [torch.from_numpy(v[:50].reshape(10, 5)), torch.from_numpy(v[50:])]
        for v in (np.concatenate(a[:2]),)
    ]
    split_b = [
        [torch.from_numpy(v[:50].reshape(10, 5)), torch.from_numpy(v[50:])]
        for v in (np.concatenate(b[:2]),)
    ]
    assert llmdcos(split, split_b)[0] == pytest.approx(
        _numpy_cos(np.concatenate(a[:2]), np.concatenate(b[:2])), rel=1e-6
    )


def test_llmdcos_is_one_for_proportional_and_zero_for_disjoint_inputs():
    x = np.array([1.0, 2.0, 0.0, 0.0])
    assert llmdcos([x], [3 * x])[0] == pytest.approx(1.0)
    assert llmdcos([x], [np.array([0.0, 0.0, 1.0, 5.0])])[0] == 0.0


def test_zero_vector_and_shape_mismatch_are_errors():
    with pytest.raises(NumericalError, match="layer 0"):
        llmdcos([np.zeros(3)], [np.ones(3)])
    with pytest.raises(DataError, match="layers"):
        llmdcos([np.ones(3)], [np.ones(3), np.ones(3)])
    with pytest.raises(DataError, match="shapes differ"):
        llmdcos([np.ones(3)], [np.ones(4)])


def test_deep_range_is_the_papers_l_half_to_l_minus_3():
    # The paper's code averages range(L // 2, L - 2): layers 16..29 of Llama-2-7B's 32.
    assert deep_range(32) == (16, 29)
    assert deep_range(30) == (15, 27)
    assert deep_range(40) == (20, 37)
    values = np.arange(32, dtype=float)
    assert deep_mean(values, 32) == pytest.approx(np.mean(np.arange(16, 30)))
    with pytest.raises(DataError):
        deep_range(4)


def test_scores_and_similarity_do_not_import_each_other():
    """The cycle scores ↔ similarity is broken: the shared dots live in paramact.dots."""
    import ast
    from pathlib import Path

    import lmanatomy.paramact.scores as scores

    tree = ast.parse(Path(scores.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "lmanatomy.paramact.similarity" not in imported
