"""hidden_eos_normed derived from the raw store equals the second extraction bit for bit."""

import numpy as np
import pandas as pd
import pytest
import torch

from lmanatomy.errors import StoreError
from lmanatomy.extract import open_store
from lmanatomy.extract.extraction import extract
from lmanatomy.redundancy.normed import NormedLastLayer, derivable, normed_view
from lmanatomy.redundancy.pairs import pair_arrays
from lmanatomy.testing import save_model_dir, tiny_model

RAW = {
    "modules": "hidden_states",
    "pool": "eos",
    "last_layer": "raw",
    "rows_per_shard": 5,
    "batch_size": 4,
}
NORMED = {**RAW, "last_layer": "normed"}
TEXTS = [f"sentence number {i} {'with more words ' * (i % 4)}" for i in range(13)]


def test_derived_last_layer_equals_the_extracted_one_bit_for_bit(tokenizer, tmp_path):
    model, tok = tiny_model(
        "llama",
        tokenizer=tokenizer,
        seed=4,
        layers=3,
        hidden=32,
        ff=64,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
    )
    with torch.no_grad():  # a norm that does something (the fresh one has weight 1)
        model.model.norm.weight.copy_(torch.linspace(0.2, 3.0, 32))
    ids = [f"s{i:02d}" for i in range(len(TEXTS))]
    raw = extract(model, tok, TEXTS, RAW, tmp_path / "raw", ids=ids, progress=False)
    normed = extract(model, tok, TEXTS, NORMED, tmp_path / "normed", ids=ids, progress=False)
    folder = save_model_dir(model, tok, tmp_path / "model")

    derived = normed_view(open_store(raw.path), folder)
    last = "hidden_states.3"
    assert np.array_equal(derived.read([last]), normed.read([last]))
    assert not np.array_equal(raw.read([last]), normed.read([last]))  # the norm changed them
    split = pd.DataFrame({"id": ids, "text": TEXTS, "split": ["train"] * 9 + ["test"] * 4})
    for source in (1, 2):
        expected, got = pair_arrays(normed, split, source), pair_arrays(derived, split, source)
        assert all(np.array_equal(got[k], expected[k]) for k in expected), source


def test_only_a_raw_float32_store_is_derived_and_only_where_it_was_checked(tokenizer, tmp_path):
    assert derivable(RAW, NORMED, "cpu", "float32")
    assert not derivable(NORMED, RAW, "cpu", "float32")
    assert not derivable(RAW, {**NORMED, "batch_size": 8}, "cpu", "float32")
    assert not derivable(
        {**RAW, "dtype": "float16"}, {**NORMED, "dtype": "float16"}, "cpu", "float32"
    )
    assert not derivable(RAW, NORMED, "cuda", "float32") and not derivable(
        RAW, NORMED, "cpu", "bfloat16"
    )
    model, tok = tiny_model(
        "llama",
        tokenizer=tokenizer,
        layers=2,
        hidden=16,
        ff=32,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=8,
    )
    normed = extract(model, tok, TEXTS[:3], NORMED, tmp_path / "normed", progress=False)
    with pytest.raises(StoreError, match="only a float32 store of raw hidden states"):
        NormedLastLayer(normed, model.model.norm)
