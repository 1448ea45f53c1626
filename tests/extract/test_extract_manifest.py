"""NaN/inf detection, the manifest's contents, and the workflow's extraction from files."""

import json

import pyarrow.parquet as pq
import pytest
import torch
from extract_helpers import IDS, LABELS, TEXTS, sequences

import lmanatomy
from conftest import REPO
from lmanatomy.data import prepare_dataset, write_prepared
from lmanatomy.errors import DataError, NumericalError
from lmanatomy.extract import extract, extract_dataset
from lmanatomy.models.adapters import adapter_for
from lmanatomy.models.loading import sha256_file
from lmanatomy.testing import save_model_dir, tiny_model

SPEC = {"modules": "linears", "pool": "mean", "batch_size": 3, "rows_per_shard": 4}


def _run(model, tok, out, **spec):
    info = {"name": "tiny-nan"}
    return extract(
        model,
        tok,
        TEXTS,
        {**SPEC, **spec},
        out,
        ids=IDS,
        labels=LABELS,
        model_info=info,
        progress=False,
    )


def test_nan_weight_names_model_module_and_row(tmp_path):
    model, tok = tiny_model("llama")
    with torch.no_grad():
        model.model.layers[1].mlp.up_proj.weight[0, 0] = float("nan")
    with pytest.raises(
        NumericalError,
        match=r"model 'tiny-nan': module 'layers.1.mlp.up_proj' produced NaN at row 't0'",
    ):
        _run(model, tok, tmp_path / "nan")
    assert not (tmp_path / "nan" / "_manifest.json").exists()


def test_nan_in_one_text_names_that_text(tmp_path):
    """A NaN embedding row for a token only text t3 contains: only t3's row is non-finite."""
    model, tok = tiny_model("llama")
    seqs = sequences(tok)
    others = {t for i, s in enumerate(seqs) if i != 3 for t in s}
    token = next(t for t in seqs[3] if t not in others)
    with torch.no_grad():
        model.model.embed_tokens.weight[token] = float("nan")
    with pytest.raises(
        NumericalError,
        match=r"module 'layers.0.self_attn.q_proj' produced NaN at row 't3' \(1 rows",
    ):
        _run(model, tok, tmp_path / "nan")


def test_all_pool_error_names_the_position(tmp_path):
    model, tok = tiny_model("llama")
    seqs = sequences(tok)
    others = {t for i, s in enumerate(seqs) if i != 3 for t in s}
    position = next(p for p, t in enumerate(seqs[3]) if t not in others)
    with torch.no_grad():
        model.model.embed_tokens.weight[seqs[3][position]] = float("inf")
    # Attention spreads the NaN to every position of t3 (masked scores are NaN + mask); the error
    # names the first affected row of the text in dataset order.
    with pytest.raises(
        NumericalError, match=r"module 'layers.0' produced NaN at row 't3' position 0 \("
    ):
        _run(model, tok, tmp_path / "inf", modules="residual", pool="all")


def test_float16_overflow_is_an_error_not_an_inf(tmp_path):
    model, tok = tiny_model("llama")
    with torch.no_grad():
        model.model.layers[0].mlp.gate_proj.weight.mul_(1e7)
    _run(model, tok, tmp_path / "fp32", dtype="float32")  # finite in float32
    with pytest.raises(
        NumericalError, match=r"module 'layers.0.mlp.gate_proj' .* overflows float16 storage"
    ):
        _run(model, tok, tmp_path / "fp16", dtype="float16")


def _dataset(tmp_path):
    """A dataset prepared by the data layer from the demo FLORES files (Parquet + sidecar JSON)."""
    spec = {
        "format": "flores200",
        "splits": ["dev"],
        "languages": ["en", "ja"],
        "sample": {"n": 4, "per": "lang"},
    }
    prepared = prepare_dataset(spec, REPO / "data" / "demo", name="demo")
    path = tmp_path / "data" / "demo.parquet"
    path.parent.mkdir()
    sidecar = write_prepared(prepared.frame, path, path.with_suffix(".json"), meta=prepared.meta)
    return path, json.loads(path.with_suffix(".json").read_text()), sidecar


def test_manifest_records_model_dataset_probe_and_shards(tmp_path):
    model, tok = tiny_model("llama")
    folder = save_model_dir(model, tok, tmp_path / "models" / "tiny", name="tiny")
    data, sidecar, written = _dataset(tmp_path)
    table = pq.read_table(data)
    spec = {"modules": "linears", "pool": "mean", "dtype": "float16", "rows_per_shard": 3}
    store = extract_dataset(
        folder,
        data,
        spec,
        tmp_path / "store",
        model_name="tiny",
        dataset_name="demo",
        probe_name="lin",
        progress=False,
    )
    manifest = json.loads((tmp_path / "store" / "_manifest.json").read_text())
    assert manifest == store.manifest
    provenance = json.loads((folder / "provenance.json").read_text())
    assert manifest["model"]["name"] == "tiny" and manifest["model"]["source"] == "test"
    assert manifest["model"]["provenance"] == provenance
    assert manifest["dataset"] == {
        "name": "demo",
        "content_hash": written["content_sha256"],
        "sidecar": sidecar,
    }
    assert manifest["probe"] == {
        "name": "lin",
        "modules": "linears",
        "pool": "mean",
        "capture": "output",
        "last_layer": "raw",
        "dtype": "float16",
        "batch_size": 16,
        "rows_per_shard": 3,
        "max_length": 512,
        "start": "tokenizer",
    }
    assert manifest["dtype"] == "float16" and store.read().dtype == "float16"
    assert manifest["library_version"] == lmanatomy.__version__
    assert manifest["rows_per_shard"] == 3 and manifest["num_rows"] == 8 == manifest["num_texts"]
    assert [s["rows"] for s in manifest["shards"]] == [3, 3, 2]
    assert [s["file"] for s in manifest["shards"]] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    for shard in manifest["shards"]:
        assert shard["sha256"] == sha256_file(tmp_path / "store" / shard["file"])
    # Column widths are the linears' output features (the census's neurons), read from the modules.
    adapter = adapter_for(model)
    expected = [
        (f"layers.{i}.{info.name}", info.out_features)
        for i, layer in enumerate(adapter.decoder_layers(model))
        for info in adapter.linear_infos(layer)
    ]
    assert [(c["name"], c["width"]) for c in manifest["columns"]] == expected
    assert manifest["key_columns"] == ["id", "label"]
    assert store.ids() == table.column("id").to_pylist()
    assert list(store.labels()) == table.column("label").to_pylist() == ["en"] * 4 + ["ja"] * 4


def test_a_sidecar_of_another_parquet_is_refused(tmp_path):
    model, tok = tiny_model("llama")
    folder = save_model_dir(model, tok, tmp_path / "models" / "tiny", name="tiny")
    data, sidecar, _ = _dataset(tmp_path)
    sidecar["content_sha256"] = "0" * 64
    data.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(DataError, match="content sha256"):
        extract_dataset(folder, data, SPEC, tmp_path / "store", progress=False)


def test_capture_input_widths_are_in_features(tmp_path):
    model, tok = tiny_model("gpt2")
    store = extract(
        model,
        tok,
        TEXTS[:2],
        {"modules": "linears", "pool": "last", "capture": "input"},
        tmp_path / "s",
        progress=False,
    )
    adapter = adapter_for(model)
    expected = [
        info.in_features
        for layer in adapter.decoder_layers(model)
        for info in adapter.linear_infos(layer)
    ]
    assert [store.widths[c] for c in store.columns] == expected
