"""The run summary: the papers' numbers beside the run's, and the HTML rendering of tables."""

import pandas as pd
import pytest

from conftest import REPO
from lmanatomy.errors import DataError
from lmanatomy.report import load_paper_values, markdown_page, models_by_study, summarize

PAPER = load_paper_values(REPO / "workflow" / "report" / "paper_values.yaml")
DISPLAYS = {"smollm2-135m": "SmolLM2-135M-Instruct", "llama-2-7b": "Llama-2-7b"}


def _census(results, rows):
    (results / "census").mkdir(parents=True)
    pd.DataFrame(rows, columns=["model", "registry_name", "layers", "neurons"]).to_csv(
        results / "census" / "table3.csv", index=False
    )


def test_census_rows_are_checked_against_the_paper(tmp_path):
    _census(tmp_path, [["Llama-2-7b", "llama-2-7b", 32, 1359872], ["X", "xglm-564m", 24, 1]])
    text = summarize(
        tmp_path, "r", ["census"], PAPER, {"census": ["llama-2-7b", "xglm-564m"]}, DISPLAYS
    )
    row = next(line for line in text.splitlines() if line.startswith("| Llama-2-7b"))
    assert row.endswith("| yes |")
    assert next(line for line in text.splitlines() if line.startswith("| xglm-564m")).endswith(
        "| **no** |"
    )
    # the paper's model is in the run: no "different model" warning
    assert "Different model" not in text


def test_a_run_on_another_model_is_marked(tmp_path):
    _census(tmp_path, [["SmolLM2-135M-Instruct", "smollm2-135m", 30, 155520]])
    text = summarize(tmp_path, "r", ["census"], PAPER, {"census": ["smollm2-135m"]}, DISPLAYS)
    assert "**Different model and data from the paper" in text


def test_lesion_columns_are_matched_by_position_with_the_papers_values(tmp_path):
    (tmp_path / "lesion").mkdir()
    columns = ["task", "metric", "original"] + [
        f"{s} {r}" for s in ("0.5%", "2.0%") for r in ("4-8", "9-13", "13-17", "19-23", "23-27")
    ]
    pd.DataFrame([["JNLI", "exact match"] + [0.5] * 11], columns=columns).to_csv(
        tmp_path / "lesion" / "table1.csv", index=False
    )
    text = summarize(tmp_path, "r", ["lesion"], PAPER, {"lesion": ["smollm2-135m"]}, DISPLAYS)
    assert "0.5% 9-13 / 10-14" in text and "| 0.5% 4-8 |" in text
    paper_row = next(line for line in text.splitlines() if line.startswith("| JNLI | paper"))
    assert paper_row.split("|")[3].strip() == "0.36"
    assert [c.strip() for c in paper_row.split("|")[4:-1]] == [
        f"{v:.2f}" for v in PAPER["lesion"]["values"]["JNLI"][1:]
    ]


def test_knowledge_scores_sit_next_to_the_papers(tmp_path):
    (tmp_path / "knowledge").mkdir()
    pd.DataFrame(
        {
            "group": ["animals", "fruits"],
            "score_as_paper": [48.0, 9.0],
            "score_corrected": [50.0, 10.0],
        }
    ).to_csv(tmp_path / "knowledge" / "table2.csv", index=False)
    text = summarize(tmp_path, "r", ["knowledge"], PAPER, {"knowledge": ["x"]}, {})
    # the paper sits next to the comparable column (as
    # the paper computed it), the corrected one after
    assert "| animals | 48.0 | 94.0 | 50.0 |" in text
    assert "| fruits | 9.0 | — | 10.0 |" in text
    assert "as the paper computed it" in text


def test_a_table_missing_a_column_names_the_file(tmp_path):
    (tmp_path / "knowledge").mkdir()
    pd.DataFrame({"group": ["animals"]}).to_csv(tmp_path / "knowledge" / "table2.csv", index=False)
    with pytest.raises(DataError, match="table2.csv"):
        summarize(tmp_path, "r", ["knowledge"], PAPER, {"knowledge": ["x"]}, {})


def test_models_by_study_reads_model_and_models():
    config = {
        "language": {"models": ["a", "b"]},
        "lesion": {"model": "c"},
        "census": {"models": ["a"]},
    }
    assert models_by_study(config, ["census", "language", "lesion"]) == {
        "census": ["a"],
        "language": ["a", "b"],
        "lesion": ["c"],
    }


def test_markdown_page_renders_tables_and_escapes_html():
    page = markdown_page("## T\n\n| a | b |\n|---|---|\n| 1 | <x> |\n\n- note\n", "T <1>")
    assert "<table>" in page and "<td>1</td>" in page
    assert "&lt;x&gt;" in page and "<title>T &lt;1&gt;</title>" in page
    assert page.startswith("<!DOCTYPE html>")
