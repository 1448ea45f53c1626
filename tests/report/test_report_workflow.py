"""`snakemake --report` on a small run: the report lists every item with its caption and opens
in a browser (headless Chromium, when installed)."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
import yaml

from conftest import REPO, run_snakemake


@pytest.fixture()
def census_run(tmp_path):
    run = f"test-report-{uuid.uuid4().hex[:8]}"
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config.update(run=run, studies=["census"])
    config["census"] = {"models": ["smollm2-135m", "llama-2-7b"], "verify_weights": False}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    yield run, path
    shutil.rmtree(REPO / "results" / run, ignore_errors=True)


def test_report_has_every_item_with_its_caption(census_run, tmp_path):
    run, config = census_run
    run_snakemake("--cores", "1", "--configfile", str(config), check=True)
    out = REPO / "results" / run
    assert (out / "report" / "census" / "table3.html").is_file()
    summary = (out / "summary.md").read_text()
    assert "| Llama-2-7b | 32 | 1,359,872 | 32 | 1,359,872 | yes |" in summary
    assert '"run": "' + run + '"' in (out / "provenance.json").read_text()

    report = out / "report.html"
    run_snakemake("--configfile", str(config), "--report", str(report), check=True)
    html = report.read_text(encoding="utf-8")
    for text in (
        "Table 3: layers and neurons per model",
        "Kojima et al. 2024: language-specific neurons",
        "Run: summary and provenance",
        "Summary of this run: its findings",
        "Provenance of this run",
    ):
        assert text in html, text

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium is not installed (Debian: apt install chromium)")
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1200,800",
            "--virtual-time-budget=5000",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    image = Image.open(shot).convert("L")
    # A rendered page, not a blank one: the report's
    # sidebar and text give many distinct grey levels.
    assert len(set(image.getdata())) > 20
