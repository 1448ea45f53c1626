"""Every upstream format read into the normalised table: demo data, real data, paper-only formats.

Expected counts come from data/demo/README.md and ../shared/data/README.md (counted there from
the files), and row contents are compared with a plain independent reading of each file.
"""

from __future__ import annotations

import csv
import gzip
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from lmanatomy.data import FORMATS, load, load_table
from lmanatomy.data.formats import COMMON_COLUMNS, FLORES_LANGUAGES
from lmanatomy.data.loaders import READERS

DEMO = REPO / "data" / "demo"
LANGS = list(FLORES_LANGUAGES)


def check_contract(frame, fmt_name):
    """Columns, types and invariants every prepared table must satisfy."""
    fmt = FORMATS[fmt_name]
    assert list(frame.columns) == list(COMMON_COLUMNS) + list(fmt.fields)
    assert frame["id"].is_unique
    assert frame["text"].map(lambda t: isinstance(t, str)).all()
    assert set(frame["split"]) <= set(fmt.splits)
    assert not frame["source"].str.startswith("/").any()
    if fmt.label_arrow == "null":
        assert frame["label"].isna().all()


def counts(frame, by="split"):
    return frame.groupby(by).size().to_dict()


def test_every_format_has_a_reader():
    from lmanatomy.data.generic import GENERIC_FORMATS

    assert set(READERS) == set(FORMATS) - set(
        GENERIC_FORMATS
    )  # the generic ones share lmanatomy.data.generic


# ------------------------------------------------------------- the demo data (data/demo/README.md)


def test_flores_demo_is_parallel_and_line_exact():
    frame = load("flores200", DEMO)
    check_contract(frame, "flores200")
    assert counts(frame, ["split", "lang"]) == {
        **{("dev", lang): 80 for lang in LANGS},
        **{("devtest", lang): 28 for lang in LANGS},
    }
    for lang, code in FLORES_LANGUAGES.items():
        lines = (
            (DEMO / "flores200" / "dev" / f"{code}.dev").read_text(encoding="utf-8").splitlines()
        )
        rows = frame[(frame["split"] == "dev") & (frame["lang"] == lang)]
        assert rows["text"].tolist() == lines
        assert rows["line"].tolist() == list(range(len(lines)))
        assert (rows["label"] == lang).all()
        assert rows["source"].iloc[0] == f"flores200/dev/{code}.dev"


def test_flores_languages_and_splits_filter():
    frame = load("flores200", DEMO, splits=["devtest"], languages=["ja", "en"])
    assert counts(frame, "lang") == {"ja": 28, "en": 28}
    assert frame["lang"].tolist()[:1] == ["ja"]  # requested order


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("jsts", {"train": 250, "valid": 70}),
        ("jnli", {"train": 45, "valid": 45}),
        ("jcommonsenseqa", {"train": 45, "valid": 45}),
        ("boolq", {"train": 24, "val": 64}),
        ("mmlu", {"dev": 20, "val": 20, "test": 64}),
        ("humaneval", {"test": 28}),
        ("knowledge_questions", {"all": 152}),
    ],
)
def test_demo_counts(fmt, expected):
    frame = load(fmt, DEMO)
    check_contract(frame, fmt)
    assert counts(frame) == expected


def test_jsts_rows_match_the_json_lines():
    frame = load("jsts", DEMO, splits=["valid"])
    path = DEMO / "jglue" / "jsts-v1.1" / "valid-v1.1.json"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert frame["sentence1"].tolist() == [r["sentence1"] for r in records]
    assert frame["text"].tolist() == [r["sentence1"] for r in records]  # text_default
    assert frame["label"].tolist() == [float(r["label"]) for r in records]
    assert frame["id"].tolist() == [f"valid/{r['sentence_pair_id']}" for r in records]
    assert str(frame["label"].dtype) == "float64"


def test_text_column_option():
    frame = load("jsts", DEMO, splits=["train"], text_column="sentence2")
    assert (frame["text"] == frame["sentence2"]).all()


def test_jnli_and_jcommonsenseqa_labels():
    jnli = load("jnli", DEMO)
    assert counts(jnli[jnli["split"] == "train"], "label") == {
        "entailment": 15,
        "contradiction": 14,
        "neutral": 16,
    }
    jcqa = load("jcommonsenseqa", DEMO, splits=["valid"])
    assert str(jcqa["label"].dtype) == "int64"
    assert sorted(set(jcqa["label"])) == [0, 1, 2, 3, 4]
    assert jcqa["text"].tolist() == jcqa["question"].tolist()


