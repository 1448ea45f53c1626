"""Generic formats (text, jsonl, csv, parquet, hf): column mapping,
strict rows named by file and line, and the config check naming the key.
The hf loading code runs on a local folder standing in for the Hub."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from conftest import SCHEMAS
from lmanatomy.config import validate_config
from lmanatomy.data import dataset_input_paths, prepare_dataset, read_prepared, write_prepared
from lmanatomy.data.generic import fetch_hf_dataset, hf_cache_path
from lmanatomy.errors import ConfigError, DataError

ROWS = [
    {"uid": "a1", "sentence": "The cat sat.", "language": "en", "y": 1},
    {"uid": "a2", "sentence": "Le chat dort.", "language": "fr", "y": 0},
    {"uid": "a3", "sentence": "Der Hund bellt.", "language": "de", "y": 0},
]
COLUMNS = {"text": "sentence", "id": "uid", "lang": "language", "label": "y"}


def _write(tmp_path, kind: str):
    path = tmp_path / f"mine.{kind}"
    frame = pd.DataFrame(ROWS)
    if kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    elif kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "parquet":
        frame.to_parquet(path)
    return path.name


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet"])
def test_table_formats_map_their_columns(tmp_path, kind):
    spec = {"format": kind, "files": [_write(tmp_path, kind)], "columns": COLUMNS, "split": "train"}
    table = prepare_dataset(spec, tmp_path, name="mine").table.to_pandas()
    assert list(table["id"]) == ["train/a1", "train/a2", "train/a3"]
    assert list(table["text"]) == [r["sentence"] for r in ROWS]
    assert list(table["lang"]) == ["en", "fr", "de"]
    assert list(table["label"]) == ["1", "0", "0"]
    assert table["sentence2"].isna().all() and table["score"].isna().all()


def test_text_format_one_text_per_line_and_blank_lines_refused(tmp_path):
    (tmp_path / "t.txt").write_text("first text\nsecond text\n", encoding="utf-8")
    table = prepare_dataset({"format": "text", "files": ["t.txt"]}, tmp_path).table.to_pandas()
    assert list(table["id"]) == ["all/t/0", "all/t/1"] and list(table["text"]) == [
        "first text",
        "second text",
    ]
    (tmp_path / "t.txt").write_text("first\n\nthird\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"t.txt, line 2: blank line"):
        prepare_dataset({"format": "text", "files": ["t.txt"]}, tmp_path)


@pytest.mark.parametrize(
    "content, message",
    [
        (
            '{"sentence": "ok"}\n{"other": "x"}\n',
            r"mine.jsonl, line 2: no field 'sentence' \(mapped to text",
        ),
        (
            '{"sentence": "ok"}\n{"sentence": ""}\n',
            r"mine.jsonl, line 2: field 'sentence' \(mapped to text\) is empty",
        ),
        ('{"sentence": "ok"}\n{"sentence": 3}\n', r"mine.jsonl, line 2: text should be a string"),
        ('{"sentence": "ok"}\nnot json\n', r"mine.jsonl, line 2: malformed JSON"),
    ],
)
def test_bad_rows_are_named_with_file_and_line(tmp_path, content, message):
    (tmp_path / "mine.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        prepare_dataset(
            {"format": "jsonl", "files": ["mine.jsonl"], "columns": {"text": "sentence"}}, tmp_path
        )


def test_csv_bad_row_names_its_physical_line(tmp_path):
    (tmp_path / "m.csv").write_text('s,score\n"a\nb",1\nc,oops\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"m.csv, line 4: score 'oops' is not a number"):
        prepare_dataset(
            {"format": "csv", "files": ["m.csv"], "columns": {"text": "s", "score": "score"}},
            tmp_path,
        )


def test_sentence_pairs_with_a_score(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"a": "x y", "b": "x z", "s": 3.5}\n', encoding="utf-8")
    spec = {
        "format": "jsonl",
        "files": ["p.jsonl"],
        "columns": {"sentence1": "a", "sentence2": "b", "score": "s"},
    }
    row = prepare_dataset(spec, tmp_path).table.to_pylist()[0]
    assert (row["text"], row["sentence1"], row["sentence2"], row["score"]) == (
        "x y",
        "x y",
        "x z",
        3.5,
    )


def test_prepared_generic_dataset_round_trips_with_its_hash(tmp_path):
    spec = {"format": "jsonl", "files": [_write(tmp_path, "jsonl")], "columns": COLUMNS}
    prepared = prepare_dataset(spec, tmp_path, name="mine")
    write_prepared(
        prepared.table, tmp_path / "out.parquet", tmp_path / "out.json", meta=prepared.meta
    )
    assert list(read_prepared(tmp_path / "out.parquet")["text"]) == [r["sentence"] for r in ROWS]
    assert (
        prepared.meta["sources"][0]["path"] == "mine.jsonl"
        and len(prepared.meta["sources"][0]["sha256"]) == 64
    )


@pytest.mark.parametrize(
    "entry, key, words",
    [
        (
            {"format": "jsonl", "files": ["x.jsonl"]},
            "datasets.mine.columns.text",
            "needs columns.text",
        ),
        (
            {"format": "jsonl", "files": ["absent.jsonl"], "columns": {"text": "t"}},
            r"datasets.mine.files\[0\]",
            "not found under",
        ),
        (
            {"format": "text", "files": ["x.jsonl"], "columns": {"text": "t"}},
            "datasets.mine.columns",
            "no columns to map",
        ),
        (
            {"format": "boolq", "files": ["x.jsonl"]},
            "datasets.mine.files",
            "applies to the generic formats",
        ),
        (
            {
                "format": "hf",
                "repo": "o/d",
                "split": "train",
                "revision": "main",
                "columns": {"text": "t"},
            },
            "datasets.mine.revision",
            "not a full 40-hex commit hash",
        ),
    ],
)
def test_config_check_names_the_key(config, tmp_path, entry, key, words):
    (tmp_path / "x.jsonl").write_text('{"t": "a"}\n', encoding="utf-8")
    config = copy.deepcopy(config)
    config["datasets"]["mine"] = {"root": str(tmp_path), **entry}
    with pytest.raises(ConfigError, match=rf"{key}'.*{words}"):
        validate_config(config, SCHEMAS)


def test_hf_dataset_is_cached_under_data_raw_and_read_as_parquet(config, tmp_path):
    """The loading code on a local stand-in for
    datasets.load_dataset (the Hub is unreachable here)."""
    calls = []

    class Split:
        def to_parquet(self, path):
            pd.DataFrame(ROWS).to_parquet(path)

    def load_dataset(repo, name, split, revision):
        calls.append((repo, name, split, revision))
        return Split()

    spec = {
        "format": "hf",
        "repo": "org/data",
        "name": "cfg",
        "split": "train",
        "revision": "c" * 40,
        "columns": COLUMNS,
    }
    config = copy.deepcopy(config)
    config["datasets"]["hub"] = spec
    validate_config(config, SCHEMAS)
    assert dataset_input_paths(config, "hub") == [
        f"data/raw/hf/org__data/{'c' * 40}/cfg/train.parquet"
    ]
    raw = tmp_path / "raw"
    fetch_hf_dataset(spec, raw / hf_cache_path(spec), load_dataset=load_dataset)
    assert calls == [("org/data", "cfg", "train", "c" * 40)]
    from lmanatomy.data.layout import resolve
    from lmanatomy.data.loaders import read_table

    resolved = resolve(spec, None)
    table = read_table(type(resolved)(**{**resolved.__dict__, "root": str(raw)})).to_pandas()
    assert list(table["id"]) == ["train/a1", "train/a2", "train/a3"]


def test_hf_without_the_datasets_package_says_how_to_install(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets":
            raise ImportError("no datasets")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    spec = {"format": "hf", "repo": "org/data", "split": "train", "revision": "c" * 40}
    with pytest.raises(DataError, match=r"optional package 'datasets' \(pip install datasets\)"):
        fetch_hf_dataset(spec, tmp_path / "x.parquet")


def test_flores_takes_any_flores200_code_beside_the_short_ones(tmp_path):
    folder = tmp_path / "flores200" / "dev"
    folder.mkdir(parents=True)
    (folder / "eng_Latn.dev").write_text("One.\nTwo.\n", encoding="utf-8")
    (folder / "kor_Hang.dev").write_text("하나.\n둘.\n", encoding="utf-8")
    spec = {"format": "flores200", "splits": ["dev"], "languages": ["en", "kor_Hang"]}
    table = prepare_dataset(spec, tmp_path).table.to_pandas()
    assert list(table["lang"]) == ["en", "en", "kor_Hang", "kor_Hang"]
    assert list(table["id"]) == ["dev/en/0", "dev/en/1", "dev/kor_Hang/0", "dev/kor_Hang/1"]
    with pytest.raises(
        DataError,
        match=r"unknown language 'korean' \(known: en, de, fr, es, zh, ja or a FLORES-200 code",
    ):
        prepare_dataset({**spec, "languages": ["korean"]}, tmp_path)
    with pytest.raises(
        DataError, match=r"language 'fra_Latn': no flores200/dev/fra_Latn.dev under"
    ):
        prepare_dataset({**spec, "languages": ["fra_Latn"]}, tmp_path)
