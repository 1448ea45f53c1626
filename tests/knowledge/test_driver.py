"""The attribution driver: shards per (checkpoint,
word), atomic, resumable, keyed by their inputs."""

import numpy as np
import pytest
from knowledge_fixtures import one_thread  # noqa: F401  (autouse: one torch thread)

import lmanatomy.knowledge.driver as driver
from lmanatomy.errors import DataError, StoreError
from lmanatomy.knowledge.attribution import batched_attributions, encode_prompt
from lmanatomy.knowledge.driver import AttributionSettings, attribute_part
from lmanatomy.knowledge.plan import part_items, plan_parts
from lmanatomy.knowledge.prompts import WordPrompts, questions_by_word, word_prompts
from lmanatomy.knowledge.shards import read_word, shard_metadata, shard_path
from lmanatomy.testing import save_model_dir, tiny_model

PROMPTS = {
    "the": WordPrompts(
        "the", ("The quick brown fox jumps over", "Le renard saute par-dessus"), " the"
    ),
    "The": WordPrompts("The", ("Question: is the sky blue? Answer: yes.",), "The"),
}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("series")
    dirs = {}
    for seed, name in enumerate(["step0", "step8"]):
        model, _ = tiny_model("gpt_neox", seed=seed, tokenizer=tokenizer)
        dirs[name] = save_model_dir(model, tokenizer, root / name, name=name)
    return dirs


@pytest.fixture()
def calls(monkeypatch):
    """Count the prompts the driver sends to the attribution engine."""
    seen = []

    def counting(model, prompts, *args, **kwargs):
        seen.append(len(prompts))
        return batched_attributions(model, prompts, *args, **kwargs)

    monkeypatch.setattr(driver, "batched_attributions", counting)
    return seen


def test_parts_cover_the_checkpoint_word_grid_once():
    parts = plan_parts(["c0", "c1", "c2"], ["w0", "w1", "w2", "w3"], 2, 3)
    assert list(parts) == ["0000", "0001", "0002", "0003"]
    assert parts["0001"] == {"checkpoints": ["c0", "c1"], "words": ["w3"]}
    assert [len(part_items(p)) for p in parts.values()] == [6, 2, 3, 1]
    assert sorted(i for p in parts.values() for i in part_items(p)) == sorted(
        (c, w) for c in ["c0", "c1", "c2"] for w in ["w0", "w1", "w2", "w3"]
    )
    assert len(plan_parts(["c"] * 1, ["w"], None, None)) == 1
    assert len(plan_parts([f"c{i}" for i in range(20)], [f"w{i}" for i in range(38)], 1, 1)) == 760


def test_shards_hold_each_prompt_and_their_mean(tmp_path, checkpoints, tokenizer, calls):
    items = [(c, w) for c in checkpoints for w in PROMPTS]
    records = attribute_part(
        items, checkpoints, PROMPTS, AttributionSettings(steps=4), tmp_path, log=lambda m: None
    )
    assert [(r["checkpoint"], r["word"]) for r in records] == items
    model, _ = tiny_model("gpt_neox", seed=1, tokenizer=tokenizer)
    target = tokenizer.encode(" the", add_special_tokens=False)[0]
    direct = batched_attributions(
        model,
        [encode_prompt(tokenizer, p) for p in PROMPTS["the"].prompts],
        [target, target],
        steps=4,
    )
    layers, neurons, matrix = read_word(tmp_path, ["step0", "step8"], "the")
    assert (
        len(layers) == 2 * 32 and list(neurons[:3]) == [0, 1, 2] and list(layers[[0, 32]]) == [0, 1]
    )
    np.testing.assert_allclose(
        matrix[1], direct.scores.mean(axis=0).reshape(-1), rtol=1e-6, atol=1e-12
    )
    meta = shard_metadata(shard_path(tmp_path, "step8", "the"))
    assert meta["target_tokens"] == ["Ġthe"] and not meta["first_token_only"]
    np.testing.assert_allclose(meta["probability"], direct.probability, rtol=1e-6)


