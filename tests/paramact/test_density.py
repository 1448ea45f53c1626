"""Running means and activated counts: memory vs disk, and against numpy."""

import numpy as np
import pytest
import torch

from lmanatomy.errors import DataError
from lmanatomy.paramact import RunningMean
from lmanatomy.paramact.scores import Scores

SHAPES = [[(4, 6), (3, 6)], [(5, 5)]]  # two layers: 42 and 25 weights


def _scores(rng, scale):
    layers = [
        [torch.from_numpy((np.abs(rng.normal(size=s)) * scale).astype(np.float32)) for s in layer]
        for layer in SHAPES
    ]
    return Scores(
        layers, [tuple(f"w{i}" for i in range(len(layer))) for layer in SHAPES], 1.0, 0, 3
    )


def test_disk_and_memory_running_means_are_bit_identical_and_equal_numpy(tmp_path):
    rng = np.random.default_rng(1)
    samples = [_scores(rng, 10.0 ** rng.uniform(-6, -2)) for _ in range(7)]
    memory = RunningMean([42, 25], "memory")
    disk = RunningMean([42, 25], "disk", tmp_path / "sums")
    for s in samples:
        memory.add(s)
        disk.add(s)
    assert sorted(p.name for p in (tmp_path / "sums").iterdir()) == [
        "layer_000.npy",
        "layer_001.npy",
    ]
    for layer in range(2):
        assert memory.mean(layer).numpy().tobytes() == disk.mean(layer).numpy().tobytes()
        stacked = np.stack([s.layer_vector(layer).numpy().astype(np.float64) for s in samples])
        np.testing.assert_allclose(memory.mean(layer).numpy(), stacked.mean(axis=0), rtol=1e-6)
    gammas = [1e-5, 1e-4, 1e-3]
    counts = memory.activated(gammas)
    for layer in range(2):
        mean = np.stack([s.layer_vector(layer).numpy().astype(np.float64) for s in samples]).mean(
            axis=0
        )
        assert counts[layer].tolist() == [int((mean > g).sum()) for g in gammas]
    np.testing.assert_array_equal(counts, disk.activated(gammas))
    disk.close()
    assert not (tmp_path / "sums").exists()


def test_save_means_writes_one_npy_per_layer(tmp_path):
    mean = RunningMean([42, 25], "memory")
    mean.add(_scores(np.random.default_rng(2), 1e-3))
    paths = mean.save_means(tmp_path / "means")
    assert [p.name for p in paths] == ["layer_000.npy", "layer_001.npy"]
    np.testing.assert_array_equal(np.load(paths[1]), mean.mean(1).numpy())


def test_wrong_sizes_and_empty_means_are_errors(tmp_path):
    mean = RunningMean([42, 26], "memory")
    with pytest.raises(DataError, match="layer 1"):
        mean.add(_scores(np.random.default_rng(3), 1.0))
    with pytest.raises(DataError, match="no samples"):
        RunningMean([3], "memory").mean(0)
    with pytest.raises(DataError, match="storage"):
        RunningMean([3], "cloud")
    with pytest.raises(DataError, match="directory"):
        RunningMean([3], "disk")
