"""The language section of a config: bad values stop before any job, naming the key."""

import copy

import pytest

from conftest import SCHEMAS
from lmanatomy.config import validate_config
from lmanatomy.errors import ConfigError
from lmanatomy.language.config import setup


@pytest.fixture()
def config(config):
    """The default config with the language study (and the census it needs) enabled."""
    config["studies"] = sorted(set(config["studies"]) | {"census", "language"})
    return config


BAD = [
    (
        lambda c: c["language"].__setitem__("models", ["gpt-7"]),
        "language.models[0]",
        "unknown model 'gpt-7'",
    ),
    (
        lambda c: c["language"].__setitem__("datasets", ["jsts"]),
        "language.datasets[0]",
        "format 'jsts'",
    ),
    (
        lambda c: c["language"].__setitem__("datasets", ["nope"]),
        "language.datasets[0]",
        "unknown dataset 'nope'",
    ),
    (
        lambda c: c["datasets"]["flores"].__setitem__("languages", ["en", "de"]),
        "language.datasets[0]",
        "no texts of fr, es, zh, ja",
    ),
    (
        lambda c: c["language"].__setitem__("probe", "hidden_eos"),
        "language.probe",
        "modules: linears",
    ),
    (
        lambda c: c["language"].__setitem__("probe", "nothing"),
        "language.probe",
        "unknown probe 'nothing'",
    ),
    (
        lambda c: c["census"].__setitem__("models", ["smollm2-135m-hf"]),
        "census.models",
        "needs the census of smollm2-135m",
    ),
    (
        lambda c: c["language"].__setitem__("languages", ["en", "hau_Latn"]),
        "language.languages[1]",
        "no fastText lid.176 label",
    ),
    (
        lambda c: c["language"].__setitem__("languages", ["en", "ko"]),
        "language.datasets[0]",
        "no texts of ko",
    ),
    (
        lambda c: c["language"].__setitem__("languages", ["en", "eng_Latn"]),
        "language.languages[1]",
        "both lid.176's 'en'",
    ),
    (
        lambda c: (
            c["datasets"].__setitem__(
                "mine",
                {
                    "format": "jsonl",
                    "root": "data/demo",
                    "files": ["boolq/val.jsonl"],
                    "columns": {"text": "question"},
                },
            )
            or c["language"]["datasets"].append("mine")
        ),
        "language.datasets[1]",
        "maps no `lang` column",
    ),
    (
        lambda c: c["language"].__setitem__("temperature", 0),
        "language.temperature",
        "less than or equal to the minimum",
    ),
    (lambda c: c["language"].__setitem__("seed", 3), "language.seed", "unknown key"),
    (lambda c: c["probes"]["linears_mean"].pop("start"), "language.probe", "start: bos_or_eos"),
    (
        lambda c: c["language"].__setitem__("start_tokens", {"xglm-564m": "</s>"}),
        "language.start_tokens",
        "xglm-564m not in language.models",
    ),
    (
        lambda c: c["language"].__setitem__("k", 10**6),
        "language.k",
        "need 2000000 neurons but model 'smollm2-135m' has 155520",
    ),
    (
        lambda c: c["language"].__setitem__("histogram_k", 10**6),
        "language.histogram_k",
        "need 3000000 neurons but model 'smollm2-135m' has 155520",
    ),
    (
        lambda c: c["language"].__setitem__("ablation_k", [10**6, 10**7]),
        "language.ablation_k",
        "more than model 'smollm2-135m' has (155520)",
    ),
    (
        lambda c: c["language"].__setitem__("lid_model", "/nowhere/lid.176.bin"),
        "language.lid_model",
        "/nowhere/lid.176.bin does not exist",
    ),
]


@pytest.mark.parametrize("change, key, words", BAD)
def test_bad_language_sections_name_the_key(config, change, key, words):
    bad = copy.deepcopy(config)
    change(bad)
    with pytest.raises(ConfigError) as info:
        validate_config(bad, SCHEMAS)
    assert info.value.key == key
    assert words in str(info.value)


def test_defaults_and_setup(config):
    del config["language"]["seeds"], config["language"]["temperature"]
    registry = validate_config(config, SCHEMAS)
    assert config["language"]["seeds"] == 100 and config["language"]["temperature"] == 0.8
    values = setup(config, "smollm2-135m", registry)
    assert values["seeds"] == list(range(1, 101))
    assert values["display"] == "SmolLM2-135M-Instruct"
    assert values["formats"] == ["flores200"]
    assert values["data_origin"]["flores"]["is_demo"] is (config["data_root"] == "data/demo")
    assert (
        values["start"] == "bos_or_eos"
        and values["start_token"] is None
        and values["lid_model"] is None
    )
    assert values["sampling"] == {"flores": "80 per language, same sentences across languages"}


def test_sampling_is_stated_per_dataset(config):
    config["datasets"]["flores"]["sample"] = {"n": 5, "per": "lang", "groups": "independent"}
    registry = validate_config(config, SCHEMAS)
    assert setup(config, "smollm2-135m", registry)["sampling"] == {
        "flores": "5 per language, independent draws per language"
    }
    config["datasets"]["flores"]["sample"]["groups"] = "same_positions"
    assert setup(config, "smollm2-135m", registry)["sampling"] == {
        "flores": "5 per language, same sentences across languages"
    }


def test_sizes_at_the_boundary():
    """2k = neurons and 3 × histogram_k = neurons fit; one
    more does not (SmolLM2-135M: 30 × 5184 = 155520)."""
    from lmanatomy.language.config import check_sizes

    section = {"k": 5, "histogram_k": 3, "ablation_k": [1, 100]}
    check_sizes(section, "m", 10)
    with pytest.raises(ConfigError, match="need 12 neurons"):
        check_sizes({**section, "k": 6}, "m", 10)
    check_sizes({**section, "k": 4}, "m", 9)
    with pytest.raises(ConfigError) as info:
        check_sizes({**section, "k": 4, "histogram_k": 4}, "m", 11)
    assert info.value.key == "language.histogram_k"
