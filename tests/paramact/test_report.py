"""Figures, tables and the findings check, on synthetic job tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from lmanatomy.errors import DataError
from lmanatomy.paramact.report import Context, findings, heatmap_matrix, write_report
from lmanatomy.paramact.run import DENSITY_COLUMNS, PAIR_COLUMNS

L = 10
SECTION = {
    "models": ["m"],
    "task_datasets": ["t1", "t2"],
    "general_datasets": ["g"],
    "boxplot_pairs": [["t1", "t1"], ["t2", "t1"]],
    "heatmap_datasets": ["t1", "t2", "g"],
    "gamma": 1e-3,
    "samples": 4,
    "pair_samples": 3,
}
CTX = Context(SECTION, "m", "Tiny", L, 1e-3, ("Demo note.",))


# The jobs' gap intervals, made up: t1's above 0, t2's spanning 0, g's below 0.
GAP_INTERVALS = {"t1": (0.1, 0.3), "t2": (-0.05, 0.2), "g": (-0.4, -0.1)}


def _density():
    rows = []
    for name, slope in [
        ("t1", -1.0),
        ("t2", -0.5),
        ("g", +1.0),
    ]:  # t1, t2 thin out with depth; g fills up
        for layer in range(L):
            for gamma in (1e-4, 1e-3, 1e-2):
                activated = int(500 + slope * 40 * layer) // (1 if gamma <= 1e-3 else 2)
                ratio = activated / 1000
                rows.append(
                    [
                        name,
                        layer,
                        1000,
                        4,
                        gamma,
                        activated,
                        ratio,
                        ratio - 0.02,
                        ratio + 0.02,
                        np.nan,
                        *GAP_INTERVALS[name],
                        1000,
                    ]
                )
    return pd.DataFrame(rows, columns=DENSITY_COLUMNS)


def _pairs():
    rows = []
    for x, y in [("t1", "t1"), ("t1", "t2"), ("t1", "g"), ("t2", "t2"), ("t2", "g"), ("g", "g")]:
        for i in range(3):
            for layer in range(L):
                value = (
                    0.9 if x == y else 0.8 - 0.05 * layer + 0.01 * i
                )  # cross pairs fall with depth
                rows.append(
                    [
                        x,
                        y,
                        "within" if x == y else "cross",
                        i,
                        f"{x}{2 * i}",
                        f"{y}{2 * i}",
                        layer,
                        value,
                    ]
                )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def test_findings_have_the_constructed_answers():
    table = findings(_density(), _pairs(), CTX)
    one = table[
        table.finding.str.startswith("1") & np.isclose(table.gamma.astype(float), 1e-3)
    ].set_index("subject")
    assert one.loc["t1", "holds"] and one.loc["t2", "holds"] and not one.loc["g", "holds"]
    assert one.loc["t1", "spearman_layer"] == pytest.approx(-1.0)
    for (
        name,
        interval,
    ) in GAP_INTERVALS.items():  # finding 1 carries the jobs' interval over samples and their n
        assert (
            tuple(one.loc[name, ["gap_ci95_low", "gap_ci95_high"]]) == interval
            and one.loc[name, "n"] == 4
        )
    two = table[table.finding.str.startswith("2")].set_index("subject")
    assert list(two.index) == ["t1-g", "t1-t2", "t2-g"] and two.holds.all()
    assert (two.samples_holding == "3/3").all()
    # shallow = layers 0..4, deep = layers 5..7 (L/2 .. L-3)
    assert two.loc["t1-t2", "shallow"] == pytest.approx(
        np.mean([0.8 - 0.05 * k for k in range(5)]) + 0.01
    )
    assert two.loc["t1-t2", "deep"] == pytest.approx(
        np.mean([0.8 - 0.05 * k for k in range(5, 8)]) + 0.01
    )
    # Every sample has the same gap (its 0.01·i offset
    # cancels), so the gap's interval is that one value.
    gap = np.mean([0.8 - 0.05 * k for k in range(5)]) - np.mean(
        [0.8 - 0.05 * k for k in range(5, 8)]
    )
    assert (two.n == 3).all() and two.loc["t1-t2", "gap"] == pytest.approx(gap)
    assert two.loc["t1-t2", ["gap_ci95_low", "gap_ci95_high"]].tolist() == pytest.approx([gap, gap])


def test_gap_interval_is_a_percentile_bootstrap_of_the_mean():
    from scipy.stats import bootstrap

    from lmanatomy.paramact.report import gap_interval
    from lmanatomy.paramact.sts import Interval

    values = np.random.default_rng(3).normal(0.1, 0.2, size=32)
    low, high = gap_interval(values, Interval(resamples=4000))
    ref = bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", random_state=1
    ).confidence_interval
    assert low < values.mean() < high
    assert (
        abs(low - ref.low) < 0.02 and abs(high - ref.high) < 0.02
    )  # scipy's own draws: resampling noise only
    # The same seeded draws, averaged by a plain loop.
    draws = np.random.default_rng(0).integers(0, 32, size=(1000, 32))
    means = [sum(values[i] for i in row) / 32 for row in draws]
    assert gap_interval(values) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))
    assert np.isnan(gap_interval(values[:1])).all()


def test_heatmap_is_the_mean_over_layers_l_half_to_l_minus_3():
    matrix = heatmap_matrix(_pairs(), ["t1", "t2", "g"], CTX)
    assert matrix.loc["t1", "t1"] == pytest.approx(0.9)
    expected = np.mean([0.8 - 0.05 * k + 0.01 * i for k in range(5, 8) for i in range(3)])
    assert matrix.loc["t2", "t1"] == pytest.approx(expected) and matrix.loc[
        "t1", "t2"
    ] == pytest.approx(expected)
    with pytest.raises(DataError, match="no LLMDcos values"):
        heatmap_matrix(_pairs()[lambda f: f.y != "g"], ["t1", "g"], CTX)


def test_write_report_writes_every_output(tmp_path):
    paths = {}
    for name, frame in [
        ("density", _density()),
        ("pairs", _pairs()),
        (
            "samples",
            pd.DataFrame(
                {
                    "dataset": ["t1"],
                    "draw": [0],
                    "row_id": ["t10"],
                    "tokens": [5],
                    "D": [1.0],
                    "token_id": [3],
                }
            ),
        ),
    ]:
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    stems = {"fig1": "fig1", "fig2": "fig2", "fig3": "fig3", "fig6": "fig6"}
    out = {
        f"{k}_{ext}": tmp_path / f"{v}.{ext}"
        for k, v in stems.items()
        for ext in ("png", "csv", "md")
    }
    out.update(
        thresholds_csv=tmp_path / "thr.csv",
        samples_csv=tmp_path / "s.csv",
        findings_csv=tmp_path / "f.csv",
        findings_md=tmp_path / "f.md",
    )
    lines = write_report([paths["density"]], [paths["pairs"]], [paths["samples"]], CTX, out)
    for path in out.values():
        assert path.is_file() and path.stat().st_size > 0, path
    assert lines[0].startswith("Finding 1") and "2 of 2 task datasets" in lines[0]
    assert "lies above 0 for 1, below 0 for 1 and spans 0 (undecided) for 1 of 3" in lines[0]
    assert "3 of 3 cross-domain pairs" in lines[1]
    fig1 = pd.read_csv(out["fig1_csv"])
    assert set(fig1.dataset) == {"t1", "t2"} and np.allclose(fig1.gamma, 1e-3)
    assert {"ratio_ci95_low", "ratio_ci95_high", "gap_ci95_low", "gap_ci95_high"} <= set(
        fig1.columns
    )
    assert (
        "| 500 [480, 520] |" in out["fig1_md"].read_text()
    )  # layer 0 of t1: 500 of 1000 weights, ratio ± 0.02
    assert "Demo note." in out["fig6_md"].read_text()
    assert set(pd.read_csv(out["fig3_csv"])[["x", "y"]].itertuples(index=False, name=None)) == {
        ("t1", "t1"),
        ("t1", "t2"),
    }


def test_figures_take_the_short_footnote_and_tables_every_note():
    """How a run differs from the paper is derived
    (tests/test_study.py); the report only places it."""
    from lmanatomy.paramact.report import sts_method_notes

    assert Context(SECTION, "m", "M", L, 1e-3, ("a.", "b.")).note == "a. b."
    assert (
        Context(SECTION, "m", "M", L, 1e-3, ("a.", "b."), figure_note="Differs in: x.").note
        == "Differs in: x."
    )
    config = {
        "datasets": {"s": {"format": "stsb"}, "k": {"format": "sick"}},
        "paramact": {"sts": {"datasets": ["k"]}},
    }
    assert sts_method_notes(config) == []
    config["paramact"]["sts"]["datasets"] = ["s", "k"]
    assert sts_method_notes(config) == [
        "STS-B pairs are a seeded sample (the released code takes the first 256 validation rows)."
    ]


def test_by_d_line_reports_totals_order_and_spread():
    from lmanatomy.paramact.report import by_d_line

    density = pd.DataFrame(
        {
            "dataset": ["code", "code", "text", "text"],
            "layer": [0, 1, 0, 1],
            "parameters": 10,
            "samples": 2,
            "threshold": 1e-3,
            "activated": [6, 4, 3, 2],
            "ratio": 0.0,
        }
    )
    by_d = pd.DataFrame(
        {
            "dataset": ["code", "code", "text", "text"],
            "layer": [0, 1, 0, 1],
            "parameters": 10,
            "D_mean": [30.0, 30.0, 15.0, 15.0],
            "D_all": 22.5,
            "threshold": 0.0,
            "activated": [2, 1, 4, 3],
        }
    )
    line = by_d_line(density, by_d, 1e-3)
    assert "code 10 → 3" in line and "text 5 → 7" in line
    assert "order code > text → text > code" in line and "largest/smallest 2.00 → 2.33" in line
