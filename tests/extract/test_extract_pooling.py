"""Pooled store values against an independent per-text forward pass, for every pool and role."""

import numpy as np
import pytest
import torch
from extract_helpers import IDS, LABELS, TEXTS, model_of, pool, reference, sequences

from lmanatomy.extract import extract
from lmanatomy.models.adapters import adapter_for

FAMILIES = ["llama", "gpt_neox", "gpt2"]
POOLS = ["mean", "last", "eos", "all"]
TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def references():
    cache = {}

    def get(family, eos):
        if (family, eos) not in cache:
            model, tok = model_of(family)
            cache[(family, eos)] = reference(model, sequences(tok, eos=eos))
        return cache[(family, eos)]

    return get


def _extract(tmp_path, family, name, **spec):
    model, tok = model_of(family)
    spec.setdefault("batch_size", 3)
    spec.setdefault("rows_per_shard", 4)
    return extract(model, tok, TEXTS, spec, tmp_path / name, ids=IDS, labels=LABELS, progress=False)


def _expected(ref, column, pool_mode):
    return pool(ref[column], pool_mode)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("pool_mode", POOLS)
def test_linears_match_manually_recomputed_linear_outputs(tmp_path, references, family, pool_mode):
    store = _extract(tmp_path, family, "lin", modules="linears", pool=pool_mode)
    ref = references(family, pool_mode == "eos")
    model, _ = model_of(family)
    adapter = adapter_for(model)
    expected_columns = [
        f"layers.{i}.{name}"
        for i, layer in enumerate(adapter.decoder_layers(model))
        for name, _ in adapter.linears(layer)
    ]
    assert store.columns == expected_columns
    for column in store.columns:
        np.testing.assert_allclose(
            store.read(column), _expected(ref, column, pool_mode), **TOL, err_msg=column
        )
    n_rows = (
        sum(len(s) for s in sequences(model_of(family)[1], eos=False))
        if pool_mode == "all"
        else len(TEXTS)
    )
    assert store.num_rows == n_rows


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("pool_mode", POOLS)
def test_hidden_states_match_output_hidden_states(tmp_path, references, family, pool_mode):
    ref = references(family, pool_mode == "eos")
    model, _ = model_of(family)
    n_layers = len(adapter_for(model).decoder_layers(model))
    normed = _extract(
        tmp_path, family, "normed", modules="hidden_states", pool=pool_mode, last_layer="normed"
    )
    raw = _extract(
        tmp_path, family, "raw", modules="hidden_states", pool=pool_mode, last_layer="raw"
    )
    assert normed.columns == [f"hidden_states.{k}" for k in range(n_layers + 1)] == raw.columns
    for k in range(n_layers + 1):
        np.testing.assert_allclose(
            normed.read(f"hidden_states.{k}"),
            _expected(ref, f"hidden_states.{k}", pool_mode),
            **TOL,
        )
    for k in range(n_layers):
        np.testing.assert_array_equal(
            raw.read(f"hidden_states.{k}"), normed.read(f"hidden_states.{k}")
        )
    last = f"hidden_states.{n_layers}"
    np.testing.assert_allclose(
        raw.read(last), _expected(ref, "hidden_states.raw", pool_mode), **TOL
    )
    assert not np.allclose(raw.read(last), normed.read(last)), (
        "raw and normed last layers must differ"
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_raw_last_layer_through_the_final_norm_is_the_normed_one(tmp_path, family):
    """Per position, final_norm(raw last layer) is
    exactly what output_hidden_states returns last."""
    model, _ = model_of(family)
    n_layers = len(adapter_for(model).decoder_layers(model))
    raw = _extract(tmp_path, family, "raw", modules="hidden_states", pool="all", last_layer="raw")
    normed = _extract(
        tmp_path, family, "normed", modules="hidden_states", pool="all", last_layer="normed"
    )
    with torch.no_grad():
        through = adapter_for(model).final_norm_module(model)(
            torch.from_numpy(raw.read(f"hidden_states.{n_layers}"))
        )
    np.testing.assert_allclose(through.numpy(), normed.read(f"hidden_states.{n_layers}"), **TOL)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("role", ["ff_activation", "ff_input", "residual"])
def test_other_roles_match_the_reference(tmp_path, references, family, role):
    ref = references(family, False)
    model, _ = model_of(family)
    adapter = adapter_for(model)
    store = _extract(tmp_path, family, role, modules=role, pool="all")
    n_layers = len(adapter.decoder_layers(model))
    path = {"ff_activation": adapter.ff_activation, "ff_input": adapter.ff_input, "residual": None}[
        role
    ]
    assert store.columns == [
        f"layers.{i}.{path}" if path else f"layers.{i}" for i in range(n_layers)
    ]
    for column in store.columns:
        np.testing.assert_allclose(
            store.read(column), _expected(ref, column, "all"), **TOL, err_msg=column
        )


@pytest.mark.parametrize(
    "family,module", [("llama", "mlp.down_proj"), ("gpt_neox", "mlp.dense_4h_to_h")]
)
def test_captured_inputs_match_the_recomputed_ff_product(tmp_path, references, family, module):
    """The input of the FF output projection is act(pre) (× up for gated MLPs), recomputed here."""
    ref = references(family, False)
    model, _ = model_of(family)
    adapter = adapter_for(model)
    store = _extract(tmp_path, family, "inputs", modules="linears", capture="input", pool="mean")
    for i, layer in enumerate(adapter.decoder_layers(model)):
        pre = [torch.from_numpy(a) for a in ref[f"layers.{i}.{adapter.ff_input}"]]
        act = adapter.ff_activation_module(layer)
        with torch.no_grad():
            product = [act(p) for p in pre]
            if family == "llama":
                product = [
                    a * torch.from_numpy(u)
                    for a, u in zip(product, ref[f"layers.{i}.mlp.up_proj"], strict=True)
                ]
        expected = pool([p.numpy() for p in product], "mean")
        np.testing.assert_allclose(store.read(f"layers.{i}.{module}"), expected, **TOL)


def test_all_pool_rows_carry_position_and_token(tmp_path):
    model, tok = model_of("llama")
    store = _extract(tmp_path, "llama", "all", modules="residual", pool="all", rows_per_shard=5)
    keys = store.keys().to_pydict()
    seqs = sequences(tok)
    assert keys["id"] == [IDS[t] for t, s in enumerate(seqs) for _ in s]
    assert keys["label"] == [LABELS[t] for t, s in enumerate(seqs) for _ in s]
    assert keys["position"] == [p for s in seqs for p in range(len(s))]
    assert keys["token_id"] == [tok_id for s in seqs for tok_id in s]
    assert all(s.rows <= 5 for s in store.shards) and len(store.shards) == -(-store.num_rows // 5)


@pytest.mark.parametrize("family", ["bloom", "xglm", "qwen2"])
def test_other_families_hidden_states(tmp_path, references, family):
    """The remaining adapter families: hidden states and linears agree with the reference too."""
    ref = references(family, False)
    for modules in ("hidden_states", "linears"):
        store = _extract(
            tmp_path, family, modules, modules=modules, pool="mean", last_layer="normed"
        )
        for column in store.columns:
            np.testing.assert_allclose(
                store.read(column), _expected(ref, column, "mean"), **TOL, err_msg=column
            )
