"""Cross-study lesion: language neurons fixed while the
evaluator scores tasks (tiny model, hand-made task)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lmanatomy.atlas.lesions import (
    change_table,
    conditions,
    paired_change,
    pattern,
    run_lesions,
)
from lmanatomy.evaluation import GenerationSettings
from lmanatomy.evaluation.tasks import TASKS, build_task
from lmanatomy.language.neurons import NeuronTable


def test_patterns_fix_zero_or_the_mean():
    neurons = pd.DataFrame({"layer": [0, 1], "module": ["m0", "m1"], "channel": [2, 0]})
    means = {"m0": np.array([0.0, 0.0, 1.5]), "m1": np.array([-2.0])}
    assert pattern(neurons, "zero")["value"].tolist() == [0.0, 0.0]
    assert pattern(neurons, "mean", means)["value"].tolist() == [1.5, -2.0]
    with pytest.raises(ValueError, match="unknown ablation setting"):
        pattern(neurons, "median", means)


def test_paired_change_by_hand():
    change, low, high = paired_change(
        np.array([1, 1, 0, 0]), np.array([0, 1, 0, 1]), resamples=500, seed=0
    )
    assert change == 0.0 and low < 0 < high
    change, _, _ = paired_change(
        np.array([1, 1, 1, 1]), np.array([0, 0, 1, 1]), resamples=100, seed=0
    )
    assert change == -0.5


def test_change_table_pairs_samples():
    original = pd.DataFrame(
        {"task": ["boolq"] * 4, "sample": [0, 1, 2, 3], "correct": [True, True, False, False]}
    )
    after = pd.DataFrame(
        {"task": ["boolq"] * 4, "sample": [0, 1, 2, 3], "correct": [False, True, False, True]}
    )
    table = change_table(
        {("en", "top", "zero", "language"): after}, original, {"boolq": "en"}, 200, 0
    )
    row = table.iloc[0]
    assert (row["accuracy_before"], row["accuracy_after"], row["change"]) == (0.5, 0.5, 0.0)
    assert row["task_language"] == "en"


def test_the_whole_lesion_on_a_tiny_model(tokenizer):
    from lmanatomy.testing import tiny_model

    model, tok = tiny_model("llama", tokenizer=tokenizer, seed=2, layers=2, hidden=16, ff=32)
    census = NeuronTable.from_model(model).frame()
    census["module"] = census["module"].astype(str)
    # A selection of the study's shape: 3 top neurons of "en" and "ja" each, in layer 1.
    layer1 = census[census["layer"] == 1].head(6)
    selection = pd.DataFrame(
        {
            "language": ["en"] * 3 + ["ja"] * 3,
            "kind": "top",
            "rank": [0, 1, 2] * 2,
            "layer": layer1["layer"].to_numpy(),
            "module": layer1["module"].to_numpy(),
            "channel": layer1["channel"].to_numpy(),
        }
    )
    frame = pd.DataFrame(
        [
            {
                "id": f"{s}-{i}",
                "split": s,
                "question": f"is {i} even",
                "passage": f"number {i}",
                "label": i % 2 == 0,
            }
            for s, n in (("train", 4), ("val", 6))
            for i in range(n)
        ]
    )
    files, _ = build_task(TASKS["boolq"], frame, num_few_shots=1)
    widths = (census.groupby("module")["channel"].max() + 1).to_dict()
    rng = np.random.default_rng(0)
    store = {c: rng.normal(size=(5, w)) for c, w in widths.items()}
    section = {
        "languages": ["en", "ja"],
        "kinds": ["top"],
        "k": 3,
        "settings": ["zero", "mean"],
        "max_num_samples": 4,
        "resamples": 100,
        "seed": 0,
    }
    predictions, table = run_lesions(
        model,
        tok,
        {"boolq": files["test"]},
        selection,
        census,
        store.__getitem__,
        section,
        GenerationSettings(max_new_tokens=3, batch_size=2),
        log=lambda _: None,
    )
    assert len(table) == len(conditions(section)) == 8
    assert set(predictions["condition"]) == {
        "unablated",
        *(" ".join(c) for c in conditions(section)),
    }
    assert (table["samples"] == 4).all()
    # Each change is after − before on the same samples.
    base = predictions[predictions["condition"] == "unablated"]["correct"].mean()
    assert np.allclose(table["accuracy_before"], base)
    assert np.allclose(table["change"], table["accuracy_after"] - table["accuracy_before"])
