"""The model registry: parsing, lookups that name unknown models, folder layout."""

from pathlib import Path

import pytest
import yaml

from lmanatomy.errors import RegistryError
from lmanatomy.models import load_registry, model_dir, parse_entry

LLAMA = {"model_type": "llama", "num_hidden_layers": 2}


def test_every_entry_of_the_shipped_registry_parses(registry):
    assert "smollm2-135m" in registry
    assert registry["smollm2-135m"].source == "gguf"
    assert registry["pythia-410m"].is_series
    assert len(registry["pythia-410m"].checkpoints) == 20
    assert registry["pythia-410m"].checkpoints[0] == "step0"
    assert registry["pythia-410m"].final_checkpoint() == "step143000"
    for entry in registry.values():
        if entry.source == "hf" and not entry.is_series:
            assert entry.revision and len(entry.revision) == 40, (
                f"{entry.name}: revision must be a pinned commit"
            )


def test_unknown_model_is_named(registry):
    with pytest.raises(RegistryError, match="unknown model 'gpt-5'"):
        registry["gpt-5"]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"source": "ftp", "config": LLAMA}, "key 'source' must be one of"),
        ({"source": "hf", "config": LLAMA, "revision": "abc"}, "missing key 'repo'"),
        ({"source": "hf", "repo": "a/b", "config": LLAMA}, "missing key 'revision'"),
        ({"source": "gguf", "package": "p", "config": LLAMA}, "missing key 'file'"),
        ({"source": "local", "config": LLAMA, "train": {}}, "must list the 'checkpoints'"),
        (
            {"source": "hf", "repo": "a/b", "revision": "r", "config": {"hidden_size": 3}},
            "needs 'model_type'",
        ),
    ],
)
def test_malformed_entries_fail_naming_the_key(raw, message):
    with pytest.raises(RegistryError, match=message):
        parse_entry("m", raw)


def test_model_dir_layout():
    single = parse_entry(
        "a", {"source": "hf", "repo": "o/a", "revision": "0" * 40, "config": LLAMA}
    )
    series = parse_entry(
        "s", {"source": "hf", "repo": "o/s", "checkpoints": ["step0", "step9"], "config": LLAMA}
    )
    assert model_dir(single) == Path("data/models/a")
    assert model_dir(series, "step9") == Path("data/models/s/step9")
    with pytest.raises(RegistryError, match="checkpoint series"):
        model_dir(series)
    with pytest.raises(RegistryError, match="no checkpoint 'step5'"):
        model_dir(series, "step5")
    with pytest.raises(RegistryError, match="single model"):
        model_dir(single, "step0")


def test_registry_file_errors(tmp_path):
    with pytest.raises(RegistryError, match="not found"):
        load_registry(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(RegistryError, match="non-empty mapping"):
        load_registry(empty)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"m": {"source": "gguf", "config": LLAMA}}))
    with pytest.raises(RegistryError, match="model 'm': missing key 'package'"):
        load_registry(bad)


def test_revision_must_be_a_full_commit_unless_deliberately_unpinned():
    with pytest.raises(RegistryError, match="revision 'main' is not a full 40-hex commit hash"):
        parse_entry("m", {"source": "hf", "repo": "o/m", "revision": "main", "config": LLAMA})
    entry = parse_entry(
        "m",
        {
            "source": "hf",
            "repo": "o/m",
            "revision": "main",
            "unpinned": "tracks a moving branch on purpose",
            "config": LLAMA,
        },
    )
    assert entry.unpinned == "tracks a moving branch on purpose"


def test_duplicate_yaml_key_names_file_and_both_lines(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "m:\n  source: gguf\n  package: p\n  file: f\n  config:\n    model_type: llama\n    "
        "model_type: gpt2\n"
    )
    with pytest.raises(
        Exception, match=rf"{path}:7: duplicate key 'model_type' \(first written at line 6\)"
    ):
        load_registry(path)


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "a:\n  source: gguf\n  package: p\n  file: f\n  config: &c {model_type: llama, "
        "hidden_size: 8}\nb:\n  source: gguf\n  package: p\n  file: f\n  config:\n    <<: *c\n    "
        "hidden_size: 16\n"
    )
    assert load_registry(path)["b"].config == {"model_type": "llama", "hidden_size": 16}


