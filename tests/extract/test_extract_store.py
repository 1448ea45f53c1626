"""The reader: streaming per column and row range, memory budget, corrupt and foreign shards."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from extract_helpers import IDS, LABELS, TEXTS, model_of

from lmanatomy.errors import StoreError
from lmanatomy.extract import extract, open_store
from lmanatomy.extract.shards import FINGERPRINT_KEY


@pytest.fixture()
def store(tmp_path):
    model, tok = model_of("llama")
    spec = {"modules": "linears", "pool": "mean", "batch_size": 2, "rows_per_shard": 3}
    return extract(
        model, tok, TEXTS, spec, tmp_path / "store", ids=IDS, labels=LABELS, progress=False
    )


def _other(tmp_path, name="other"):
    model, tok = model_of("llama")
    spec = {"modules": "linears", "pool": "mean", "batch_size": 2, "rows_per_shard": 3}
    return extract(
        model,
        tok,
        [t + "!" for t in TEXTS],
        spec,
        tmp_path / name,
        ids=IDS,
        labels=LABELS,
        progress=False,
    )


def test_read_and_stream_agree_per_column_and_row_range(store):
    columns = ["layers.1.mlp.up_proj", "layers.0.self_attn.k_proj"]
    whole = store.read(columns)
    widths = [store.widths[c] for c in columns]
    assert whole.shape == (len(TEXTS), sum(widths)) and whole.dtype == np.float32
    np.testing.assert_array_equal(whole[:, : widths[0]], store.read(columns[0]))
    np.testing.assert_array_equal(whole[:, widths[0] :], store.read(columns[1]))
    chunks = list(store.iter_chunks(columns, rows=(2, 7)))
    assert [(c.start, c.stop) for c in chunks] == [
        (2, 3),
        (3, 6),
        (6, 7),
    ]  # one chunk per shard touched
    assert all(list(c.arrays) == columns for c in chunks)
    np.testing.assert_array_equal(np.concatenate([c.stacked() for c in chunks]), whole[2:7])
    np.testing.assert_array_equal(store.read(columns, rows=slice(2, 7)), whole[2:7])
    assert store.ids(rows=range(2, 7)) == IDS[2:7]
    assert list(store.labels()) == LABELS


def test_streaming_reads_only_the_asked_columns_one_shard_at_a_time(store, monkeypatch):
    calls = []
    real = pq.ParquetFile.read

    def spy(self, columns=None, **kwargs):
        calls.append((columns, self.metadata.num_rows))
        return real(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    list(store.iter_chunks("layers.0.mlp.down_proj", rows=(3, 7)))
    assert calls == [(["layers.0.mlp.down_proj"], 3), (["layers.0.mlp.down_proj"], 1)]


def test_read_refuses_what_exceeds_the_budget(store):
    need = store.nbytes()
    assert need == len(TEXTS) * sum(store.widths.values()) * 4
    with pytest.raises(StoreError, match="over the budget"):
        store.read(max_bytes=need - 1)
    assert store.read(max_bytes=need).shape[0] == len(TEXTS)
    small = open_store(store.path, max_bytes=10)
    with pytest.raises(StoreError, match="iter_chunks"):
        small.read("layers.0.mlp.up_proj")


def test_bad_requests_name_the_problem(store):
    with pytest.raises(StoreError, match="no column 'layers.9.mlp'"):
        store.read("layers.9.mlp")
    with pytest.raises(StoreError, match="outside"):
        store.read("layers.0.mlp.up_proj", rows=(5, 99))


def test_layer_columns(store):
    assert store.layer_columns(1) == [c for c in store.columns if c.startswith("layers.1.")]
    assert len(store.layer_columns(1)) == 7


def test_truncated_shard_is_detected_and_named(store):
    path = store.path / "part-00001.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StoreError, match="part-00001.parquet is unreadable"):
        open_store(store.path)


def test_missing_shard_is_detected(store):
    (store.path / "part-00002.parquet").unlink()
    with pytest.raises(StoreError, match="part-00002.parquet is missing"):
        open_store(store.path)


def test_foreign_shard_is_detected(store, tmp_path):
    other = _other(tmp_path)
    (store.path / "part-00001.parquet").write_bytes(
        (other.path / "part-00001.parquet").read_bytes()
    )
    with pytest.raises(StoreError, match="part-00001.parquet belongs to another extraction"):
        open_store(store.path)


def test_row_count_different_from_the_manifest_is_detected(store):
    manifest = json.loads((store.path / "_manifest.json").read_text())
    manifest["shards"][0]["rows"] -= 1
    manifest["shards"][1]["rows"] += 1
    (store.path / "_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="part-00000.parquet has 3 rows; the manifest says 2"):
        open_store(store.path)


def test_schema_different_from_the_manifest_is_detected(store):
    """A shard carrying our fingerprint but missing a
    column (a hand-edited or half-converted file)."""
    path = store.path / "part-00000.parquet"
    table = pq.read_table(path)
    table = table.drop_columns(["layers.0.mlp.up_proj"]).replace_schema_metadata(
        table.schema.metadata
    )
    assert table.schema.metadata[FINGERPRINT_KEY] == store.fingerprint.encode()
    pq.write_table(table, path)
    with pytest.raises(StoreError, match="part-00000.parquet has columns"):
        open_store(store.path)


def test_unlisted_shard_is_detected(store):
    (store.path / "part-00099.parquet").write_bytes(
        (store.path / "part-00000.parquet").read_bytes()
    )
    with pytest.raises(StoreError, match="part-00099.parquet is not listed"):
        open_store(store.path)


def test_incomplete_store_has_no_manifest(store):
    (store.path / "_manifest.json").unlink()
    with pytest.raises(StoreError, match="has not finished"):
        open_store(store.path)


def test_verify_compares_shard_hashes(store):
    store.verify()
    path = store.path / "part-00001.parquet"
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF  # inside the data pages; the footer still opens
    path.write_bytes(bytes(data))
    reopened = open_store(store.path)
    with pytest.raises(StoreError, match="part-00001.parquet: sha256"):
        reopened.verify()
