"""The lesion section: bad values stop the run naming the key; defaults are filled in."""

import copy

import pytest
import yaml

from conftest import REPO, SCHEMAS
from lmanatomy.config import validate_config
from lmanatomy.errors import ConfigError

MALFORMED = [
    ("model", "gpt-7", "lesion.model", "unknown model 'gpt-7'"),
    ("model", "xglm-564m", "lesion.model", "'xglm-564m' (xglm)"),
    (
        "layer_ranges",
        [[4, 8], [27, 31]],
        "lesion.layer_ranges[1]",
        "[27, 31] (one_based_inclusive) = indices 26..30: layer range [26, 30] is outside model "
        "'smollm2-135m' (layers 0..29)",
    ),
    ("layer_ranges", [[8, 4]], "lesion.layer_ranges[0]", "holds no layer"),
    ("layer_ranges", [[0, 4]], "lesion.layer_ranges[0]", "one-based layer numbers start at 1"),
    ("layer_numbering", "one_based", "lesion.layer_numbering", "is not one of"),
    ("gqa", "drop_heads", "lesion.gqa", "is not one of"),
    ("importance_dtype", "int8", "lesion.importance_dtype", "is not one of"),
    ("llm_jp_eval", "v2.0", "lesion.llm_jp_eval", "is not one of"),
    ("layer_ranges", [[4]], "lesion.layer_ranges[0]", "is too short"),
    ("shares", [0.005, 1.5], "lesion.shares[1]", "greater than or equal to the maximum"),
    (
        "tasks",
        {"jnli": {"dataset": "jsts"}},
        "lesion.tasks.jnli.dataset",
        "dataset 'jsts' has format 'jsts'",
    ),
    ("tasks", {"jnli": {"dataset": "nope"}}, "lesion.tasks.jnli.dataset", "unknown dataset 'nope'"),
    ("tasks", {"jnli": {"dataset": "jnli", "shots": 2}}, "lesion.tasks.jnli.shots", "unknown key"),
    ("num_few_shots", -1, "lesion.num_few_shots", "less than the minimum"),
    (
        "generation",
        {"max_new_tokens": 0},
        "lesion.generation.max_new_tokens",
        "less than the minimum",
    ),
]


@pytest.mark.parametrize(
    "key, value, named, words", MALFORMED, ids=[f"{m[0]}:{m[1]!r}"[:40] for m in MALFORMED]
)
def test_malformed_lesion_section_names_the_key(config, key, value, named, words):
    config = copy.deepcopy(config)
    config["lesion"][key] = value
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMAS)
    assert str(info.value).startswith(f"config key '{named}'"), str(info.value)
    assert words in str(info.value), str(info.value)


def test_unknown_task_is_refused(config):
    config["lesion"]["tasks"]["squad"] = {"dataset": "jnli"}
    with pytest.raises(ConfigError, match="'squad' is not one of"):
        validate_config(config, SCHEMAS)


def test_layer_numbering_is_required(config):
    config["lesion"].pop("layer_numbering")
    with pytest.raises(ConfigError, match="layer_numbering"):
        validate_config(config, SCHEMAS)


def test_defaults(config):
    for key in (
        "num_few_shots",
        "max_num_samples",
        "generation",
        "gqa",
        "importance_dtype",
        "llm_jp_eval",
    ):
        config["lesion"].pop(key, None)
    validate_config(config, SCHEMAS)
    assert (config["lesion"]["num_few_shots"], config["lesion"]["max_num_samples"]) == (4, 100)
    assert (
        config["lesion"]["gqa"],
        config["lesion"]["importance_dtype"],
        config["lesion"]["llm_jp_eval"],
    ) == ("prune_kv_groups", "float64", "v1.1")
    assert config["lesion"]["generation"] == {
        "max_new_tokens": None,
        "batch_size": 8,
        "do_sample": False,
        "temperature": 1.0,
        "top_p": 1.0,
        "seed": 0,
    }


def test_paper_config_is_the_papers_setup(monkeypatch):
    monkeypatch.chdir(REPO)
    with open(REPO / "config" / "papers" / "harada2024.yaml", encoding="utf-8") as fh:
        paper = yaml.safe_load(fh)
    validate_config(paper, SCHEMAS)
    lesion = paper["lesion"]
    assert lesion["model"] == "elyza-llama-2-7b-instruct"
    assert lesion["layer_ranges"] == [[4, 8], [10, 14], [14, 18], [20, 24], [24, 28]]
    assert lesion["layer_numbering"] == "one_based_inclusive"  # 「4-8層」 = indices 3..7
    assert (lesion["llm_jp_eval"], lesion["importance_dtype"], lesion["gqa"]) == (
        "2023-11",
        "float16",
        "prune_kv_groups",
    )
    assert lesion["shares"] == [0.005, 0.02] and set(lesion["tasks"]) == {
        "jnli",
        "jsts",
        "jcommonsenseqa",
    }
    assert lesion["generation"]["max_new_tokens"] == 30 and lesion["num_few_shots"] == 4
    assert paper["data_root"] is None
