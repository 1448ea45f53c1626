"""The streaming job against the in-memory definition and against numpy on a tiny model."""

import numpy as np
import pandas as pd
import pytest
import torch

from lmanatomy.errors import NumericalError
from lmanatomy.paramact import Draws, ParameterActivation
from lmanatomy.paramact.plan import Pair
from lmanatomy.paramact.reference import in_memory, near_threshold
from lmanatomy.paramact.run import run_job, thresholds_around
from lmanatomy.testing import tiny_model

PAIRS = [Pair("a", "a", 2), Pair("a", "b", 3), Pair("b", "b", 1)]
DENSITY = {"a": 5, "b": 4}


@pytest.fixture(scope="module")
def setup(tokenizer):
    torch.set_num_threads(1)
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    frames = {
        "a": pd.DataFrame(
            {
                "id": [f"a{i}" for i in range(9)],
                "text": [f"The fox number {i} jumps over {3 * i} dogs." for i in range(9)],
            }
        ),
        "b": pd.DataFrame(
            {
                "id": [f"b{i}" for i in range(9)],
                "text": [f"def add{i}(a, b):\n    return a + {i}" for i in range(9)],
            }
        ),
    }
    scorer = ParameterActivation(model)
    draws = {name: Draws(name, frame, "text", tok, seed=0) for name, frame in frames.items()}
    probe = scorer.score(draws["a"].draw(0).input_ids)
    median = float(torch.cat([probe.layer_vector(k) for k in range(len(probe))]).median())
    return scorer, draws, thresholds_around(median, 1)


@pytest.mark.parametrize("cache_units, storage", [(1, "disk"), (2, "memory"), (4, "disk")])
def test_streaming_equals_the_in_memory_definition(setup, tmp_path, cache_units, storage):
    """Counts: equal. Cosines: within 1e-6 relative (chunked
    float32 dots summed in float64 vs float64 numpy)."""
    scorer, draws, thresholds = setup
    result = run_job(
        scorer,
        draws,
        DENSITY,
        PAIRS,
        cache_units=cache_units,
        thresholds=thresholds,
        running_mean=storage,
        scratch=tmp_path / "scratch",
        means_dir=tmp_path / "means",
    )
    density, pairs, means = in_memory(scorer, draws, DENSITY, PAIRS, thresholds)
    # float32 running sums vs float64 means: counts may differ only by parameters within rounding of
    # γ (none on this model, so the counts must be equal)
    assert near_threshold(means, thresholds)["near"].sum() == 0
    intervals = ["ratio_ci95_low", "ratio_ci95_high", "gap", "gap_ci95_low", "gap_ci95_high"]
    pd.testing.assert_frame_equal(
        result.density.drop(columns=["ratio", *intervals]),
        density.drop(columns=["ratio", *intervals]),
    )
    # Every weight of the tiny model's layers is in the interval subset, so the bootstrap over
    # samples equals the definition's, recounted resample by resample over every weight.
    np.testing.assert_allclose(result.density[intervals], density[intervals], rtol=0, atol=1e-12)
    assert (result.density["ratio_ci95_low"] < result.density["ratio_ci95_high"]).any()
    pd.testing.assert_frame_equal(
        result.pairs.drop(columns="llmdcos"), pairs.drop(columns="llmdcos")
    )
    np.testing.assert_allclose(result.pairs["llmdcos"], pairs["llmdcos"], rtol=1e-6)
    for name in DENSITY:
        for layer, mean in enumerate(means[name]):
            np.testing.assert_allclose(
                np.load(tmp_path / "means" / name / f"layer_{layer:03d}.npy"), mean, rtol=1e-6
            )
    assert not (tmp_path / "scratch").exists()
    assert len(result.samples) == 5 + 5  # draws 0..4 of a and of b, each listed once
    assert result.passes >= 10


def test_memory_and_disk_jobs_give_identical_tables(setup, tmp_path):
    scorer, draws, thresholds = setup
    runs = [
        run_job(
            scorer,
            draws,
            DENSITY,
            PAIRS,
            cache_units=2,
            thresholds=thresholds,
            running_mean=s,
            scratch=tmp_path / s,
        )
        for s in ("memory", "disk")
    ]
    for attr in ("density", "pairs", "samples"):
        assert getattr(runs[0], attr).to_csv().encode() == getattr(runs[1], attr).to_csv().encode()


