"""The real-data subsets in data/real: drawn reproducibly,
recorded honestly, read by the same loaders."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from lmanatomy.cli import main
from lmanatomy.data import prepare_dataset
from lmanatomy.data.subsets import (
    DRAWS,
    Draw,
    dataset_origin,
    draw_positions,
    draw_subsets,
    origin,
    split_records,
)
from lmanatomy.errors import DataError

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "data" / "real"
DEMO = REPO / "data" / "demo"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "README.md"
    }


def _manifest() -> dict:
    return json.loads((REAL / "manifest.json").read_text(encoding="utf-8"))


def test_csv_records_keep_quoted_newlines_and_give_the_file_back():
    data = b'q1,a,b,c,d,A\n"two\nlines",a,"say ""hi""",c,d,B\r\nstray " quote,a,b,c,d,C\n'
    records = split_records(data, "csv")
    assert records == [
        b"q1,a,b,c,d,A\n",
        b'"two\nlines",a,"say ""hi""",c,d,B\r\n',
        b'stray " quote,a,b,c,d,C\n',
    ]
    assert b"".join(records) == data
    assert [next(csv.reader(io.StringIO(r.decode(), newline="")))[5] for r in records] == [
        "A",
        "B",
        "C",
    ]
    assert split_records(b"a\nb\n", "lines") == [b"a\n", b"b\n"]
    with pytest.raises(DataError, match="unknown record kind"):
        split_records(b"", "xml")


def test_positions_are_a_seeded_permutation_plus_the_fixed_rows():
    expected = sorted(set(np.random.default_rng(3).permutation(50)[:5].tolist()) | {0, 49})
    assert draw_positions(50, 5, (0, 49), 3) == expected
    assert draw_positions(50, 50, (), 0) == list(range(50))
    with pytest.raises(DataError, match="cannot draw 51 of 50"):
        draw_positions(50, 51, (), 0)
    with pytest.raises(DataError, match=r"fixed rows \[50\]"):
        draw_positions(50, 5, (50,), 0)


def test_redrawing_from_the_full_files_gives_the_committed_bytes(shared_data, tmp_path):
    """The committed subsets (and their manifest and licenses) are exactly what the script draws."""
    assert main(["subsets", str(shared_data), str(tmp_path), "--seed", "0"]) == 0
    assert _tree(tmp_path) == _tree(REAL)