def test_boolq_superglue_and_original_give_the_same_table(tmp_path):
    sg = load("boolq", DEMO, splits=["val"])
    assert counts(sg, "label") == {True: 32, False: 32}
    first = json.loads((DEMO / "boolq" / "val.jsonl").read_text(encoding="utf-8").splitlines()[0])
    title, passage = first["passage"].split(" -- ", 1)
    assert (sg["title"].iloc[0], sg["passage"].iloc[0], sg["question"].iloc[0]) == (
        title,
        passage,
        first["question"],
    )
    # The original BoolQ release: question/title/answer/passage, dev split in dev.jsonl.
    (tmp_path / "boolq").mkdir()
    with open(tmp_path / "boolq" / "dev.jsonl", "w", encoding="utf-8") as fh:
        for _, row in sg.iterrows():
            fh.write(
                json.dumps(
                    {
                        "question": row["question"],
                        "title": row["title"],
                        "answer": bool(row["label"]),
                        "passage": row["passage"],
                    }
                )
                + "\n"
            )
    original = load("boolq", tmp_path)
    assert list(original["split"].unique()) == ["val"]
    for column in ("question", "title", "passage", "label", "text", "id"):
        assert original[column].tolist() == sg[column].tolist(), column
    assert original["source"].iloc[0] == "boolq/dev.jsonl"


def test_mmlu_rows_match_the_csv_and_subjects_filter():
    frame = load("mmlu", DEMO, subjects=["global_facts"], splits=["dev"])
    with open(
        DEMO / "mmlu" / "data" / "dev" / "global_facts_dev.csv", newline="", encoding="utf-8"
    ) as fh:
        rows = list(csv.reader(fh))
    assert frame[["question", "A", "B", "C", "D", "label"]].values.tolist() == rows
    assert (frame["subject"] == "global_facts").all()
    everything = load("mmlu", DEMO, subjects="all")
    assert sorted(everything["subject"].unique()) == [
        "elementary_mathematics",
        "global_facts",
        "high_school_biology",
        "high_school_geography",
    ]


