"""The knowledge section: schema defaults and semantic checks, each error naming its key."""

import copy

import pytest
import yaml

from conftest import REPO, SCHEMAS
from lmanatomy.config import validate_config
from lmanatomy.errors import ConfigError
from lmanatomy.knowledge.config import checkpoints


def test_default_config_validates_and_gets_defaults(config):
    registry = validate_config(config, SCHEMAS)
    section = config["knowledge"]
    assert (
        section["multi_token"] == "error"
        and section["num_itermax"] == 1_000_000
        and section["prompts_per_word"] is None
    )
    entry = registry[section["model"]]
    assert entry.ff_neurons == 4 * 384 and section["top_k"] < entry.ff_neurons
    assert checkpoints(section, entry) == list(entry.checkpoints) and len(entry.checkpoints) == 20


@pytest.mark.parametrize(
    "config_file", ["config/papers/ariyama2025.yaml", "config/papers/ariyama2025-code.yaml"]
)
def test_paper_configs_validate(monkeypatch, config_file):
    monkeypatch.chdir(REPO)
    with open(REPO / config_file, encoding="utf-8") as fh:
        paper = yaml.safe_load(fh)
    registry = validate_config(paper, SCHEMAS)
    assert registry[paper["knowledge"]["model"]].ff_neurons == 98_304
    assert len(checkpoints(paper["knowledge"], registry[paper["knowledge"]["model"]])) == 20
    # paper and code agree: W2² ("EMD2" on ot.dist's
    # default cost), Table 2 bold as the paper computed it
    assert (
        paper["knowledge"]["metric"] == "sqeuclidean"
        and paper["knowledge"]["denominator"] == "as_paper"
    )


BAD = [
    ("model", "gpt-9", "knowledge.model[0]", "unknown model 'gpt-9'"),
    ("model", "smollm2-135m", "knowledge.model", "not a checkpoint series"),
    ("checkpoints", ["step0", "step999"], "knowledge.checkpoints", "no checkpoint(s) ['step999']"),
    ("checkpoints", ["step520", "step0"], "knowledge.checkpoints", "training order"),
    ("dataset", "flores", "knowledge.dataset", "format 'flores200', not 'knowledge_questions'"),
    ("dataset", "nothing", "knowledge.dataset", "unknown dataset 'nothing'"),
    ("top_k", 5000, "knowledge.top_k", "exceeds the 1536 FF neurons"),
    ("template", "Q: {q}", "knowledge.template", "no {question} placeholder"),
    ("site", "mid", "knowledge.site", "is not one of"),
    ("metric", "cosine", "knowledge.metric", "is not one of"),
    ("denominator", "code", "knowledge.denominator", "is not one of"),
    ("num_itermax", 1000, "knowledge.num_itermax", "less than the minimum"),
    ("emd_shards", 1000, "knowledge.emd_shards", "only 703 word pairs"),
    (
        "groups",
        {"a": ["Cat", "Dog"], "b": ["Cat", "Red"]},
        "knowledge.groups.b",
        "also in group 'a'",
    ),
    ("groups", {"a": ["Cat", "Dog"], "b": ["Red"]}, "knowledge.groups.b", "is too short"),
    (
        "groups",
        {"a": ["Cat", "D/og"], "b": ["Red", "Blue"]},
        "knowledge.groups.a[1]",
        "does not match",
    ),
    ("groups", {"a": ["Cat", "Dog"]}, "knowledge.groups", "does not have enough properties"),
    (
        "groups",
        {"a": ["Cat", "Dog"], "b": ["Red", "Zebra"]},
        "knowledge.groups.b[1]",
        "'Zebra' has no questions in",
    ),
]


@pytest.mark.parametrize(
    "key, value, named, words", BAD, ids=[b[0] + ":" + repr(b[1])[:20] for b in BAD]
)
def test_bad_knowledge_values_name_their_key(config, key, value, named, words):
    config = copy.deepcopy(config)
    config["knowledge"][key] = value
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMAS)
    message = str(info.value)
    assert message.startswith(f"config key '{named}"), message
    assert any(w in message for w in words.split("|")), message


def test_question_words_are_read_when_the_file_is_on_disk_only(monkeypatch, tmp_path):
    from lmanatomy.knowledge.config import question_words

    monkeypatch.chdir(
        tmp_path
    )  # data/raw (the download folder) is empty here: not knowable at plan time
    assert question_words({"datasets": {"q": {"format": "knowledge_questions"}}}, "q") is None
    path, words = question_words(
        {"datasets": {"q": {"format": "knowledge_questions", "root": str(REPO / "data" / "demo")}}},
        "q",
    )
    assert (
        path.endswith("generated_data_1token.json")
        and {"Cat", "Japanese"} <= words
        and len(words) == 38
    )