def test_the_manifest_hashes_match_the_committed_files():
    manifest = _manifest()
    assert manifest["seed"] == 0
    for entry in manifest["files"]:
        data = (REAL / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        if "rows" in entry:
            assert (
                entry["rows"]
                == len(entry["positions"])
                == len(split_records(data, "csv" if entry["path"].endswith(".csv") else "lines"))
            )
    drawn = {e["path"] for e in manifest["files"]}
    on_disk = {str(p.relative_to(REAL)) for p in REAL.rglob("*") if p.is_file()}
    assert on_disk - drawn == {
        "README.md",
        "manifest.json",
        "flores200/LICENSE-CC-BY-SA",
        "jglue/LICENSE_from_README.txt",
        "mmlu/LICENSE",
        "humaneval/LICENSE",
        "knowledge_questions/LICENSE",
    }
    folders = {path.split("/")[0] for path in drawn}
    assert folders == set(manifest["licenses"])  # every dataset has its license and attribution


def test_flores_languages_keep_the_same_lines():
    entries = [e for e in _manifest()["files"] if e["path"].startswith("flores200/dev/")]
    assert len(entries) == 6 and all(e["positions"] == entries[0]["positions"] for e in entries)


def test_the_rows_llm_jp_eval_2023_11_fixes_as_few_shots_are_in_the_subsets():
    ids = {
        name: set(
            prepare_dataset({"format": name, "splits": ["train"]}, REAL, name=name).frame["id"]
        )
        for name in ("jsts", "jcommonsenseqa")
    }
    assert {"train/0", "train/1", "train/2", "train/1042"} <= ids["jsts"]
    assert {"train/0", "train/1", "train/2", "train/3"} <= ids["jcommonsenseqa"]


def test_the_subsets_hold_the_samples_the_studies_may_ask_for():
    def rows(spec):
        return prepare_dataset(spec, REAL).frame

    flores = rows({"format": "flores200", "splits": ["dev"]})
    assert set(flores.groupby("lang").size()) == {200}  # language study: up to 200 per language
    boolq, mmlu = rows({"format": "boolq"}), rows({"format": "mmlu", "subjects": "all"})
    assert (
        len(boolq) - len(boolq) // 10 >= 200
    )  # lesion holds 10% out for few-shots (no BoolQ train)
    assert (mmlu.split == "test").sum() >= 200 and (mmlu.split == "dev").sum() == 285
    assert rows({"format": "jsts"}).sentence1.nunique() >= 1000  # redundancy: 800 train + 200 test
    assert (
        len(rows({"format": "humaneval"})) == 164
        and len(rows({"format": "knowledge_questions"})) == 152
    )


def test_origin_is_read_from_the_manifest_or_the_demo_marker(tmp_path):
    real = origin(REAL, ["jglue/jsts-v1.1/valid-v1.1.json"])
    assert real["subset"] and not real["is_demo"]
    assert real["text"] == (
        "real data, subset of 300 of 1,457 rows drawn with seed 0 from "
        "jglue/jsts-v1.1/valid-v1.1.json (sha256 7c0bdcb38117)"
    )
    assert (
        origin(REAL, ["humaneval/HumanEval.jsonl.gz"])["text"]
        == "real data, complete upstream file"
    )
    assert origin(DEMO, ["boolq/val.jsonl"]) == {
        "is_demo": True,
        "subset": False,
        "text": "demo data written for this project",
    }
    assert origin(tmp_path, ["boolq/val.jsonl"])["text"] == "real data, the upstream files"
    with pytest.raises(DataError, match="lists no entry for boolq/train.jsonl"):
        origin(REAL, ["boolq/train.jsonl"])


def test_prepared_provenance_records_the_origin_and_plan_time_agrees(monkeypatch):
    monkeypatch.chdir(REPO)
    config = {
        "data_root": "data/real",
        "datasets": {
            "jsts": {"format": "jsts", "splits": ["valid"]},
            "mmlu": {"format": "mmlu", "subjects": "all"},
        },
    }
    meta = prepare_dataset(config["datasets"]["jsts"], "data/real", name="jsts").meta
    assert meta["origin"] == dataset_origin(config, "jsts")
    assert f"data: {meta['origin']['text']}" in meta["notes"]
    assert not any("not the pinned upstream" in note for note in meta["notes"])
    mmlu = dataset_origin(config, "mmlu")
    assert mmlu["rows"] == 399 and mmlu["text"].endswith(
        "from 57 upstream files (sha256 in data/real/manifest.json); 57 complete files"
    )
    demo = prepare_dataset({"format": "boolq"}, "data/demo", name="boolq").meta
    assert demo["origin"]["is_demo"] and "data: demo data written for this project" in demo["notes"]


def test_a_missing_source_file_is_named(tmp_path):
    with pytest.raises(DataError, match="is missing"):
        draw_subsets(tmp_path, tmp_path / "out", draws=(Draw("boolq/val.jsonl", 3),))
    assert any(d.pattern == "boolq/val.jsonl" for d in DRAWS)


def test_a_changed_file_without_a_manifest_is_still_flagged(tmp_path):
    (tmp_path / "boolq").mkdir()
    (tmp_path / "boolq" / "val.jsonl").write_bytes((DEMO / "boolq" / "val.jsonl").read_bytes())
    meta = prepare_dataset({"format": "boolq"}, tmp_path, name="boolq").meta
    assert meta["origin"]["text"] == "real data, the upstream files"
    assert any(
        "not the pinned upstream files and the root has no subset manifest" in n
        for n in meta["notes"]
    )


def test_outputs_state_the_origin_fact_not_a_path_guess():
    from lmanatomy.knowledge.report import questions_note

    demo = {"is_demo": True, "subset": False, "text": "demo data written for this project"}
    meta = {
        "rows": 152,
        "root": "data/real",
        "origin": {"is_demo": False, "subset": False, "text": "real data, complete upstream file"},
        "sources": [{"path": "q.json", "matches_upstream": True}],
    }
    assert questions_note(meta) == [
        "Questions: 152 questions from data/real, real data, complete upstream file "
        "(the authors' file: sha256 matches the pinned upstream)."
    ]
    assert "not the authors' question file" in questions_note({**meta, "origin": demo})[0]
    with pytest.raises(DataError, match="no 'origin'"):
        questions_note({"rows": 1})


def test_the_default_config_reads_the_subsets_and_its_samples_fit(config):
    """Every default dataset reads data/real except the knowledge questions (the tiny series' corpus
    paraphrases the demo questions: unavoidable, and said in the config), and redundancy's sample
    holds enough distinct texts."""
    from lmanatomy.redundancy.pairs import choose_sentences

    assert config["data_root"] == "data/real"
    facts = {name: dataset_origin(config, name) for name in config["datasets"]}
    assert [name for name, fact in facts.items() if fact["is_demo"]] == ["knowledge_questions"]
    section = config["redundancy"]
    frame = prepare_dataset(config["datasets"][section["dataset"]], "data/real").frame
    assert (
        len(choose_sentences(frame, section["train"], section["test"], section["seed"]))
        == section["train"] + section["test"]
    )
