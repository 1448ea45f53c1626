"""The whole study on a tiny trained series, in seconds: train
→ attribute → trajectories → EMD → tables and figures."""

import numpy as np
from knowledge_fixtures import one_thread  # noqa: F401  (autouse: one torch thread)
from test_local_model import GROUPS, QUESTIONS, tiny_entry

from lmanatomy.knowledge.corpus import qa_corpus
from lmanatomy.knowledge.driver import AttributionSettings, attribute_part
from lmanatomy.knowledge.emd import assemble, distances
from lmanatomy.knowledge.figures import comparison_figure, distance_figure, intersection_figure
from lmanatomy.knowledge.groups import ordered_words
from lmanatomy.knowledge.plan import part_items, plan_parts, shard_pairs
from lmanatomy.knowledge.prompts import word_prompts
from lmanatomy.knowledge.report import first_token_note
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
    series = train_local(
        tiny_entry(), lines, tmp_path / "models", log=lambda m: None, progress=False
    )
    words = ordered_words(GROUPS)
    checkpoints = list(series)
    prompts = word_prompts(QUESTIONS, words, "Q. {question} A.", leading_space=True)
    for part in plan_parts(checkpoints, words, 2, 3).values():
        attribute_part(
            part_items(part),
            series,
            prompts,
            AttributionSettings(steps=3),
            tmp_path / "attr",
            log=lambda m: None,
        )
    frame = word_trajectories(tmp_path / "attr", checkpoints, words, k=5, scale=1e6)
    assert frame.shape == (4 * 5, 4 + 3) and list(frame.columns[4:]) == checkpoints
    clouds = point_clouds(frame)
    assert clouds["Cat"].shape == (5, 3)
    tables = [
        distances(clouds, pairs, "sqeuclidean", 1_000_000)
        for pairs in shard_pairs(words, 2).values()
    ]
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


def test_the_released_codes_choices_are_named_beside_the_papers(monkeypatch):
    """The derived deviations of the code variant (config/papers/ariyama2025-code.yaml) against the
    paper's text: each of its choices is labelled as the released code's."""
    import yaml

    from conftest import REPO
    from lmanatomy.config import validate_config
    from lmanatomy.deviations import deviation_sentences
    from lmanatomy.knowledge import STUDY

    monkeypatch.chdir(REPO)
    config = yaml.safe_load(
        (REPO / "config" / "papers" / "ariyama2025-code.yaml").read_text(encoding="utf-8")
    )
    validate_config(config, REPO / "workflow" / "schemas")
    origin = {"knowledge_questions": {"text": "real data, the upstream files (downloaded)"}}
    settings = [
        s.split(" — ")[0] + " … this run " + s.split(": this run ")[1]
        for s in deviation_sentences(STUDY, config, origin)[:-1]
    ]
    assert settings == [
        "`knowledge.model` … this run `pythia-410m-deduped`, the paper `pythia-410m` (the "
        "released code: `pythia-410m-deduped`).",
        "`knowledge.template` … this run `{question}`, the paper `Answer the following question "
        "in one word: Q. {question} A.` (the released code: `{question}`).",
        "`knowledge.leading_space` … this run `False`, the paper `True` (the released code: "
        "`False`).",
        "`knowledge.site` … this run `pre`, the paper `post` (the released code: `pre`).",
    ]
    assert first_token_note(["Portuguese"]) == [
        "Multi-token words attributed by their first token only: Portuguese."
    ]
    assert first_token_note([]) == []
