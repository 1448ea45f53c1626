"""The config's `datasets:` section is checked against
formats and the root on disk, naming the key."""

from __future__ import annotations

import copy

import pytest

from conftest import SCHEMAS
from lmanatomy.config import check_dataset_names, validate_config
from lmanatomy.data import dataset_input_paths
from lmanatomy.errors import ConfigError

# Malformed `datasets:` entries (each must name its key) are cases of MALFORMED in
# tests/test_config_validation.py, beside the rest of the config's bad values.


def test_download_root_checks_against_the_table(config):
    config = copy.deepcopy(config)
    config["datasets"]["d"] = {
        "format": "mmlu",
        "root": None,
        "subjects": ["astronomy", "astronomi"],
    }
    with pytest.raises(
        ConfigError,
        match=(
            r"datasets.d.subjects\[1\]'.*astronomi.*in the download table.*did you mean astronomy"
        ),
    ):
        validate_config(config, SCHEMAS)
    config["datasets"]["d"]["subjects"] = ["astronomy"]
    validate_config(config, SCHEMAS)  # planned downloads need nothing on disk
    assert dataset_input_paths(config, "d") == [
        f"data/raw/mmlu/data/{s}/astronomy_{s}.csv" for s in ("dev", "val", "test")
    ]


@pytest.mark.shared_data
def test_explicit_split_missing_from_the_real_data(config, shared_data):
    config = copy.deepcopy(config)
    config["datasets"]["jnli"]["root"] = str(shared_data)
    validate_config(config, SCHEMAS)  # default splits: those present (valid only)
    config["datasets"]["jnli"]["splits"] = ["train", "valid"]
    with pytest.raises(
        ConfigError,
        match=r"datasets.jnli.splits\[0\]'.*split 'train' of format 'jnli' has no file under",
    ):
        validate_config(config, SCHEMAS)


def test_per_dataset_root_overrides_data_root(config):
    config = copy.deepcopy(config)
    config["data_root"] = None
    config["datasets"]["jsts"]["root"] = "data/demo"
    assert dataset_input_paths(config, "jsts")[0] == "data/demo/jglue/jsts-v1.1/train-v1.1.json"
    assert dataset_input_paths(config, "jnli")[0] == "data/raw/jglue/jnli-v1.1/train-v1.1.json"


def test_check_dataset_names(config):
    assert check_dataset_names(
        "language.dataset", "flores", config, formats=["flores200", "pawsx"]
    ) == ["flores"]
    assert check_dataset_names("paramact.datasets", ["boolq", "mmlu"], config) == ["boolq", "mmlu"]
    with pytest.raises(
        ConfigError,
        match=(
            r"config key 'paramact.datasets\[1\]': unknown dataset 'siqa' \(the config's "
            r"datasets: boolq"
        ),
    ):
        check_dataset_names("paramact.datasets", ["boolq", "siqa"], config)
    with pytest.raises(
        ConfigError,
        match=(
            "config key 'language.dataset': dataset 'jsts' has format 'jsts'; this needs one of: "
            "flores200"
        ),
    ):
        check_dataset_names("language.dataset", "jsts", config, formats=["flores200"])
