"""Bad configs stop before any job, with a message naming the key and the value."""

import copy

import pytest
import yaml

from conftest import REPO, SCHEMAS, run_snakemake
from lmanatomy.config import check_layer_range, validate_config
from lmanatomy.errors import ConfigError


def _set(config, dotted, value):
    node = config
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


_DELETE = object()

MALFORMED = [
    # (dotted key to change, new value, key the message must name, words it must contain)
    ("runn", "x", "runn", "unknown key"),
    ("run", 3, "run", "is not of type 'string'"),
    ("run", "my run/1", "run", "does not match"),
    ("device", "tpu", "device", "'tpu' is not one of"),
    ("dtype", "float8", "dtype", "'float8' is not one of"),
    ("studies", ["census", "telepathy"], "studies[1]", "'telepathy' is not one of"),
    ("studies", "census", "studies", "is not of type 'array'"),
    ("census.models", [], "census.models", "should be non-empty"),
    ("census.models", ["smollm2-135m", "gpt-7"], "census.models[1]", "unknown model 'gpt-7'"),
    ("census.verify_weights", "yes", "census.verify_weights", "is not of type 'boolean'"),
    ("census.modls", ["x"], "census.modls", "unknown key"),
    ("models_file", "config/nothing.yaml", "models_file", "does not exist"),
    ("data_root", "no/such/folder", "data_root", "does not exist"),
    ("data_root", 5, "data_root", "is not of type"),
    ("run", _DELETE, "run", "required key is missing"),
    # the datasets section, checked against formats and the root on disk
    (
        "datasets.d",
        {"format": "jsts", "languages": ["en"]},
        "datasets.d.languages",
        "does not apply to format 'jsts'",
    ),
    ("datasets.d", {"format": "boolq", "subjects": "all"}, "datasets.d.subjects", "only to mmlu"),
    (
        "datasets.d",
        {"format": "jsts", "splits": ["valid", "test"]},
        "datasets.d.splits[1]",
        "unknown split 'test' (format 'jsts' has: train, valid)",
    ),
    (
        "datasets.d",
        {"format": "flores200", "languages": ["en", "xx"]},
        "datasets.d.languages[1]",
        "'xx' is not one of",
    ),
    (
        "datasets.d",
        {"format": "mmlu", "root": "data/demo", "subjects": ["global_facts", "astronomy"]},
        "datasets.d.subjects[1]",
        "subject 'astronomy': no mmlu/data/dev/astronomy_dev.csv under data/demo",
    ),
    (
        "datasets.mmlu.subjects",
        ["global_fact"],
        "datasets.mmlu.subjects[0]",
        "did you mean global_facts?",
    ),
    (
        "datasets.flores.sample",
        {"n": 5, "per": "subject"},
        "datasets.flores.sample.per",
        "format 'flores200' has no column 'subject'",
    ),
    ("datasets.flores.sample", {"n": 0}, "datasets.flores.sample.n", "less than the minimum"),
    (
        "datasets.jnli.text_column",
        "premise",
        "datasets.jnli.text_column",
        "has no text field 'premise'",
    ),
    (
        "datasets.jnli.root",
        "no/such/folder",
        "datasets.jnli.root",
        "data folder 'no/such/folder' does not exist",
    ),
    ("datasets.jnli.samples", {"n": 3}, "datasets.jnli.samples", "unknown key"),
    ("datasets.d", {"format": "pawsx"}, "datasets.d", "format 'pawsx': no data under data/real"),
]


@pytest.mark.parametrize(
    "key, value, named, words", MALFORMED, ids=[m[0] + ":" + repr(m[1])[:20] for m in MALFORMED]
)
def test_malformed_config_names_the_key(config, key, value, named, words):
    config = copy.deepcopy(config)
    _set(config, key, value)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMAS)
    message = str(info.value)
    assert message.startswith(f"config key '{named}'"), message
    assert words in message, message


def test_study_without_section_is_an_error(config):
    config = copy.deepcopy(config)
    del config["census"]
    with pytest.raises(
        ConfigError,
        match=(
            "config key 'studies': study 'census' is enabled but the config has no 'census' section"
        ),
    ):
        validate_config(config, SCHEMAS)


def test_malformed_registry_is_named_with_its_file(config, tmp_path):
    registry = tmp_path / "models.yaml"
    registry.write_text(yaml.safe_dump({"m": {"source": "hf", "config": {"model_type": "llama"}}}))
    config = copy.deepcopy(config)
    config["models_file"] = str(registry)
    with pytest.raises(
        ConfigError, match=r"models.yaml: m.repo'?: required key is missing|models.yaml: m'?:"
    ):
        validate_config(config, SCHEMAS)


def test_layer_range_outside_the_model(registry):
    entry = registry["smollm2-135m"]
    assert check_layer_range("lesion.ranges[0]", [4, 8], entry) == (4, 8)
    with pytest.raises(
        ConfigError,
        match=(
            r"config key 'lesion.ranges\[1\]': layer range \[26, 30\] is outside model "
            r"'smollm2-135m' \(layers 0..29\)"
        ),
    ):
        check_layer_range("lesion.ranges[1]", [26, 30], entry)
    with pytest.raises(ConfigError, match="is outside"):
        check_layer_range("k", [5, 4], entry)


def test_defaults_are_filled_in(config):
    config = copy.deepcopy(config)
    del config["census"]["verify_weights"]
    validate_config(config, SCHEMAS)
    assert config["census"]["verify_weights"] is False


@pytest.mark.parametrize(
    "key, value, named", [("run", 3, "run"), ("census.models", ["nope"], "census.models[0]")]
)
def test_snakemake_stops_before_any_job(tmp_path, key, value, named):
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    _set(config, key, value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = run_snakemake("-n", "--configfile", str(path))
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert f"config key '{named}'" in output
    assert "Job stats" not in output  # nothing was planned, let alone run