def test_a_rerun_skips_complete_shards_and_redoes_missing_or_broken_ones(
    tmp_path, checkpoints, calls
):
    items = [(c, w) for c in checkpoints for w in PROMPTS]
    settings = AttributionSettings(steps=3, max_rows=6)  # one word per engine call
    attribute_part(items, checkpoints, PROMPTS, settings, tmp_path, log=lambda m: None)
    assert sum(calls) == 6
    calls.clear()
    attribute_part(items, checkpoints, PROMPTS, settings, tmp_path, log=lambda m: None)
    assert calls == []
    shard_path(tmp_path, "step8", "the").unlink()
    shard_path(tmp_path, "step0", "The").write_bytes(b"half a parquet file")
    attribute_part(items, checkpoints, PROMPTS, settings, tmp_path, log=lambda m: None)
    assert sorted(calls) == [1, 2]
    calls.clear()
    attribute_part(
        items,
        checkpoints,
        PROMPTS,
        AttributionSettings(steps=4, max_rows=6),
        tmp_path,
        log=lambda m: None,
    )
    assert sum(calls) == 6, "other settings: every shard is recomputed"
    assert not list(tmp_path.rglob(".*tmp*")), "no temporary shard left behind"


def test_a_multi_token_word_stops_the_part_unless_first_token_is_asked(tmp_path, checkpoints):
    prompts = {"fox": WordPrompts("fox", ("The quick brown",), " fox")}
    with pytest.raises(DataError, match=r"' fox' is 3 tokens"):
        attribute_part(
            [("step0", "fox")],
            checkpoints,
            prompts,
            AttributionSettings(steps=2),
            tmp_path,
            log=lambda m: None,
        )
    attribute_part(
        [("step0", "fox")],
        checkpoints,
        prompts,
        AttributionSettings(steps=2, multi_token="first"),
        tmp_path,
        log=lambda m: None,
    )
    meta = shard_metadata(shard_path(tmp_path, "step0", "fox"))
    assert meta["first_token_only"] and meta["target_tokens"] == ["Ġf", "o", "x"]


def test_reading_a_missing_shard_names_it(tmp_path):
    with pytest.raises(StoreError, match="missing"):
        read_word(tmp_path, ["step0"], "the")


def test_prompts_come_from_the_question_table_in_order():
    import pandas as pd

    table = pd.DataFrame({"word": ["Cat", "Dog", "Cat"], "question": ["q1?", "q2?", "q3?"]})
    prompts = word_prompts(
        questions_by_word(table), ["Cat"], "Q. {question} A.", leading_space=True
    )
    assert prompts["Cat"] == WordPrompts("Cat", ("Q. q1? A.", "Q. q3? A."), " Cat")
    assert word_prompts(questions_by_word(table), ["Cat"], "{question}", False, prompts_per_word=1)[
        "Cat"
    ].prompts == ("q1?",)
    with pytest.raises(DataError, match="no questions for word 'Fox'"):
        word_prompts(questions_by_word(table), ["Fox"], "{question}", False)
    with pytest.raises(DataError, match="lacks column"):
        questions_by_word(table.rename(columns={"question": "text"}))


def test_the_authors_question_file_gives_four_prompts_for_each_of_the_38_words(shared_data):
    import yaml

    from conftest import REPO
    from lmanatomy.data import load
    from lmanatomy.knowledge.groups import PAPER_GROUPS, ordered_words

    paper = yaml.safe_load(
        (REPO / "config" / "papers" / "ariyama2025.yaml").read_text(encoding="utf-8")
    )["knowledge"]
    questions = questions_by_word(load("knowledge_questions", shared_data))
    prompts = word_prompts(
        questions,
        ordered_words(PAPER_GROUPS),
        paper["template"],
        leading_space=paper["leading_space"],
    )
    assert len(prompts) == 38 and all(len(p.prompts) == 4 for p in prompts.values())
    assert (
        prompts["Cat"].prompts[0].startswith("Answer the following question in one word: Q. ")
        and prompts["Cat"].target == " Cat"
    )
