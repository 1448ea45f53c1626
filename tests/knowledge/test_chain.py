"""The whole study on a tiny trained series, in seconds: train
→ attribute → trajectories → EMD → tables and figures."""

import numpy as np
from knowledge_fixtures import one_thread  # noqa: F401  (autouse: one torch thread)
from test_local_model import GROUPS, QUESTIONS, tiny_entry

from lmanatomy.knowledge.corpus import qa_corpus
from lmanatomy.knowledge.driver import AttributionSettings, attribute_part
from lmanatomy.knowledge.emd import assemble, distances
from lmanatomy.knowledge.figures import comparison_figure, distance_figure, intersection_figure
from lmanatomy.knowledge.groups import PAPER_GROUPS, ordered_words
from lmanatomy.knowledge.plan import part_items, plan_parts, shard_pairs
from lmanatomy.knowledge.prompts import word_prompts
from lmanatomy.knowledge.report import PAPER_SETUP, deviations
from lmanatomy.knowledge.stats import comparison_grid, table2
from lmanatomy.knowledge.trajectories import (
    answer_summary,
    intersections,
    point_clouds,
    word_trajectories,
)
from lmanatomy.models.local import train_local
from lmanatomy.plots import save


def test_the_chain_runs_end_to_end(tmp_path):
    lines = qa_corpus(QUESTIONS, GROUPS, template="Q. {question} A.", leading_space=True)
    series = train_local(tiny_entry(), lines, tmp_path / "models", log=lambda m: None, progress=False)
    words = ordered_words(GROUPS)
    checkpoints = list(series)
    prompts = word_prompts(QUESTIONS, words, "Q. {question} A.", leading_space=True)
    for part in plan_parts(checkpoints, words, 2, 3).values():
        attribute_part(part_items(part), series, prompts, AttributionSettings(steps=3), tmp_path / "attr", log=lambda m: None)
    frame = word_trajectories(tmp_path / "attr", checkpoints, words, k=5, scale=1e6)
    assert frame.shape == (4 * 5, 4 + 3) and list(frame.columns[4:]) == checkpoints
    clouds = point_clouds(frame)
    assert clouds["Cat"].shape == (5, 3)
    tables = [distances(clouds, pairs, "sqeuclidean", 1_000_000) for pairs in shard_pairs(words, 2).values()]
    matrix = assemble(tables, words)
    assert (matrix.to_numpy() >= 0).all() and (np.diag(matrix) == 0).all()
    table = table2(matrix, GROUPS)
    assert list(table["group"]) == ["animals", "colors"] and (table["comparisons"] == 4).all()
    counts = intersections(frame, words)
    assert (np.diag(counts) == 5).all()
    summary = answer_summary(tmp_path / "attr", checkpoints, words)
    assert list(summary["prompts"]) == [8, 8, 8] and summary["accuracy"].between(0, 1).all()
    for name, fig in {
        "fig3.png": distance_figure(matrix, GROUPS, "EMD", "EMD"),
        "fig4.png": comparison_figure(comparison_grid(matrix, GROUPS), GROUPS, "groups"),
        "fig5.png": intersection_figure(counts, GROUPS, "shared", 5),
    }.items():
        save(fig, tmp_path / name, note="tiny test model")
        assert (tmp_path / name).stat().st_size > 1000


def test_the_paper_setup_has_no_deviation_notes_and_others_say_what_differs():
    paper = {**PAPER_SETUP, "groups": PAPER_GROUPS, "grid": "inclusive", "scale": 1e6}
    checkpoints = [f"step{i}" for i in range(20)]
    assert deviations(paper, "pythia-410m", "Pythia-410M", checkpoints, 98304) == []
    small = {**paper, "top_k": 100, "site": "pre", "template": "{question}"}
    notes = " ".join(deviations(small, "neox-words", "tiny", checkpoints[:5], 1536, ["Portuguese"]))
    for expected in ("not the paper's Pythia-410M", "5 checkpoints", "top-100 knowledge neurons per word of 1,536",
                     "site = 'pre' (the released code's choice)", "first token only: Portuguese"):
        assert expected in notes