def test_humaneval_and_knowledge_questions():
    he = load("humaneval", DEMO)
    with gzip.open(DEMO / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        tasks = [json.loads(line) for line in fh]
    assert he["prompt"].tolist() == [t["prompt"] for t in tasks]
    assert he["id"].tolist() == [f"test/{t['task_id']}" for t in tasks]
    kq = load("knowledge_questions", DEMO)
    data = json.loads(
        (DEMO / "knowledge_questions" / "generated_data_1token.json").read_text(encoding="utf-8")
    )
    assert kq["word"].unique().tolist() == list(data)
    assert kq["question"].tolist() == [q for qs in data.values() for q in qs]
    assert (kq["label"] == kq["word"]).all()


def test_arrow_table_has_the_contract_types():
    table = load_table("jcommonsenseqa", DEMO)
    assert table.schema.field("label").type == pa.int64()
    assert table.schema.field("id").type == pa.string()


# ------------------------------------------------------- the real files (../shared/data/README.md)


@pytest.mark.shared_data
def test_real_jglue(shared_data):
    jsts = load("jsts", shared_data)
    check_contract(jsts, "jsts")
    assert counts(jsts) == {"train": 12451, "valid": 1457}
    assert jsts["label"].between(0, 5).all()
    jcqa = load("jcommonsenseqa", shared_data)
    check_contract(jcqa, "jcommonsenseqa")
    assert counts(jcqa) == {"train": 8939, "valid": 1119}
    jnli = load(
        "jnli", shared_data
    )  # the train file is absent there: the default takes what exists
    check_contract(jnli, "jnli")
    assert counts(jnli) == {"valid": 2434}
    assert set(jnli["label"]) == {"entailment", "contradiction", "neutral"}


@pytest.mark.shared_data
def test_real_flores(shared_data):
    frame = load("flores200", shared_data)
    check_contract(frame, "flores200")
    assert counts(frame, ["split", "lang"]) == {
        **{("dev", lang): 997 for lang in LANGS},
        **{("devtest", lang): 1012 for lang in LANGS},
    }


@pytest.mark.shared_data
def test_real_boolq_humaneval_knowledge(shared_data):
    boolq = load("boolq", shared_data)
    check_contract(boolq, "boolq")
    assert counts(boolq) == {"val": 3270}
    assert (boolq["title"] != "").all()  # every SuperGLUE passage is "title -- text"
    he = load("humaneval", shared_data)
    check_contract(he, "humaneval")
    assert len(he) == 164 and he["id"].iloc[0] == "test/HumanEval/0"
    kq = load("knowledge_questions", shared_data)
    check_contract(kq, "knowledge_questions")
    assert len(kq) == 152 and (kq.groupby("word").size() == 4).all()
    readme = (shared_data / "README.md").read_text(encoding="utf-8")
    listed = re.search(
        r"animals \(([^)]*)\), colors \(([^)]*)\), countries \(([^)]*)\), languages \(([^)]*)\)",
        readme,
    )
    words = [w for group in listed.groups() for w in group.split()]
    assert sorted(kq["word"].unique()) == sorted(words)


@pytest.mark.shared_data
def test_real_mmlu(shared_data):
    frame = load("mmlu", shared_data)
    check_contract(frame, "mmlu")
    assert counts(frame) == {"dev": 285, "val": 1542, "test": 14079}
    assert frame["subject"].nunique() == 57
    assert set(frame["label"]) == {"A", "B", "C", "D"}


# ------------------------------------------------ formats only the papers use (files written here)


def _write_jsonl(path, records, opener=open):
    path.parent.mkdir(parents=True, exist_ok=True)
    with opener(path, "wt", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def test_pawsx_tsv(tmp_path):
    folder = tmp_path / "pawsx" / "x-final"
    for lang in ("en", "ja"):
        (folder / lang).mkdir(parents=True)
        lines = [
            "id\tsentence1\tsentence2\tlabel",
            f'1\t"{lang}" first one\tthe first\t1',
            f"2\t{lang} two\tsomething else\t0",
        ]
        (folder / lang / "test_2k.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load("pawsx", tmp_path)
    check_contract(frame, "pawsx")
    assert frame["split"].unique().tolist() == ["test"]  # dev/train absent: left out
    assert frame["lang"].tolist() == ["en", "en", "ja", "ja"]
    assert (
        frame["sentence1"].iloc[0] == '"en" first one'
    )  # quotes are text in PAWS-X, not CSV quoting
    assert frame["label"].tolist() == [1, 0, 1, 0]


def test_siqa_jsonl_with_labels_file(tmp_path):
    folder = tmp_path / "siqa" / "socialiqa-train-dev"
    records = [
        {
            "context": f"Context {i}.",
            "question": f"What next {i}?",
            "answerA": "a",
            "answerB": "b",
            "answerC": "c",
        }
        for i in range(3)
    ]
    _write_jsonl(folder / "dev.jsonl", records)
    (folder / "dev-labels.lst").write_text("1\n3\n2\n", encoding="utf-8")
    frame = load("siqa", tmp_path)
    check_contract(frame, "siqa")
    assert frame["label"].tolist() == [1, 3, 2]
    assert frame["text"].tolist() == ["Context 0.", "Context 1.", "Context 2."]
    assert frame["source"].iloc[0] == "siqa/socialiqa-train-dev/dev.jsonl"


def test_hellaswag_jsonl(tmp_path):
    records = [
        {
            "ind": 24 + i,
            "activity_label": "Roof shingle removal",
            "ctx_a": "A man is on a roof.",
            "ctx_b": "he",
            "ctx": "A man is on a roof. he",
            "split": "val",
            "split_type": "indomain",
            "endings": ["e0", "e1", "e2", "e3"],
            "source_id": "x",
            "label": i % 4,
        }
        for i in range(5)
    ]
    _write_jsonl(tmp_path / "hellaswag" / "hellaswag_val.jsonl", records)
    frame = load("hellaswag", tmp_path)
    check_contract(frame, "hellaswag")
    assert frame["id"].tolist() == [f"val/{24 + i}" for i in range(5)]
    assert list(frame["endings"].iloc[0]) == ["e0", "e1", "e2", "e3"]
    assert load_table("hellaswag", tmp_path).schema.field("endings").type == pa.list_(pa.string())


def test_c4_shards(tmp_path):
    for shard in range(2):
        records = [
            {
                "text": f"Document {shard}-{i}.",
                "timestamp": "2019-04-25T12:57:54Z",
                "url": f"https://e.com/{shard}/{i}",
            }
            for i in range(3)
        ]
        _write_jsonl(
            tmp_path / "c4" / "en" / f"c4-validation.{shard:05d}-of-00008.json.gz",
            records,
            opener=gzip.open,
        )
    frame = load("c4", tmp_path)
    check_contract(frame, "c4")
    assert counts(frame) == {"validation": 6}
    assert frame["id"].tolist()[:4] == [
        "validation/00000/0",
        "validation/00000/1",
        "validation/00000/2",
        "validation/00001/0",
    ]
    assert frame["url"].iloc[0] == "https://e.com/0/0"


WIKI_RAW = [
    " ",
    " = Robert Boulter = ",
    " ",
    " Robert Boulter is an English film , television and theatre actor . ",
    " ",
    " = = Career = = ",
    " ",
    " In 2006 , Boulter starred in the play Citizenship . ",
    " = = = 2000 – 2005 = = = ",
    " He appeared in = an episode = of the series . ",
]


def test_wikitext2_raw_and_parquet_agree(tmp_path):
    raw_root, hf_root = tmp_path / "raw", tmp_path / "hf"
    (raw_root / "wikitext2" / "wikitext-2-raw").mkdir(parents=True)
    (raw_root / "wikitext2" / "wikitext-2-raw" / "wiki.test.raw").write_text(
        "\n".join(WIKI_RAW) + "\n", encoding="utf-8"
    )
    (hf_root / "wikitext2" / "wikitext-2-raw-v1").mkdir(parents=True)
    pq.write_table(
        pa.table({"text": [line + "\n" for line in WIKI_RAW]}),
        hf_root / "wikitext2" / "wikitext-2-raw-v1" / "test-00000-of-00001.parquet",
    )
    raw, hf = load("wikitext2", raw_root), load("wikitext2", hf_root)
    check_contract(raw, "wikitext2")
    expected = [
        "Robert Boulter is an English film , television and theatre actor .",
        "In 2006 , Boulter starred in the play Citizenship .",
        "He appeared in = an episode = of the series .",
    ]
    assert raw["text"].tolist() == expected
    assert raw["id"].tolist() == ["test/3", "test/7", "test/9"]
    assert (
        hf[["id", "text", "split"]].values.tolist() == raw[["id", "text", "split"]].values.tolist()
    )
