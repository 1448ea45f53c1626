"""Bad files fail clearly: a DataError naming the file (and the line where there is one)."""

from __future__ import annotations

import gzip
import json
import re
import shutil

import pytest

from conftest import REPO
from lmanatomy.data import load
from lmanatomy.errors import DataError

DEMO = REPO / "data" / "demo"
JSTS_KEYS = {
    "sentence_pair_id": "0",
    "yjcaptions_id": "1-2-3",
    "sentence1": "猫が寝ています。",
    "sentence2": "猫が眠っています。",
    "label": 4.5,
}


def jsts_root(tmp_path, lines: list[str] | bytes):
    """A root whose JSTS valid file holds exactly ``lines`` (or raw bytes)."""
    path = tmp_path / "jglue" / "jsts-v1.1" / "valid-v1.1.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode("utf-8")
    )
    return path


def record(**changes):
    data = {**JSTS_KEYS, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}, ensure_ascii=False)


def raises_naming(path, *words):
    """pytest.raises for a DataError whose message starts with the file and contains ``words``."""
    return pytest.raises(
        DataError, match="^" + re.escape(str(path)) + ".*" + ".*".join(re.escape(w) for w in words)
    )


def test_a_good_file_loads(tmp_path):
    jsts_root(tmp_path, [record(), record(sentence_pair_id="1")])
    assert len(load("jsts", tmp_path)) == 2


def test_missing_key_names_file_line_and_key(tmp_path):
    path = jsts_root(tmp_path, [record(), record(sentence_pair_id="1", sentence2=...)])
    with raises_naming(path, ", line 2: missing key(s) sentence2"):
        load("jsts", tmp_path)


def test_wrong_value_type(tmp_path):
    path = jsts_root(tmp_path, [record(label="high")])
    with raises_naming(path, "line 1", "key 'label' should be number, got str 'high'"):
        load("jsts", tmp_path)


def test_malformed_json_line_names_the_line(tmp_path):
    path = jsts_root(
        tmp_path, [record(), record(sentence_pair_id="1"), '{"sentence_pair_id": "2", "label": 1.0']
    )
    with raises_naming(path, ", line 3: malformed JSON"):
        load("jsts", tmp_path)


def test_json_line_that_is_not_an_object(tmp_path):
    path = jsts_root(tmp_path, [record(), "[1, 2]"])
    with raises_naming(path, ", line 2: expected a JSON object, got list"):
        load("jsts", tmp_path)


def test_empty_file(tmp_path):
    path = jsts_root(tmp_path, b"")
    with raises_naming(path, ": file is empty"):
        load("jsts", tmp_path)
    path.write_bytes(b"\n\n  \n")
    with raises_naming(path, ": file is empty"):
        load("jsts", tmp_path)


def test_not_utf8_names_the_line(tmp_path):
    text = (record() + "\n" + record(sentence_pair_id="1") + "\n").encode("utf-8")
    path = jsts_root(
        tmp_path,
        text
        + record(sentence_pair_id="2", sentence1="café", sentence2="thé").encode("latin-1")
        + b"\n",
    )
    with raises_naming(path, ", line 3: not UTF-8 text (byte 0xe9"):
        load("jsts", tmp_path)
    path.write_bytes(record().encode("utf-16"))
    with raises_naming(path, "line 1: not UTF-8"):
        load("jsts", tmp_path)


def test_duplicate_ids(tmp_path):
    path = jsts_root(tmp_path, [record(), record()])
    with raises_naming(path, "duplicate id 'valid/0'"):
        load("jsts", tmp_path)


def test_bad_label_value(tmp_path):
    path = tmp_path / "jglue" / "jnli-v1.1" / "valid-v1.1.json"
    path.parent.mkdir(parents=True)
    path.write_text(record(label="maybe") + "\n", encoding="utf-8")
    with raises_naming(path, "line 1: label 'maybe' is not one of 'entailment'"):
        load("jnli", tmp_path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "humaneval" / "HumanEval.jsonl.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b'{"task_id": "x"}\n')[:-12])  # truncated
    with raises_naming(path, "not a valid gzip file"):
        load("humaneval", tmp_path)


def test_humaneval_missing_field(tmp_path):
    path = tmp_path / "humaneval" / "HumanEval.jsonl.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        gzip.compress(
            b'{"task_id": "t/0", "prompt": "def f():\\n", "test": "", "entry_point": "f"}\n'
        )
    )
    with raises_naming(path, "line 1: missing key(s) canonical_solution"):
        load("humaneval", tmp_path)