def test_path_entry_reads_its_architecture_from_config_json(tmp_path, tokenizer):
    from lmanatomy.testing import own_weights_folder

    _, folder = own_weights_folder("qwen3", tokenizer, tmp_path / "mine")
    entry = parse_entry("mine", {"source": "path", "path": str(folder)})
    assert (
        entry.model_type == "qwen3" and entry.config["head_dim"] == 4 and entry.path == str(folder)
    )
    with pytest.raises(
        RegistryError, match=r"entry says config.hidden_size=32 but .*config.json says 16"
    ):
        parse_entry("mine", {"source": "path", "path": str(folder), "config": {"hidden_size": 32}})
    with pytest.raises(RegistryError, match="has no config.json"):
        parse_entry("mine", {"source": "path", "path": str(tmp_path / "absent")})


QWEN25 = {
    "model_type": "qwen2",
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
}


def _hf(config):
    return parse_entry("m", {"source": "hf", "repo": "o/m", "revision": "0" * 40, "config": config})


def test_a_sizing_key_with_a_fixed_default_is_required():
    from lmanatomy.models.facts import check_facts, required_keys

    check_facts(_hf(QWEN25))
    without_kv = {k: v for k, v in QWEN25.items() if k != "num_key_value_heads"}
    with pytest.raises(
        RegistryError, match=r"model 'm' \(qwen2\): config lacks num_key_value_heads"
    ):
        check_facts(_hf(without_kv))  # transformers would silently use 32 KV heads
    # Llama's head_dim and KV heads follow hidden size and heads (as in config.json): not required.
    assert "head_dim" not in required_keys("llama") and "num_key_value_heads" not in required_keys(
        "llama"
    )
    assert {"head_dim", "num_key_value_heads"} <= set(required_keys("qwen3"))
    assert {"n_embd", "n_layer", "n_head"} <= set(
        required_keys("gpt2")
    )  # the family's own spelling


def test_head_counts_must_divide():
    from lmanatomy.models.facts import check_facts

    with pytest.raises(
        RegistryError, match="14 attention heads do not divide into 4 key-value heads"
    ):
        check_facts(_hf({**QWEN25, "num_key_value_heads": 4}))
    with pytest.raises(
        RegistryError, match="hidden size 900 is not divisible by 14 attention heads"
    ):
        check_facts(_hf({**QWEN25, "hidden_size": 900}))


def test_a_type_transformers_lacks_is_refused_unless_remote_code():
    from lmanatomy.models.facts import check_facts

    with pytest.raises(RegistryError, match="model_type 'gemma9' is not built into transformers"):
        check_facts(_hf({**QWEN25, "model_type": "gemma9"}))


@pytest.mark.parametrize(
    ("config", "hidden", "ff_width"),
    [
        (
            {
                "model_type": "llama",
                "num_hidden_layers": 2,
                "hidden_size": 8,
                "intermediate_size": 24,
            },
            8,
            24,
        ),
        (
            {"model_type": "gpt2", "n_layer": 2, "n_embd": 8, "n_inner": None},
            8,
            32,
        ),  # GPT-2: 4 × hidden
        ({"model_type": "opt", "num_hidden_layers": 2, "hidden_size": 8, "ffn_dim": 16}, 8, 16),
        (
            {"model_type": "llama", "num_hidden_layers": 2},
            None,
            None,
        ),  # not stated: None, not a guess
    ],
)
def test_model_facts_are_read_from_the_entry_under_each_familys_key(config, hidden, ff_width):
    entry = parse_entry(
        "m", {"source": "hf", "repo": "x/m", "revision": "0" * 40, "display": "M", "config": config}
    )
    assert (entry.hidden_size, entry.ff_width) == (hidden, ff_width)
    assert entry.ff_neurons == (None if ff_width is None else 2 * ff_width)