def test_counts_and_cosines_equal_numpy_on_the_scores(setup, tmp_path):
    """Independent of reference.py: numpy on the raw per-layer vectors of the very draws used."""
    scorer, draws, thresholds = setup
    result = run_job(
        scorer, draws, {"a": 3}, [Pair("a", "b", 2)], cache_units=1, thresholds=thresholds
    )
    vectors = {
        (n, j): [
            scorer.score(draws[n].draw(j).input_ids).layer_vector(k).double().numpy().copy()
            for k in range(2)
        ]
        for n, j in [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 2)]
    }
    for layer in range(2):
        mean = np.mean([vectors[("a", j)][layer] for j in range(3)], axis=0)
        for gamma in thresholds:
            row = result.density[
                (result.density.layer == layer) & np.isclose(result.density.threshold, gamma)
            ]
            assert int(row.activated.iloc[0]) == int((mean > gamma).sum())
            assert float(row.ratio.iloc[0]) == pytest.approx((mean > gamma).mean())
        for i in range(2):
            x, y = vectors[("a", 2 * i)][layer], vectors[("b", 2 * i)][layer]
            got = result.pairs[
                (result.pairs.layer == layer) & (result.pairs["index"] == i)
            ].llmdcos.iloc[0]
            assert got == pytest.approx(x @ y / np.sqrt((x @ x) * (y @ y)), rel=1e-6)


def test_nan_weights_fail_loudly(tokenizer):
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    with torch.no_grad():
        model.model.layers[1].mlp.up_proj.weight[0, 0] = float("nan")
    frame = pd.DataFrame({"id": ["x"], "text": ["hello there"]})
    with pytest.raises(NumericalError):
        run_job(
            ParameterActivation(model),
            {"a": Draws("a", frame, "text", tok)},
            {"a": 1},
            [],
            cache_units=1,
            thresholds=[1e-6],
        )


def test_gamma_for_a_target_share_against_numpy(setup, tmp_path):
    """The chosen γ reaches the target share (pooled over
    datasets) and one histogram bin higher does not."""
    scorer, draws, _ = setup
    result = run_job(
        scorer,
        draws,
        DENSITY,
        [],
        cache_units=1,
        thresholds=[],
        target_share=0.3,
        means_dir=tmp_path / "m",
    )
    gamma = float(result.gamma["gamma"].iloc[0])
    pooled = np.concatenate([np.load(p) for p in sorted((tmp_path / "m").rglob("layer_*.npy"))])
    assert (pooled > gamma).mean() >= 0.3 > (pooled > gamma * 10 ** (1 / 200)).mean()
    assert result.gamma["share"].iloc[0] == pytest.approx((pooled > gamma).mean())
    assert sorted(result.density["threshold"].unique()) == pytest.approx(thresholds_around(gamma))


def test_counts_with_a_divided_by_the_datasets_mean_d(setup, tmp_path):
    """mean(A)/D̄_X > γ/D̄ counted per layer, against
    numpy on the saved means and the samples' D."""
    scorer, draws, thresholds = setup
    gamma = thresholds[len(thresholds) // 2]
    result = run_job(
        scorer,
        draws,
        DENSITY,
        [],
        cache_units=1,
        thresholds=thresholds,
        gamma=gamma,
        means_dir=tmp_path / "m",
    )
    d = {
        name: result.samples[(result.samples.dataset == name) & (result.samples.draw < n)]["D"]
        for name, n in DENSITY.items()
    }
    d_all = pd.concat(list(d.values())).mean()
    for name in DENSITY:
        rows = result.by_d[result.by_d.dataset == name].sort_values("layer")
        for layer, count in zip(rows["layer"], rows["activated"], strict=True):
            mean = np.load(tmp_path / "m" / name / f"layer_{layer:03d}.npy")
            assert count == int((mean / d[name].mean() > gamma / d_all).sum())
    assert set(result.by_d["D_mean"].round(6)) == {round(v.mean(), 6) for v in d.values()}
