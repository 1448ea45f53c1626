"""Scoring of the validation experiments: perplexity against the model's own
loss, and a whole (tiny) validation run keeping dense weights apart from pruned ones."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lmanatomy.paramact.prompts import Draws
from lmanatomy.paramact.validation import Plan, perplexity, run_validation
from lmanatomy.testing import tiny_model


def test_perplexity_equals_the_models_own_loss(tokenizer):
    torch.set_num_threads(1)
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    texts = [
        tok(t, return_tensors="pt").input_ids
        for t in ["the cat sat on the mat", "a dog ran far away today"]
    ]
    with torch.no_grad():
        losses = [(float(model(input_ids=t, labels=t).loss), t.shape[1] - 1) for t in texts]
    expected = math.exp(sum(loss * n for loss, n in losses) / sum(n for _, n in losses))
    value, low, high, n = perplexity(model, texts, resamples=200)
    assert value == pytest.approx(expected, rel=1e-5) and low <= value <= high and n == 2


def test_tiny_validation_run(tokenizer):
    torch.set_num_threads(1)
    model, tok = tiny_model("llama", tokenizer=tokenizer, layers=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    boolq = pd.DataFrame(
        {
            "id": [str(i) for i in range(10)],
            "question": [f"is {i} even" for i in range(10)],
            "passage": [f"number {i}" for i in range(10)],
            "label": [i % 2 == 0 for i in range(10)],
        }
    )
    text = pd.DataFrame(
        {
            "id": [str(i) for i in range(10)],
            "text": [f"the number {i} follows {i - 1} and precedes {i + 1}" for i in range(10)],
        }
    )
    draws = {
        "boolq": Draws("boolq", boolq, "boolq", tok, 0),
        "wiki": Draws("wiki", text, "text", tok, 0),
    }
    plan = Plan(0.5, 0.1, "wanda", "wiki", ("boolq", "wiki"))
    runs, ratios = run_validation(
        model,
        tok,
        draws,
        plan,
        [0.3, 0.2, 0.1],
        calibration_samples=3,
        eval_samples=4,
        evaluation=["boolq", "wiki"],
    )
    assert list(runs["experiment"]) == ["dense"] * 2 + ["1"] * 4 + ["2"] * 4
    assert np.average(ratios["density_ratio"], weights=ratios["parameters"]) == pytest.approx(0.5)
    assert np.average(ratios["reached_density"], weights=ratios["parameters"]) == pytest.approx(
        0.5, abs=0.02
    )
    assert ((runs["low"] <= runs["value"]) & (runs["value"] <= runs["high"])).all()
    for key, value in model.state_dict().items():  # the model is handed back dense
        assert torch.equal(value, before[key]), key


def test_validation_report_tables_and_lines(tmp_path):
    from lmanatomy.paramact.report import Context
    from lmanatomy.paramact.validation_report import validation_report

    rows = []
    for experiment, allocation, calibration, acc, ppl in [
        ("dense", "none", "", 0.8, 10.0),
        ("1", "uniform", "t", 0.6, 20.0),
        ("1", "density", "t", 0.7, 25.0),
        ("2", "uniform", "q", 0.75, 22.0),
        ("2", "uniform", "t", 0.6, 20.0),
    ]:
        rows.append(
            [experiment, allocation, calibration, "q", "accuracy", acc, acc - 0.1, acc + 0.1, 16]
        )
        rows.append(
            [experiment, allocation, calibration, "t", "perplexity", ppl, ppl - 1, ppl + 1, 16]
        )
    pd.DataFrame(
        rows,
        columns=[
            "experiment",
            "allocation",
            "calibration",
            "evaluation",
            "metric",
            "value",
            "low",
            "high",
            "n",
        ],
    ).to_csv(tmp_path / "runs.csv", index=False)
    pd.DataFrame(
        {
            "layer": [0, 1],
            "parameters": [4, 4],
            "density": [0.2, 0.1],
            "uniform": [0.5, 0.5],
            "density_ratio": [0.45, 0.55],
            "reached_density": [0.5, 0.5],
        }
    ).to_csv(tmp_path / "ratios.csv", index=False)
    out = {
        k: tmp_path / f"{k}.{k.split('_')[1]}"
        for k in ("v1_csv", "v1_md", "ratios_csv", "v2_csv", "v2_md", "v2_png")
    }
    ctx = Context({}, "m", "M", 2, 1.0, ("a note.",))
    lines = validation_report(tmp_path / "runs.csv", tmp_path / "ratios.csv", ctx, 0.5, out)
    assert lines[0].startswith("Validation 1: density-derived ratios beat uniform ones on 1 of 2")
    assert (
        "q: best calibration set is q (its own)." in lines
        and "t: best calibration set is t (its own)." in lines
    )
    assert (
        "0.700 [0.600, 0.800]" in out["v1_md"].read_text() and out["v2_png"].stat().st_size > 10_000
    )
