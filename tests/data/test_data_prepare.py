"""Prepared datasets: seeded sampling, byte-identical Parquet + JSON, content hashes, provenance."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from lmanatomy.data import (
    FORMATS,
    content_sha256,
    load,
    prepare,
    prepare_dataset,
    read_prepared,
    sample_rows,
    write_prepared,
)
from lmanatomy.data.download import record_path
from lmanatomy.errors import DataError

DEMO = REPO / "data" / "demo"
FLORES_SPEC = {
    "format": "flores200",
    "splits": ["dev"],
    "sample": {"n": 25, "per": "lang", "seed": 7},
}


def reference_sample(frame: pd.DataFrame, n: int, per: str | None, seed: int) -> pd.DataFrame:
    """The documented method, written out independently:
    per group, permutation(len)[:n], table order."""
    keep = []
    values = [None] if per is None else list(dict.fromkeys(frame[per]))
    for value in values:
        group = (
            frame.index.to_numpy() if per is None else frame.index[frame[per] == value].to_numpy()
        )
        chosen = np.random.Generator(np.random.PCG64(seed)).permutation(len(group))[:n]
        keep.extend(group[chosen])
    return frame.loc[sorted(keep)].reset_index(drop=True)


def test_sampling_follows_the_documented_method():
    full = load("flores200", DEMO, splits=["dev"])
    sampled = prepare(FLORES_SPEC, DEMO)
    pd.testing.assert_frame_equal(sampled, reference_sample(full, 25, "lang", 7))
    assert sampled.groupby("lang").size().to_dict() == {lang: 25 for lang in full["lang"].unique()}
    # Kept rows stay in table order, and equal-size groups keep the same lines: still parallel.
    assert sampled["id"].tolist() == [i for i in full["id"] if i in set(sampled["id"])]
    lines = {lang: group["line"].tolist() for lang, group in sampled.groupby("lang")}
    assert all(v == lines["en"] for v in lines.values())


def test_independent_groups_draw_different_sentences_per_language():
    spec = {**FLORES_SPEC, "sample": {**FLORES_SPEC["sample"], "groups": "independent"}}
    full = load("flores200", DEMO, splits=["dev"])
    sampled = prepare(spec, DEMO)
    lines = {lang: group["line"].tolist() for lang, group in sampled.groupby("lang")}
    assert all(len(v) == 25 for v in lines.values()) and lines["de"] != lines["en"]
    # The documented method written out: each language's
    # generator seeded by [seed, sha256(key)[:8] little-endian].
    for lang, kept in lines.items():
        rows = full[full["lang"] == lang]
        key = int.from_bytes(hashlib.sha256(lang.encode()).digest()[:8], "little")
        chosen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, key]))).permutation(
            len(rows)
        )[:25]
        assert kept == sorted(rows["line"].to_numpy()[chosen].tolist())
    with pytest.raises(DataError, match="sample.groups is 'mixed'"):
        prepare_dataset(
            {**FLORES_SPEC, "sample": {**FLORES_SPEC["sample"], "groups": "mixed"}}, DEMO, name="f"
        )


def test_sampling_is_deterministic_and_seeded():
    first, again = prepare(FLORES_SPEC, DEMO), prepare(FLORES_SPEC, DEMO)
    pd.testing.assert_frame_equal(first, again)
    other = prepare({**FLORES_SPEC, "sample": {**FLORES_SPEC["sample"], "seed": 8}}, DEMO)
    assert set(other["id"]) != set(first["id"])


def test_sampling_without_per_and_too_small_groups():
    full = load("jsts", DEMO)
    sampled = prepare({"format": "jsts", "sample": {"n": 100, "seed": 3}}, DEMO)
    pd.testing.assert_frame_equal(sampled, reference_sample(full, 100, None, 3))
    assert len(sampled) == 100
    with pytest.raises(
        DataError,
        match=(
            r"dataset 'js' \(.*demo\): sample.n = 80 but the group split='valid' has only 70 rows"
        ),
    ):
        prepare_dataset({"format": "jsts", "sample": {"n": 80, "per": "split"}}, DEMO, name="js")
    with pytest.raises(DataError, match="sample.per: the table has no column 'lang'"):
        sample_rows(full, 3, per="lang")


def test_prepared_files_are_byte_identical(tmp_path):
    outputs = []
    for run in ("a", "b"):
        prepared = prepare_dataset(FLORES_SPEC, DEMO, name="flores")
        parquet, meta = tmp_path / run / "flores.parquet", tmp_path / run / "flores.json"
        write_prepared(prepared.table, parquet, meta, meta=prepared.meta)
        outputs.append((parquet.read_bytes(), meta.read_bytes()))
        assert sorted(p.name for p in (tmp_path / run).iterdir()) == [
            "flores.json",
            "flores.parquet",
        ]  # no temporaries
    assert outputs[0] == outputs[1]
    # A DataFrame and the Arrow table of the same content give the same files.
    prepared = prepare_dataset(FLORES_SPEC, DEMO, name="flores")
    write_prepared(prepared.frame, tmp_path / "c.parquet", tmp_path / "c.json", meta=prepared.meta)
    assert (tmp_path / "c.parquet").read_bytes() == outputs[0][0]


def test_sidecar_records_provenance(tmp_path):
    prepared = prepare_dataset(FLORES_SPEC, DEMO, name="flores")
    sidecar = write_prepared(
        prepared.table, tmp_path / "f.parquet", tmp_path / "f.json", meta=prepared.meta
    )
    on_disk = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert on_disk == sidecar
    assert (
        on_disk["rows"] == 150 and on_disk["format"] == "flores200" and on_disk["root"] == str(DEMO)
    )
    assert on_disk["options"]["languages"] == ["en", "de", "fr", "es", "zh", "ja"]
    assert (
        on_disk["sample"]["rows_before"] == 480 and on_disk["sample"]["rows_per_group"]["ja"] == 25
    )
    assert on_disk["columns"] == FORMATS["flores200"].column_types
    for source in on_disk["sources"]:
        assert source["sha256"] == hashlib.sha256((DEMO / source["path"]).read_bytes()).hexdigest()
        assert (
            source["upstream"]["pinned"] and source["matches_upstream"] is False
        )  # demo text, not FLORES
    assert on_disk["origin"] == {
        "is_demo": True,
        "subset": False,
        "text": "demo data written for this project",
    }
    assert "data: demo data written for this project" in on_disk["notes"]
    schema_meta = pq.read_schema(tmp_path / "f.parquet").metadata
    assert schema_meta[b"lmanatomy.content_sha256"].decode() == on_disk["content_sha256"]


def test_content_hash_is_of_the_content(tmp_path):
    frame = prepare({"format": "jcommonsenseqa"}, DEMO)
    fmt = FORMATS["jcommonsenseqa"]
    # Independent serialisation of the documented method.
    digest = hashlib.sha256(
        json.dumps([[c, t] for c, t in fmt.column_types.items()], separators=(",", ":")).encode()
        + b"\n"
    )
    for row in frame.itertuples(index=False):
        values = [v.item() if hasattr(v, "item") else v for v in row]
        digest.update(
            json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        )
    assert content_sha256(frame, fmt) == digest.hexdigest()
    changed = frame.copy()
    changed.loc[3, "choice2"] += "!"
    assert content_sha256(changed, fmt) != digest.hexdigest()


def test_read_prepared_round_trip_and_tampering(tmp_path):
    prepared = prepare_dataset({"format": "hellaswag"}, _hellaswag_root(tmp_path), name="hs")
    write_prepared(
        prepared.table, tmp_path / "hs.parquet", tmp_path / "hs.json", meta=prepared.meta
    )
    back = read_prepared(tmp_path / "hs.parquet")
    assert back["id"].tolist() == prepared.frame["id"].tolist()
    assert [list(e) for e in back["endings"]] == [list(e) for e in prepared.frame["endings"]]
    table = pq.read_table(
        tmp_path / "hs.parquet"
    )  # same schema metadata (and recorded hash), one text edited
    text = table.column("text").to_pylist()
    text[0] = "edited"
    forged = table.set_column(
        table.schema.get_field_index("text"), table.schema.field("text"), pa.array(text)
    )
    pq.write_table(forged, tmp_path / "forged.parquet")
    with pytest.raises(
        DataError, match=r"forged.parquet: content sha256 .* differs from the recorded"
    ):
        read_prepared(tmp_path / "forged.parquet")
    (tmp_path / "trunc.parquet").write_bytes((tmp_path / "hs.parquet").read_bytes()[:-100])
    with pytest.raises(DataError, match="trunc.parquet: not a readable Parquet file"):
        read_prepared(tmp_path / "trunc.parquet")


def _hellaswag_root(tmp_path):
    folder = tmp_path / "root" / "hellaswag"
    folder.mkdir(parents=True)
    lines = [
        json.dumps(
            {
                "ind": i,
                "activity_label": "a",
                "ctx": f"c{i}",
                "endings": ["w", "x", "y", "z"],
                "label": i % 4,
            }
        )
        for i in range(6)
    ]
    for split in ("train", "val"):
        (folder / f"hellaswag_{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "root"


def test_missing_splits_are_recorded(tmp_path):
    shutil.copytree(DEMO / "jglue" / "jnli-v1.1", tmp_path / "jglue" / "jnli-v1.1")
    (tmp_path / "jglue" / "jnli-v1.1" / "train-v1.1.json").unlink()
    prepared = prepare_dataset({"format": "jnli"}, tmp_path, name="jnli")
    assert prepared.meta["options"]["splits"] == ["valid"]
    assert prepared.meta["notes"][0] == (
        f"not in this root, left out: split 'train': no jglue/jnli-v1.1/train-v1.1.json "
        f"under {tmp_path}"
    )


def test_download_root_reads_data_raw_and_says_when_unpinned(tmp_path, monkeypatch):
    """root None reads data/raw; an unpinned fetched file is flagged as trusted on first use."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "data" / "raw" / "jglue" / "jnli-v1.1"
    folder.mkdir(parents=True)
    for split in ("train", "valid"):
        src = DEMO / "jglue" / "jnli-v1.1" / f"{split}-v1.1.json"
        shutil.copyfile(src, folder / src.name)
        record_path(folder / src.name).write_text(
            f"{hashlib.sha256(src.read_bytes()).hexdigest()}  {src.name}\n"
        )
    record_path(folder / "valid-v1.1.json").write_text(
        "0" * 64 + "  valid-v1.1.json\n"
    )  # a file changed since its fetch
    with pytest.raises(
        DataError,
        match=r"data/raw/jglue/jnli-v1.1/valid-v1.1.json: sha256 mismatch with the hash recorded",
    ):
        prepare_dataset({"format": "jnli"}, None)
    prepared = prepare_dataset({"format": "jnli", "splits": ["train"]}, None, name="jnli")
    assert prepared.meta["root"] == "data/raw"
    (source,) = prepared.meta["sources"]
    assert (
        source["fetched"]
        and not source["upstream"]["pinned"]
        and source["matches_upstream"] is None
    )
    assert any(
        "sha256 not pinned upstream (trusted on first download" in n for n in prepared.meta["notes"]
    )
