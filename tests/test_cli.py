"""The lmanatomy command and run provenance."""

import json

from lmanatomy.cli import main
from lmanatomy.provenance import collect, to_markdown

from conftest import REPO


def test_census_command(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["census", "smollm2-135m"]) == 0
    assert "neurons 155,520" in capsys.readouterr().out


def test_run_name_command(capsys):
    assert main(["run-name", str(REPO / "config" / "papers" / "kojima2024.yaml")]) == 0
    assert capsys.readouterr().out.strip() == "kojima2024"


def test_provenance_document(tmp_path):
    model = tmp_path / "provenance.json"
    model.write_text(json.dumps({"source": "hf", "repo": "o/m", "revision": "abc", "weights_sha256": {"model.safetensors": "f" * 64}}))
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"content_sha256": "e" * 64, "rows": 12}))
    doc = collect({"run": "r", "x": 1}, {"m": model}, {"d": data})
    assert doc["models"]["m"]["revision"] == "abc"
    assert doc["software"]["torch"].startswith("2.")
    text = to_markdown(doc)
    assert "| m | hf o/m | abc | model.safetensors: ffffffffffffffff… |" in text
    assert "| d | eeeeeeeeeeeeeeee… | 12 |" in text
