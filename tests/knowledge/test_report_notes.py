"""What the outputs say: metric names, the comparable Table 2 column, held-out accuracy, layer
pile-ups, Fig 3's rank panel."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from lmanatomy.knowledge.figures import distance_figure, off_diagonal_ranks
from lmanatomy.knowledge.groups import PAPER_GROUPS
from lmanatomy.knowledge.report import accuracy_line, metrics_note, table2_notes, training_note
from lmanatomy.knowledge.trajectories import layer_shares, pile_up_note
from lmanatomy.stats import wilson

PAPER = yaml.safe_load(
    (REPO / "config" / "papers" / "ariyama2025.yaml").read_text(encoding="utf-8")
)
SECTION = {
    **PAPER["knowledge"],
    "groups": PAPER_GROUPS,
    "grid": "inclusive",
    "scale": 1e6,
    "denominator": "as_paper",
}
CHECKPOINTS = [f"step{i}" for i in range(20)]


def _answers(correct=(0, 76, 150)):
    n = 152
    rows = []
    for step, c in zip(("step0", "step40", "step520"), correct, strict=False):
        low, high = wilson(c, n)
        rows.append(
            {
                "checkpoint": step,
                "prompts": n,
                "correct": c,
                "accuracy": c / n,
                "accuracy_low": low,
                "accuracy_high": high,
                "mean_probability": 0.5,
                "first_token_only": "",
            }
        )
    return pd.DataFrame(rows)


def test_wilson_interval_matches_the_formula():
    k, n, z = 30, 152, 1.959963984540054
    p = k / n
    centre, half = (
        (p + z * z / (2 * n)) / (1 + z * z / n),
        z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)),
    )
    assert wilson(k, n) == pytest.approx((centre - half, centre + half), rel=1e-9)
    low, high = wilson(0, 152)
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.03


def test_a_metric_other_than_the_papers_is_a_deviation_labelled_by_the_schema(monkeypatch):
    from lmanatomy.config import validate_config
    from lmanatomy.deviations import deviation_sentences
    from lmanatomy.knowledge import STUDY

    monkeypatch.chdir(REPO)
    config = {**PAPER, "knowledge": {**PAPER["knowledge"], "metric": "euclidean"}}
    validate_config(config, REPO / "workflow" / "schemas")
    origin = {"knowledge_questions": {"text": "real data, the upstream files (downloaded)"}}
    (metric, data) = deviation_sentences(STUDY, config, origin)
    assert metric.startswith("`knowledge.metric` — ") and metric.endswith(
        "this run `euclidean`, the paper `sqeuclidean`."
    )
    assert data == "Data `knowledge_questions`: real data, the upstream files (downloaded)."


def test_table2_notes_compare_the_paper_with_the_as_paper_column_and_list_every_metric():
    scores = pd.DataFrame(
        [
            {"metric": m, "group": g, "score_as_paper": 90.0 + i, "score_corrected": 93.0 + i}
            for i, m in enumerate(("sqeuclidean", "euclidean", "w2"))
            for g in PAPER_GROUPS
        ]
    )
    values = yaml.safe_load(
        (REPO / "workflow" / "report" / "paper_values.yaml").read_text(encoding="utf-8")
    )["knowledge"]
    notes = " ".join(
        table2_notes(
            SECTION,
            ["(how the run differs)"],
            _answers(),
            values,
            None,
            scores,
            "Knowledge neurons pile into one layer: 97%",
            {"prompts": "held_out"},
        )
    )
    assert "Compare them with score_as_paper" in notes and "233/248, 176/224, 206/270" in notes
    assert (
        "as the paper computed it" in notes
        and "Bold: the configured headline (score_as_paper)" in notes
    )
    assert "sqeuclidean = W2² (squared Euclidean cost) (this table): animals 90.0 / 93.0" in notes
    assert (
        "euclidean = W1 (Euclidean cost): animals 91.0 / 94.0" in notes
        and "w2 = W2 = sqrt(W2²): animals 92.0 / 95.0" in notes
    )
    assert "Held-out accuracy per checkpoint: step0 0%, step40 50%, step520 99%" in notes
    assert "pile into one layer" in notes and "never on the question prompts" in notes
    assert metrics_note(scores, "w2").count("(this table)") == 1


def test_training_notes_say_whether_the_prompts_were_in_the_corpus():
    assert training_note(None) == []
    assert "held-out" in training_note({"builder": "knowledge_qa"})[0].lower()
    assert "memory" in training_note({"prompts": "trained"})[0]
    line = accuracy_line(_answers(), held_out=False)
    assert (
        line.startswith("Accuracy per checkpoint") and "final 98.7% of 152 prompts (95% CI" in line
    )


def test_layer_shares_count_every_layer_and_a_pile_up_is_said():
    frame = pd.DataFrame({"layer": [0] * 97 + [1, 1, 3]})
    shares = layer_shares(frame, n_layers=4)
    assert shares["neurons"].tolist() == [97, 2, 0, 1] and shares["share"].sum() == pytest.approx(
        1.0
    )
    assert pile_up_note(shares).startswith(
        "Knowledge neurons pile into one layer: 97% of all words' knowledge neurons sit in layer 0"
    )
    spread = layer_shares(pd.DataFrame({"layer": [0, 1, 2, 3, 3]}), n_layers=4)
    assert pile_up_note(spread).startswith(
        "Knowledge neurons by layer: L0 20%, L1 20%, L2 20%, L3 40%"
    )


def test_off_diagonal_ranks_by_hand():
    values = np.array([[0.0, 3.0, 1.0], [3.0, 0.0, 2.0], [1.0, 2.0, 0.0]])
    ranks = off_diagonal_ranks(values)
    assert np.isnan(np.diag(ranks)).all()
    assert ranks[0, 2] == 0.0 and ranks[1, 2] == 0.5 and ranks[0, 1] == 1.0 and ranks[1, 0] == 1.0
    tied = off_diagonal_ranks(np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]))
    assert np.allclose(tied[~np.eye(3, dtype=bool)], 0.5)


def test_fig3_has_the_paper_panel_and_the_rank_panel():
    import matplotlib.pyplot as plt

    groups = {"a": ["x", "y"], "b": ["z", "w"]}
    words = ["x", "y", "z", "w"]
    rng = np.random.default_rng(0)
    upper = np.triu(rng.uniform(1.0, 1.5, size=(4, 4)), 1)
    fig = distance_figure(
        pd.DataFrame(upper + upper.T, index=words, columns=words), groups, "Fig 3", "EMD"
    )
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "paper style: log scale",
        "rank scale over the off-diagonal distances",
    ]
    assert len(fig.axes) == 4  # two panels, two colour bars
    plt.close(fig)