def test_mmlu_wrong_column_count_and_answer(tmp_path):
    src = DEMO / "mmlu" / "data" / "dev" / "global_facts_dev.csv"
    path = tmp_path / "mmlu" / "data" / "dev" / "global_facts_dev.csv"
    path.parent.mkdir(parents=True)
    lines = src.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:2] + ["What?,a,b,c,D"]) + "\n", encoding="utf-8")
    with raises_naming(path, ", line 3: 5 columns, MMLU rows have 6"):
        load("mmlu", tmp_path, splits=["dev"])
    path.write_text("\n".join(lines[:1] + ["What?,a,b,c,d,E"]) + "\n", encoding="utf-8")
    with raises_naming(path, ", line 2: answer 'E' is not one of 'A'"):
        load("mmlu", tmp_path, splits=["dev"])


def test_pawsx_missing_column(tmp_path):
    path = tmp_path / "pawsx" / "x-final" / "en" / "dev_2k.tsv"
    path.parent.mkdir(parents=True)
    path.write_text("id\tsentence1\tlabel\n1\ta\t1\n", encoding="utf-8")
    with raises_naming(path, ", line 1: missing column(s) sentence2"):
        load("pawsx", tmp_path, languages=["en"])
    path.write_text(
        "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n2\tonly three\t0\n", encoding="utf-8"
    )
    with raises_naming(path, ", line 3: 3 tab-separated fields, the header has 4"):
        load("pawsx", tmp_path, languages=["en"])


def test_flores_not_parallel_and_empty_lines(tmp_path):
    shutil.copytree(DEMO / "flores200", tmp_path / "flores200")
    path = tmp_path / "flores200" / "dev" / "fra_Latn.dev"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"flores200/dev: the language files are not parallel \(lines: .*fra_Latn 79",
    ):
        load("flores200", tmp_path, splits=["dev"])
    path.write_text("\n".join(lines[:5] + [""] + lines[6:]) + "\n", encoding="utf-8")
    with raises_naming(path, ", line 6: empty line"):
        load("flores200", tmp_path, splits=["dev"])


def test_siqa_labels_do_not_match(tmp_path):
    folder = tmp_path / "siqa" / "socialiqa-train-dev"
    folder.mkdir(parents=True)
    item = {"context": "c", "question": "q", "answerA": "a", "answerB": "b", "answerC": "c"}
    (folder / "dev.jsonl").write_text(
        json.dumps(item) + "\n" + json.dumps(item) + "\n", encoding="utf-8"
    )
    (folder / "dev-labels.lst").write_text("1\n", encoding="utf-8")
    with raises_naming(folder / "dev-labels.lst", ": 1 labels for 2 questions"):
        load("siqa", tmp_path)
    (folder / "dev-labels.lst").write_text("1\n4\n", encoding="utf-8")
    with raises_naming(folder / "dev-labels.lst", ", line 2: label '4' is not one of"):
        load("siqa", tmp_path)


def test_knowledge_questions_structure(tmp_path):
    path = tmp_path / "knowledge_questions" / "generated_data_1token.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"Cat": ["What purrs?"],\n "Dog": "not a list"}\n', encoding="utf-8")
    with raises_naming(path, "the value of 'Dog' should be a non-empty list"):
        load("knowledge_questions", tmp_path)
    path.write_text('{"Cat": ["What purrs?"],\n "Dog": ["x"],\n}\n', encoding="utf-8")
    with raises_naming(path, ", line 3: malformed JSON"):
        load("knowledge_questions", tmp_path)


def test_missing_file_or_root(tmp_path):
    with pytest.raises(
        DataError, match="format 'jsts': no data under .*no jglue/jsts-v1.1/train-v1.1.json"
    ):
        load("jsts", tmp_path)
    with pytest.raises(DataError, match="data folder '.*nowhere' does not exist"):
        load("jsts", tmp_path / "nowhere")
    with pytest.raises(
        DataError,
        match=(
            r"split 'train' of format 'jsts' has no file under .*\(expected "
            r"jglue/jsts-v1.1/train-v1.1.json\)"
        ),
    ):
        jsts_root(tmp_path, [record()])
        load("jsts", tmp_path, splits=["train"])
