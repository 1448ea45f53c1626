"""The paramact config section: bad values stop before any job, naming the key."""

import copy

import pytest
import yaml

from conftest import REPO, SCHEMAS
from lmanatomy.config import validate_config
from lmanatomy.errors import ConfigError


def test_default_and_paper_configs_validate(config):
    validate_config(copy.deepcopy(config), SCHEMAS)
    with open(REPO / "config" / "papers" / "wang2024.yaml", encoding="utf-8") as fh:
        paper = yaml.safe_load(fh)
    validate_config(paper, SCHEMAS)
    assert paper["paramact"]["jobs"] == "split"


BAD = [
    (["models"], ["nope-1b"], "paramact.models[0]", "unknown model 'nope-1b'"),
    (["task_datasets"], ["boolq", "squad"], "paramact.task_datasets[1]", "unknown dataset 'squad'"),
    (
        ["boxplot_pairs"],
        [["boolq", "xsum"]],
        "paramact.boxplot_pairs[0][1]",
        "unknown dataset 'xsum'",
    ),
    (["general_datasets"], ["boolq"], "paramact.general_datasets", "also task datasets"),
    (
        ["pair_sample_overrides"],
        [{"pair": ["boolq", "flores"], "samples": 2}],
        "paramact.pair_sample_overrides[0].pair",
        "neither",
    ),
    (["gamma"], 0, "paramact.gamma", "a positive number or auto"),
    (["gamma"], "high", "paramact.gamma", "a positive number or auto"),
    (["jobs"], "split", "paramact.gamma", "needs jobs: single"),
    (["sts"], {"datasets": ["boolq"], "pairs": 4}, "paramact.sts.datasets[0]", "format"),
    (["joined_windows"], ["boolq"], "paramact.joined_windows[0]", "no entry in paramact.windows"),
    (["cache_units"], 0, "paramact.cache_units", "less than the minimum"),
    (["running_mean"], "ram", "paramact.running_mean", "is not one of"),
    (["windows"], {"squad": 256}, "paramact.windows.squad", "unknown dataset"),
    (
        ["gamma_overrides"],
        {"llama-2-13b": 5e-6},
        "paramact.gamma_overrides.llama-2-13b",
        "not one of paramact.models",
    ),
]


@pytest.mark.parametrize("path, value, key, words", BAD, ids=[b[2] for b in BAD])
def test_bad_section_names_the_key(config, path, value, key, words):
    config = copy.deepcopy(config)
    config["paramact"][path[0]] = value
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMAS)
    assert f"config key '{key}'" in str(info.value) and words in str(info.value)


def test_auto_gamma_needs_a_target_share(config):
    config = copy.deepcopy(config)
    del config["paramact"]["gamma_target_share"]
    with pytest.raises(ConfigError, match="paramact.gamma_target_share"):
        validate_config(config, SCHEMAS)


def test_validation_density_comes_from_a_counted_dataset(config):
    config = copy.deepcopy(config)
    config["paramact"]["validation"]["density_dataset"] = "jsts"
    with pytest.raises(ConfigError, match="paramact.validation.density_dataset"):
        validate_config(config, SCHEMAS)
