"""Extraction on the families resolved from their module tree alone
(Mistral, Qwen3, Gemma-2, OLMo-2, Phi-3): linears and hidden states
against an independent per-text forward pass (extract_helpers)."""

import numpy as np
import pytest
from extract_helpers import IDS, LABELS, TEXTS, model_of, pool, reference, sequences

from lmanatomy.extract import extract
from lmanatomy.models.adapters import adapter_for
from lmanatomy.testing import NEW_FAMILIES

TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_linears_and_hidden_states_match_the_reference(tmp_path, family):
    model, tok = model_of(family)
    ref = reference(model, sequences(tok))
    spec = {"batch_size": 3, "rows_per_shard": 4, "pool": "mean"}
    linears = extract(
        model,
        tok,
        TEXTS,
        {**spec, "modules": "linears"},
        tmp_path / "lin",
        ids=IDS,
        labels=LABELS,
        progress=False,
    )
    adapter = adapter_for(model)
    layers = adapter.decoder_layers(model)
    assert linears.columns == [
        f"layers.{i}.{name}" for i, layer in enumerate(layers) for name, _ in adapter.linears(layer)
    ]
    for column in linears.columns:
        np.testing.assert_allclose(
            linears.read(column), pool(ref[column], "mean"), **TOL, err_msg=column
        )
    hidden = extract(
        model,
        tok,
        TEXTS,
        {**spec, "modules": "hidden_states", "last_layer": "normed"},
        tmp_path / "hs",
        ids=IDS,
        labels=LABELS,
        progress=False,
    )
    for k in range(len(layers) + 1):
        np.testing.assert_allclose(
            hidden.read(f"hidden_states.{k}"), pool(ref[f"hidden_states.{k}"], "mean"), **TOL
        )


@pytest.mark.parametrize("family", [f for f in NEW_FAMILIES if f != "phi3"])
def test_ff_activation_is_the_recomputed_nonlinearity(tmp_path, family):
    model, tok = model_of(family)
    ref = reference(model, sequences(tok))
    store = extract(
        model,
        tok,
        TEXTS,
        {"modules": "ff_activation", "pool": "all", "batch_size": 3},
        tmp_path / "ff",
        ids=IDS,
        labels=LABELS,
        progress=False,
    )
    for column in store.columns:
        np.testing.assert_allclose(
            store.read(column), pool(ref[column], "all"), **TOL, err_msg=column
        )
