"""EOS appended and asserted; padding side; probe specs."""

import numpy as np
import pytest
import yaml
from extract_helpers import IDS, TEXTS, model_of, pool, reference, sequences
from tokenizers import processors

from conftest import REPO
from lmanatomy.errors import ConfigError, ExtractError
from lmanatomy.extract import Probe, extract
from lmanatomy.extract import extraction as extraction_module
from lmanatomy.testing import tiny_tokenizer

TOL = dict(rtol=1e-4, atol=1e-5)
HIDDEN_EOS = dict(modules="hidden_states", pool="eos", batch_size=3, rows_per_shard=4)


def _run(tmp_path, name, tokenizer=None, family="llama", padding_side="right", **spec):
    model, tok = model_of(family)
    return extract(
        model,
        tokenizer or tok,
        TEXTS,
        {**HIDDEN_EOS, **spec},
        tmp_path / name,
        ids=IDS,
        progress=False,
        padding_side=padding_side,
    )


def test_eos_is_appended_when_the_tokenizer_does_not_add_it(tmp_path):
    store = _run(tmp_path, "eos")
    _, tok = model_of("llama")
    assert store.manifest["num_tokens"] == sum(len(s) + 1 for s in sequences(tok))
    assert store.manifest["tokenizer"]["eos_token_id"] == tok.eos_token_id


def test_eos_added_by_the_tokenizer_is_not_doubled(tmp_path):
    model, _ = model_of("llama")
    tok = tiny_tokenizer()
    bos, eos = tok.bos_token_id, tok.eos_token_id
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    own = [list(tok(t)["input_ids"]) for t in TEXTS]
    assert all(s[-1] == eos and s[-2] != eos for s in own)
    store = _run(tmp_path, "eos", tokenizer=tok)
    assert store.manifest["num_tokens"] == sum(map(len, own))
    expected = pool(reference(model, own)["hidden_states.1"], "eos")
    np.testing.assert_allclose(store.read("hidden_states.1"), expected, **TOL)


def test_truncation_keeps_the_eos_as_last_token(tmp_path):
    model, tok = model_of("llama")
    store = _run(tmp_path, "short", max_length=5)
    truncated = [s[:4] + [tok.eos_token_id] for s in sequences(tok)]
    assert store.manifest["num_tokens"] == sum(map(len, truncated))
    ref = reference(model, truncated)
    for column, key in [
        ("hidden_states.0", "hidden_states.0"),
        ("hidden_states.1", "hidden_states.1"),
        ("hidden_states.2", "hidden_states.raw"),
    ]:
        np.testing.assert_allclose(store.read(column), pool(ref[key], "eos"), **TOL)


def test_a_tokenizer_without_eos_is_an_error(tmp_path):
    tok = tiny_tokenizer()
    tok.eos_token = None
    assert tok.eos_token_id is None
    with pytest.raises(ExtractError, match="EOS token"):
        _run(tmp_path, "none", tokenizer=tok)
    # Pools that do not read the EOS position do not need one.
    _run(tmp_path, "mean", tokenizer=tok, pool="mean")


def test_an_eos_dropped_after_appending_is_caught_and_names_the_row(tmp_path, monkeypatch):
    """Stand-in for any later step (a truncating tokenizer, a batching bug) that loses the EOS."""
    real = extraction_module.encode

    def drops_eos_of_row_3(*args, **kwargs):
        seqs = real(*args, **kwargs)
        seqs[3] = seqs[3][:-1]
        return seqs

    monkeypatch.setattr(extraction_module, "encode", drops_eos_of_row_3)
    with pytest.raises(ExtractError, match="row 't3'.*not EOS"):
        _run(tmp_path, "dropped")
    assert not (tmp_path / "dropped" / "_manifest.json").exists()


@pytest.mark.parametrize("family", ["llama", "gpt2", "gpt_neox", "bloom"])
@pytest.mark.parametrize("pool_mode", ["mean", "eos", "all"])
def test_left_padding_gives_the_right_padding_values(tmp_path, family, pool_mode):
    """GPT-2 has absolute positions and BLOOM ALiBi: both must count from the first real token."""
    right = _run(tmp_path, "right", family=family, pool=pool_mode, padding_side="right")
    left = _run(tmp_path, "left", family=family, pool=pool_mode, padding_side="left")
    np.testing.assert_allclose(left.read(), right.read(), **TOL)
    assert left.keys().equals(right.keys())


def test_the_tokenizers_own_padding_side_does_not_matter(tmp_path):
    model, _ = model_of("llama")
    left_tok = tiny_tokenizer()
    left_tok.padding_side = "left"
    a = _run(tmp_path, "a", pool="mean")
    b = _run(tmp_path, "b", tokenizer=left_tok, pool="mean")
    for sa, sb in zip(a.shards, b.shards, strict=True):
        assert (a.path / sa.file).read_bytes() == (b.path / sb.file).read_bytes()


def test_empty_text_without_special_tokens_is_an_error(tmp_path):
    model, _ = model_of("llama")
    tok = tiny_tokenizer(add_bos=False)
    with pytest.raises(ExtractError, match="row 't5' has no tokens"):
        _run(tmp_path, "empty", tokenizer=tok, pool="mean")


def test_probe_spec_validation():
    with pytest.raises(ConfigError, match="probes.p.pool"):
        Probe.from_spec({"modules": "linears", "pool": "median"}, "p")
    with pytest.raises(ConfigError, match="probes.p.layer"):
        Probe.from_spec({"modules": "linears", "pool": "mean", "layer": 3}, "p")
    with pytest.raises(ConfigError, match="probes.p.modules"):
        Probe.from_spec({"pool": "mean"}, "p")
    with pytest.raises(ConfigError, match="probes.p.capture"):
        Probe.from_spec({"modules": "hidden_states", "pool": "eos", "capture": "input"}, "p")
    with pytest.raises(ConfigError, match="probes.p.batch_size"):
        Probe.from_spec({"modules": "linears", "pool": "mean", "batch_size": 0}, "p")


def test_probe_defaults_are_the_schemas():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "probes.schema.yaml").read_text())
    properties = schema["additionalProperties"]["properties"]
    probe = Probe.from_spec({"modules": "linears", "pool": "mean"})
    assert set(properties) == set(probe.spec()) - {"name"}
    for key, prop in properties.items():
        if "default" in prop:
            assert getattr(probe, key) == prop["default"], key
    from lmanatomy.extract import probe as probe_module

    enums = {
        "modules": probe_module.MODULE_ROLES,
        "capture": probe_module.CAPTURES,
        "pool": probe_module.POOLS,
        "last_layer": probe_module.LAST_LAYERS,
        "dtype": probe_module.STORE_DTYPES,
    }
    for key, values in enums.items():
        assert list(values) == properties[key]["enum"], key


def test_config_validation_checks_probes(tmp_path):
    from lmanatomy.config import validate_config

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["models_file"] = str(REPO / "config" / "models.yaml")
    config["data_root"] = str(REPO / "data" / "demo")
    config["probes"]["bad"] = {"modules": "hidden_states", "pool": "eos", "capture": "input"}
    with pytest.raises(ConfigError, match="probes.bad.capture"):
        validate_config(config, REPO / "workflow" / "schemas")
