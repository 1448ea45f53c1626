"""Each study's output becomes a profile on the same
0-based decoder-layer axis (hand-made inputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lmanatomy.atlas.plan import inputs, reasons
from lmanatomy.atlas.profiles import (
    knowledge_profile,
    language_profile,
    lesion_profile,
    paramact_profile,
    redundancy_profile,
    wide,
)
from lmanatomy.lesion.planning import PruningPlan
from lmanatomy.lesion.report import column_label


def _plan(first: int, last: int, share: float) -> PruningPlan:
    return PruningPlan(
        layers=(first, last),
        share=share,
        ratio=0.1,
        heads=0,
        kv_heads=0,
        neurons=1,
        architecture=None,
        label=f"{first + 1}-{last + 1}",
    )


def test_lesion_ranges_are_charged_to_their_layers_and_overlaps_averaged():
    plans = {"a": _plan(0, 2, 0.02), "b": _plan(2, 4, 0.02), "c": _plan(0, 2, 0.005)}
    row = {"task": "BoolQ", "metric": "exact match", "original": 0.8}
    for key, score in (("a", 0.6), ("b", 0.7), ("c", 0.75)):
        label = column_label(plans[key])
        row.update(
            {
                label: score,
                f"{label}: n": 100,
                f"{label}: ci95_low": score - 0.1,
                f"{label}: ci95_high": score + 0.1,
            }
        )
    profile = lesion_profile(pd.DataFrame([row]), plans)
    headline = profile[profile["profile"] == "lesion_drop"].set_index("layer")["value"]
    assert headline.to_dict() == pytest.approx({0: 0.2, 1: 0.2, 2: 0.15, 3: 0.1, 4: 0.1})
    small = profile[profile["profile"] == "lesion_drop:BoolQ@0.005"].set_index("layer")
    assert list(small.index) == [0, 1, 2]
    assert small.loc[1, "value"] == pytest.approx(0.05)
    assert (small.loc[1, "ci_low"], small.loc[1, "ci_high"]) == pytest.approx((-0.05, 0.15))


def test_redundancy_pair_n_is_layer_n_with_a_bootstrap_over_dims():
    rng = np.random.default_rng(0)
    pairs = {
        s: pd.DataFrame({"r2": rng.uniform(size=50) * s, "r2_gain": rng.normal(size=50)})
        for s in (1, 2, 3)
    }
    profile = redundancy_profile(pairs, resamples=300, seed=0)
    r2 = profile[profile["profile"] == "redundancy_r2"].set_index("layer")
    assert list(r2.index) == [1, 2, 3]
    assert r2.loc[2, "value"] == pytest.approx(pairs[2]["r2"].mean())
    assert r2.loc[2, "ci_low"] < r2.loc[2, "value"] < r2.loc[2, "ci_high"]


def test_language_counts_per_layer_pool_the_languages():
    fig2 = pd.DataFrame(
        {
            "language": ["en", "en", "de", "de", "en"],
            "group": ["top", "top", "top", "bottom", "middle"],
            "layer": [0, 1, 1, 0, 0],
            "count": [3, 4, 5, 6, 7],
        }
    )
    profile = language_profile(fig2)
    top = profile[profile["profile"] == "language_top"].set_index("layer")["value"]
    assert top.to_dict() == {0: 3.0, 1: 9.0}
    assert profile[profile["profile"] == "language_bottom:de"]["value"].tolist() == [6.0]


def test_paramact_share_over_datasets_and_cross_pairs_only():
    density = pd.DataFrame(
        {
            "dataset": ["a", "a", "b", "b"],
            "layer": [0, 1, 0, 1],
            "parameters": [10, 10, 10, 10],
            "activated": [5, 1, 3, 1],
        }
    )
    llmdcos = pd.DataFrame(
        {"x": ["a", "a", "a"], "y": ["a", "b", "b"], "layer": [0, 0, 1], "llmdcos": [0.9, 0.4, 0.2]}
    )
    profile = paramact_profile(density, llmdcos, resamples=100, seed=0)
    share = profile[profile["profile"] == "paramact_activated"].set_index("layer")["value"]
    assert share.to_dict() == pytest.approx({0: 0.4, 1: 0.1})
    cross = profile[profile["profile"] == "paramact_cross_llmdcos"].set_index("layer")["value"]
    assert cross.to_dict() == pytest.approx({0: 0.4, 1: 0.2})


def test_wide_lines_up_every_decoder_layer():
    profile = pd.concat(
        [
            knowledge_profile(
                pd.DataFrame({"layer": [0, 2], "neurons": [1, 3], "share": [0.25, 0.75]})
            ),
            language_profile(
                pd.DataFrame({"language": ["en"], "group": ["top"], "layer": [1], "count": [2]})
            ),
        ]
    )
    table = wide(profile, layers=4)
    assert list(table.index) == [0, 1, 2, 3]
    assert table.loc[0, "knowledge_share"] == 0.25 and table.loc[2, "knowledge_share"] == 0.75
    assert np.isnan(table.loc[1, "knowledge_share"])
    assert table.loc[1, "language_top"] == 2.0 and np.isnan(table.loc[3, "language_top"])


def test_plan_names_each_contributing_study_and_why_others_are_not():
    config = {
        "studies": ["lesion", "redundancy", "knowledge", "atlas"],
        "lesion": {"model": "m"},
        "redundancy": {"models": ["m"], "include_embedding": False},
        "knowledge": {"model": "tiny"},
    }
    why = reasons(config, "m")
    assert why["lesion"] == "" and why["redundancy"] == ""
    assert "runs on tiny" in why["knowledge"] and "not enabled" in why["language"]
    files = inputs(config, "m", "results/r", num_layers=4)
    assert files["redundancy"] == [
        f"results/r/redundancy/m/pairs/layer{s:02d}.parquet" for s in (1, 2, 3)
    ]
    assert set(files) == {"lesion", "redundancy"}


def test_a_model_with_one_study_is_refused_before_any_job(tmp_path):
    from lmanatomy.atlas.config import check
    from lmanatomy.errors import ConfigError
    from lmanatomy.models.registry import load_registry

    registry = load_registry("config/models.yaml")
    config = {
        "studies": ["lesion", "atlas"],
        "lesion": {"model": "smollm2-135m"},
        "atlas": {"models": ["smollm2-135m"]},
    }
    with pytest.raises(
        ConfigError,
        match=r"atlas\.models\[0\].*fewer than two studies.*redundancy: study not enabled",
    ):
        check(config, registry)
    config["studies"].append("redundancy")
    config["redundancy"] = {"models": ["smollm2-135m"]}
    check(config, registry)


def test_paramact_share_interval_combines_the_datasets_intervals_by_mover():
    density = pd.DataFrame(
        {
            "dataset": ["a", "b"],
            "layer": [0, 0],
            "parameters": [10, 10],
            "activated": [5, 3],
            "ratio_ci95_low": [0.4, 0.1],
            "ratio_ci95_high": [0.7, 0.35],
        }
    )
    llmdcos = pd.DataFrame({"x": ["a"], "y": ["b"], "layer": [0], "llmdcos": [0.5]})
    row = (
        paramact_profile(density, llmdcos, resamples=10, seed=0)
        .set_index("profile")
        .loc["paramact_activated"]
    )
    # mean 0.4; bounds: 0.4 ∓ hypot(distances to each dataset's own bound) / 2
    assert row["value"] == pytest.approx(0.4)
    assert row["ci_low"] == pytest.approx(0.4 - np.hypot(0.5 - 0.4, 0.3 - 0.1) / 2)
    assert row["ci_high"] == pytest.approx(0.4 + np.hypot(0.7 - 0.5, 0.35 - 0.3) / 2)
    assert row["n"] == 2 and "MOVER" in row["interval"]
