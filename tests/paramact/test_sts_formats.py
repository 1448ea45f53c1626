"""The STS-B and SICK formats: hand-written files in
the upstream layouts, pinned download entries."""

import pytest

from lmanatomy.data.loaders import load_table
from lmanatomy.data.upstream import UPSTREAM
from lmanatomy.errors import DataError


def test_stsb_reads_seven_fields_and_ignores_extra_source_columns(tmp_path):
    folder = tmp_path / "stsbenchmark"
    folder.mkdir()
    (folder / "sts-dev.csv").write_text(
        "main-captions\tMSRvid\t2012test\t0000\t5.000\tA cat sits.\tA cat is sitting.\n"
        "main-news\theadlines\t2015\t0001\t0.600\tStocks fell.\tIt rained.\tsrc-a\tsrc-b\n",
        encoding="utf-8",
    )
    table = load_table("stsb", tmp_path, splits=["dev"]).to_pandas()
    assert table["label"].tolist() == [5.0, 0.6] and table["sentence2"].tolist() == [
        "A cat is sitting.",
        "It rained.",
    ]
    assert table["text"].tolist() == ["A cat sits.", "Stocks fell."] and table[
        "genre"
    ].tolist() == ["main-captions", "main-news"]


def test_sick_reads_the_header_and_names_a_bad_score(tmp_path):
    folder = tmp_path / "sick2014"
    folder.mkdir()
    header = "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"
    (folder / "SICK_trial.txt").write_text(
        header + "4\tA boy plays.\tA kid plays.\t4.7\tENTAILMENT\n", encoding="utf-8"
    )
    table = load_table("sick", tmp_path, splits=["trial"]).to_pandas()
    assert table[["id", "label", "sentence1", "entailment"]].values.tolist() == [
        ["trial/4", 4.7, "A boy plays.", "ENTAILMENT"]
    ]
    (folder / "SICK_trial.txt").write_text(
        header + "4\tA boy plays.\tA kid plays.\thigh\tENTAILMENT\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"SICK_trial.txt, line 2: relatedness_score 'high'"):
        load_table("sick", tmp_path, splits=["trial"])


def test_both_are_pinned_downloads():
    for path in [
        "stsbenchmark/sts-dev.csv",
        "stsbenchmark/sts-test.csv",
        "sick2014/SICK_trial.txt",
        "sick2014/SICK_test_annotated.txt",
    ]:
        entry = UPSTREAM[path]
        assert (
            entry.pinned
            and len(entry.sha256) == 64
            and entry.url.startswith("https://raw.githubusercontent.com/")
        )
