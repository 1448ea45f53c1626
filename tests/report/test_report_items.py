"""The report's view of a run's targets: kinds, captions, categories, what is left to siblings."""

from types import SimpleNamespace

import pytest

from conftest import REPO
from lmanatomy.errors import LmAnatomyError
from lmanatomy.report import ReportView, papers

CAPTIONS = REPO / "workflow" / "report"


def _view(targets, tmp_path=None, captions=CAPTIONS):
    return ReportView(targets, list(targets), "results/r", captions, models=["smollm2-135m"])


def test_tables_figures_and_data_are_items_and_sibling_csvs_are_not():
    view = _view(
        {
            "language": [
                "results/r/language/smollm2-135m/table1.csv",
                "results/r/language/smollm2-135m/table1.md",
                "results/r/language/smollm2-135m/fig2.png",
                "results/r/language/smollm2-135m/fig2.csv",
            ],
            "knowledge": ["results/r/knowledge/distance_matrix.csv"],
        }
    )
    assert view.keys("table") == ["language/smollm2-135m/table1"]
    assert view.keys("figure") == ["language/smollm2-135m/fig2"]
    assert view.keys("data") == ["knowledge/distance_matrix"]
    assert sorted(view.outputs("results/r/report")) == [
        "results/r/report/knowledge/distance_matrix.csv",
        "results/r/report/language/smollm2-135m/fig2.png",
        "results/r/report/language/smollm2-135m/table1.html",
    ]


def test_category_labels_and_caption_of_an_item():
    view = _view(
        {
            "language": [
                "results/r/language/smollm2-135m/fig2.png",
                "results/r/language/smollm2-135m/fig2.csv",
            ]
        }
    )
    wc = SimpleNamespace(report_figure="language/smollm2-135m/fig2")
    assert view.category(wc) == papers()["language"]
    assert view.subcategory(wc) == "figure"
    labels = view.labels(wc)
    assert labels["model"] == "smollm2-135m" and labels["item"].startswith("Fig 2")
    caption = view.caption(wc)
    assert caption.startswith("**Fig 2")
    assert "``results/r/language/smollm2-135m/fig2.png``" in caption
    assert "``results/r/language/smollm2-135m/fig2.csv``" in caption


def test_a_target_without_caption_stops_the_run_naming_the_file(tmp_path):
    (tmp_path / "census").mkdir()
    with pytest.raises(LmAnatomyError, match=r"census/table3\.rst"):
        _view({"census": ["results/r/census/table3.md"]}, captions=tmp_path)


def test_an_empty_caption_is_an_error(tmp_path):
    (tmp_path / "census").mkdir()
    (tmp_path / "census" / "table3.rst").write_text("\n\n")
    with pytest.raises(LmAnatomyError, match="empty"):
        _view({"census": ["results/r/census/table3.md"]}, captions=tmp_path)


def test_every_caption_file_has_a_title_and_a_body():
    files = sorted(p for p in CAPTIONS.glob("*/*.rst"))
    assert len(files) >= 30
    for path in files:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        assert len(lines) >= 2 and lines[0].strip(), path


def test_report_files_are_linked_and_tables_rendered(tmp_path):
    from lmanatomy.report import link_file, render_table_page

    source = tmp_path / "fig.png"
    source.write_bytes(b"png-bytes")
    link_file(source, tmp_path / "report" / "fig.png")
    assert (tmp_path / "report" / "fig.png").read_bytes() == b"png-bytes"
    source.unlink()
    source.write_bytes(b"new")  # a rebuilt figure is a new file: the rule links it again
    link_file(source, tmp_path / "report" / "fig.png")
    assert (tmp_path / "report" / "fig.png").read_bytes() == b"new"
    (tmp_path / "t.md").write_text("## Table 9\n\n| a |\n|---|\n| 1 |\n")
    render_table_page(tmp_path / "t.md", tmp_path / "report" / "t.html", "Table 9")
    assert "<h2>Table 9</h2>" in (tmp_path / "report" / "t.html").read_text()
    assert not [p for p in (tmp_path / "report").iterdir() if p.name.startswith(".")]
