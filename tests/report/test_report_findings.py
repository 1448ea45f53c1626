"""The summary's findings: the verdict rule, the MOVER
interval, each study's sentence, README's table."""

import math

import pandas as pd
import pytest

from conftest import REPO
from lmanatomy.cli import main
from lmanatomy.errors import DataError
from lmanatomy.language.intervals import wilson
from lmanatomy.report import load_paper_values, summarize
from lmanatomy.report.findings import (
    AGREES,
    DISAGREES,
    MARKERS,
    NO_PAPER,
    PAPER_MIXED,
    UNDECIDED,
    mover_difference,
    paramact_findings,
    replace_block,
    run_findings,
    verdict,
)

PAPER = load_paper_values(REPO / "workflow" / "report" / "paper_values.yaml")


@pytest.mark.parametrize(
    ("interval", "null", "paper", "expected"),
    [
        ((0.1, 0.3), 0.0, 1, AGREES),
        ((0.1, 0.3), 0.0, -1, DISAGREES),
        ((-0.3, -0.1), 0.0, -1, AGREES),
        ((-0.1, 0.3), 0.0, 1, UNDECIDED),  # spans both directions
        ((0.0, 0.3), 0.0, 1, UNDECIDED),  # touches the no-effect value
        ((55.0, 70.0), 50.0, 1, AGREES),  # a share against 50%
        ((40.0, 49.0), 50.0, 1, DISAGREES),
        ((0.1, 0.3), 0.0, None, NO_PAPER),
        ((0.1, 0.3), 0.0, 0, PAPER_MIXED),
    ],
)
def test_verdict_on_hand_made_intervals(interval, null, paper, expected):
    assert verdict(interval, null, paper) == expected


def test_verdict_without_an_interval_compares_only_the_sign_and_says_so():
    assert verdict(None, 0.0, 1, 0.2) == "same sign as the paper, no interval"
    assert verdict((math.nan, math.nan), 0.0, 1, -0.2) == "opposite sign as the paper, no interval"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [((56, 70), (48, 80), (0.0524, 0.3339)), ((9, 10), (3, 10), (0.1705, 0.8090))],
)
def test_mover_on_wilson_intervals_is_newcombes_method_10(a, b, expected):
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10 (published to 4 decimals)
    d, (low, high) = mover_difference(a[0] / a[1], wilson(*a), b[0] / b[1], wilson(*b))
    assert d == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert (round(low, 4), round(high, 4)) == expected


def _fake_run(root):
    """A results folder with one file per study, in the
    studies' column layouts (plus a column no one reads)."""
    (root / "census").mkdir(parents=True)
    pd.DataFrame(
        {
            "model": ["Llama-2-7b", "X", "S"],
            "registry_name": ["llama-2-7b", "xglm-564m", "smollm2-135m"],
            "layers": [32, 24, 30],
            "neurons": [1359872, 1, 155520],
        }
    ).to_csv(root / "census" / "table3.csv", index=False)
    (root / "lesion").mkdir(parents=True)
    cells = {"original": (0.60, 0.50, 0.70)}
    cells.update(
        {f"2.0% {r}": (0.20, 0.10, 0.30) for r in ("4-8 [idx 3-7]", "9-13 [idx 8-12]")}
    )  # the study's column labels
    cells.update({f"0.5% {r}": (0.58, 0.48, 0.68) for r in ("4-8 [idx 3-7]", "9-13 [idx 8-12]")})
    row = {
        "task": "JSTS",
        "metric": "Pearson",
        "majority class: score": 0.0,
        "majority class: ci95_low": 0.0,
        "majority class: ci95_high": 0.0,
        "repeat last few-shot answer: score": 0.1,
        "repeat last few-shot answer: answer": "3.0",
        "new column": 1,
    }
    for column, (v, lo, hi) in cells.items():
        row.update(
            {column: v, f"{column}: n": 100, f"{column}: ci95_low": lo, f"{column}: ci95_high": hi}
        )
    pd.DataFrame([row]).to_csv(root / "lesion" / "table1.csv", index=False)
    (root / "language" / "m").mkdir(parents=True)
    pd.DataFrame(
        {
            "language_a": ["de", "de", "en", "en"],
            "language_b": ["de", "en", "de", "en"],
            "total": [20, 3, 3, 20],
        }
    ).to_csv(root / "language" / "m" / "table1.csv", index=False)
    mean = {"model": "M", "language": "mean"}
    for column, (hits, n) in {
        "before": (3, 30),
        "top": (27, 30),
        "bottom": (14, 30),
        "both": (28, 30),
    }.items():
        low, high = wilson(hits, n)
        mean.update(
            {
                column: 100 * hits / n,
                f"{column}_n": n,
                f"{column}_lower": 100 * low,
                f"{column}_upper": 100 * high,
            }
        )
    pd.DataFrame([mean]).to_csv(root / "language" / "table2.csv", index=False)
    (root / "knowledge").mkdir()
    pd.DataFrame(
        {
            "group": ["animals", "countries"],
            "hits": [90, 50],
            "comparisons_as_paper": [100, 100],
            "score_as_paper": [90.0, 50.0],
            "score_corrected": [91.0, 51.0],
        }
    ).to_csv(root / "knowledge" / "table2.csv", index=False)
    pd.DataFrame(
        {
            "checkpoint": ["s1", "s2"],
            "accuracy": [0.5, 0.8],
            "prompts": [40, 40],
            "accuracy_low": [0.35, 0.65],
            "accuracy_high": [0.65, 0.9],
        }
    ).to_csv(root / "knowledge" / "answers.csv", index=False)
    (root / "redundancy" / "m").mkdir(parents=True)
    pd.DataFrame(
        {
            "pair": ["0→1", "1→2", "2→3"],
            "mean_r2": [0.5, 0.6, 0.7],
            "mean_r2_identity": [0.4, 0.5, 0.6],
            "mean_gain": [0.1, 0.2, 0.3],
        }
    ).to_csv(root / "redundancy" / "m" / "pair_summary.csv", index=False)
    (root / "paramact" / "m").mkdir(parents=True)
    pd.DataFrame(
        {
            "finding": ["1: shallow"] * 3 + ["2: cross", "context: within"],
            "subject": ["a", "b", "a", "a-b", "a-a"],
            "gamma": [0.01, 0.01, 0.1, None, None],
            "shallow": [0.3, 0.2, 0.9, 0.5, 0.9],
            "deep": [0.1, 0.25, 0.1, 0.4, 0.8],
            "samples_holding": [None, None, None, "30/40", "20/40"],
        }
    ).to_csv(root / "paramact" / "m" / "findings.csv", index=False)
    (root / "paramact" / "m" / "jobs" / "all").mkdir(parents=True)
    pd.DataFrame({"gamma": [0.01], "target_share": [0.1], "share": [0.12]}).to_csv(
        root / "paramact" / "m" / "jobs" / "all" / "gamma.csv", index=False
    )
    pd.DataFrame(
        {
            "dataset": ["s"] * 5,
            "layers": ["0", "1", "2", "3", "sum 2-3"],
            "pairs": [16] * 5,
            "spearman": [0.0, 0.1, 0.2, 0.3, 0.4],
            "low": [-0.5] * 4 + [0.1],
            "high": [0.5] * 4 + [0.7],
        }
    ).to_csv(root / "paramact" / "m" / "finding3_sts.csv", index=False)


def test_each_study_gives_a_sentence_with_its_interval_and_verdict(tmp_path):
    _fake_run(tmp_path)
    found = {f.study: [] for f in run_findings(tmp_path, PAPER)}
    for f in run_findings(tmp_path, PAPER):
        found[f.study].append(f.sentence() if f.verdict else f.text)
    assert found["census"] == [
        "Census, Llama-2-7b: 32 layers, 1,359,872 FF neurons (exact count) — matches Table 3 "
        "exactly.",
        "Census, X: 24 layers, 1 FF neurons (exact count) — **differs** from Table 3 (24, "
        "221,184).",
        "Census, S: 30 layers, 155,520 FF neurons (exact count) — not one of Table 3's models.",
    ]
    lesion = found["lesion"][0]
    # 2.0%: 0.20 − 0.60, MOVER: −0.40 ± hypot(0.10, 0.10);
    # paper JSTS: mean(0.08, 0.06, 0.01, 0.09, 0.05) − 0.32
    assert (
        f"2.0% -0.40 [{-0.4 - math.hypot(0.1, 0.1):.2f}, {-0.4 + math.hypot(0.1, 0.1):.2f}]"
        in lesion
    )
    assert (
        "(paper -0.26: agrees with the paper; per range 2 lower, 0 higher, 0 undecided; paper 5 "
        "lower, 0 higher of 5)"
    ) in lesion
    assert (
        "per range 0 lower, 0 higher, 2 undecided; paper 1 lower, 4 higher of 5" in lesion
    )  # paper 0.5%: 0.26 < 0.32 once
    assert "0.5% -0.02" in lesion and "undecided" in lesion
    assert (
        "baselines majority class 0.00 [0.00, 0.00]; repeat last few-shot answer 0.10 (no "
        "interval);"
    ) in lesion
    table2 = found["language"][1]
    assert (
        "top − before +80.0" in table2 and "the paper's models point different ways" in table2
    )  # top − bottom differs by model
    assert (
        "share on average 3.0 (15.0%)" in found["language"][0]
        and "mean 46.2 of 2,000 (2.3%), most 93 (fr–zh)" in found["language"][0]
    )
    assert "animals 90.0" in found["knowledge"][0] and "countries 50.0" in found["knowledge"][0]
    assert "(paper 94.0: agrees with the paper)" in found["knowledge"][0]
    assert "80.0 [65.0, 90.0]% of 40 prompts" in found["knowledge"][1]
    # t interval over 3 pairs: 0.2 ± t(0.975, 2) · 0.1 / √3, t(0.975, 2) = 4.3027 from a t table
    assert (
        f"+0.200 [{0.2 - 4.3027 * 0.1 / 3**0.5:+.3f}, {0.2 + 4.3027 * 0.1 / 3**0.5:+.3f}]"
        in found["redundancy"][0]
    )
    # finding 1 at the run's γ only (0.01, not the sweep's 0.1): (0.2 + (−0.05)) / 2 = +7.5 points
    assert (
        "(γ = 0.01, marking 12.0% of the weights)" in found["paramact"][0]
        and "a 30.0% vs 10.0%, b 20.0% vs 25.0%;" in found["paramact"][0]
    )
    assert "+7.50 points (higher in shallow layers for 1 of 2)" in found["paramact"][0]
    assert found["paramact"][0].endswith("same sign as the paper, no interval.")
    low, high = wilson(30, 40)
    assert f"75.0 [{100 * low:.1f}, {100 * high:.1f}]% of 40 sample pairs" in found["paramact"][1]
    assert "0.40 [0.10, 0.70]" in found["paramact"][2] and found["paramact"][2].endswith(
        "agrees with the paper."
    )


def test_summary_opens_with_the_findings_then_the_tables(tmp_path):
    _fake_run(tmp_path)
    text = summarize(
        tmp_path, "r", ["lesion", "knowledge"], PAPER, {"lesion": ["x"], "knowledge": ["x"]}, {}
    )
    assert (
        text.index("## Findings")
        < text.index("- Lesion, JSTS")
        < text.index("## Tables")
        < text.index("### Lesions")
    )
    assert "Language" not in text.split("## Tables")[0]  # only the enabled studies
    assert (
        "| majority class" not in text
    )  # a baseline column is not matched to a paper lesion column
    text = summarize(tmp_path, "r", ["language"], PAPER, {"language": ["x"]}, {})
    assert (
        "| M | mean | 30 / 30 | 10.0 [3.5, 25.6] |" in text
        and "| XGLM-564M | 9.3 | 80.3 | 38.5 | 88.3 |" in text
    )


def test_results_table_is_printed_and_written_into_readme(tmp_path, capsys):
    run = tmp_path / "results" / "default"
    _fake_run(run)
    assert main(["results-table", str(run)]) == 0
    block = capsys.readouterr().out
    assert block.startswith(MARKERS[0]) and block.rstrip().endswith(MARKERS[1])
    assert "| lesion | Lesion, JSTS" in block and "results/default" in block
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{MARKERS[0]}\nSTALE ROW\n{MARKERS[1]}\n\nafter\n", encoding="utf-8")
    assert main(["results-table", str(run), "--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "STALE ROW" not in text and text.endswith("\n\nafter\n") and "| paramact |" in text


def test_readme_without_the_marker_block_is_refused():
    with pytest.raises(DataError, match="README.md: no"):
        replace_block("no markers", "block")


def test_a_study_file_missing_a_column_names_it(tmp_path):
    (tmp_path / "redundancy" / "m").mkdir(parents=True)
    pd.DataFrame({"pair": ["0→1"]}).to_csv(
        tmp_path / "redundancy" / "m" / "pair_summary.csv", index=False
    )
    with pytest.raises(DataError, match="pair_summary.csv"):
        run_findings(tmp_path, PAPER)


def test_readme_has_the_block_the_command_rewrites():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert replace_block(text, f"{MARKERS[0]}\nnew\n{MARKERS[1]}") != text


def test_findings_read_the_tables_as_the_studies_write_them(tmp_path):
    """Language and knowledge tables made by the studies' own
    functions, not by hand: a renamed column fails here."""
    import numpy as np

    from lmanatomy.knowledge.stats import table2 as knowledge_table2
    from lmanatomy.language.report import table2 as language_table2
    from lmanatomy.language.selection import overlap_split

    (tmp_path / "language" / "m").mkdir(parents=True)
    selection = pd.DataFrame(
        [
            {"language": lang, "kind": kind, "rank": r, "index": i}
            for lang, base in (("de", 0), ("en", 1))
            for kind, shift in (("top", 0), ("bottom", 10))
            for r, i in enumerate(range(base + shift, base + shift + 2))
        ]
    )
    overlap_split(selection, ["de", "en"], 2).to_csv(
        tmp_path / "language" / "m" / "table1.csv", index=False
    )
    scored = pd.DataFrame(
        [
            {
                "condition": "none",
                "language": "",
                "k": 0,
                "lid_language": "de" if s < 2 else "xx",
                "is_target": False,
            }
            for s in range(10)
        ]
        + [
            {"condition": c, "language": lang, "k": 2, "lid_language": lang, "is_target": s < 8}
            for c in ("top", "bottom", "both")
            for lang in ("de", "en")
            for s in range(10)
        ]
    )
    language_table2({"M": scored}, ["de", "en"], 2).to_csv(
        tmp_path / "language" / "table2.csv", index=False
    )
    (tmp_path / "knowledge").mkdir()
    words = ["a1", "a2", "b1", "b2"]
    distance = pd.DataFrame(
        np.array([[0, 1, 5, 5], [1, 0, 5, 5], [5, 5, 0, 1], [5, 5, 1, 0]], dtype=float),
        index=words,
        columns=words,
    )
    knowledge_table2(distance, {"animals": ["a1", "a2"], "colors": ["b1", "b2"]}).to_csv(
        tmp_path / "knowledge" / "table2.csv", index=False
    )
    text = " ".join(f.text for f in run_findings(tmp_path, PAPER, ["language", "knowledge"]))
    # de: top {0, 1}, bottom {10, 11}; en: top {1, 2}, bottom {11, 12}: they share 1 and 11
    assert "4-neuron sets share on average 2.0 (50.0%), most 2 (de–en)" in text
    assert "n = 10 texts before / 20 per steered condition" in text and "top − before" in text
    assert (
        "animals 66.7" in text
    )  # 4 hits of 4 other-group comparisons, + 2 self comparisons as the paper counts


@pytest.mark.parametrize(
    "b_interval, expected", [((-0.3, 0.1), "undecided"), ((0.01, 0.2), "agrees with the paper")]
)
def test_paramact_finding_1_uses_the_datasets_intervals_combined_by_mover(
    tmp_path, b_interval, expected
):
    folder = tmp_path / "paramact" / "m"
    folder.mkdir(parents=True)
    # a: gap 0.2 [0.1, 0.3]; b: gap 0.05 with the parametrised
    # interval; both at the run's γ, n = 32 samples.
    pd.DataFrame(
        {
            "finding": ["1: shallow"] * 2,
            "subject": ["a", "b"],
            "gamma": [0.01, 0.01],
            "shallow": [0.3, 0.3],
            "deep": [0.1, 0.25],
            "n": [32, 32],
            "gap_ci95_low": [0.1, b_interval[0]],
            "gap_ci95_high": [0.3, b_interval[1]],
        }
    ).to_csv(folder / "findings.csv", index=False)
    (finding,) = paramact_findings(tmp_path, {})
    # MOVER for the mean of two: 0.125 ∓ hypot(distances to the bounds) / 2, in points
    low = 0.125 - math.hypot(0.2 - 0.1, 0.05 - b_interval[0]) / 2
    high = 0.125 + math.hypot(0.3 - 0.2, b_interval[1] - 0.05) / 2
    assert f"+12.50 [{100 * low:+.2f}, {100 * high:+.2f}] points" in finding.text
    assert "the 95% interval (bootstrap over its samples, n = 32) lies above 0 for" in finding.text
    assert finding.verdict == expected


def test_language_table1_shows_the_most_shared_pairs_bootstrap_range(tmp_path):
    from lmanatomy.report.findings import language_findings

    (tmp_path / "language" / "m").mkdir(parents=True)
    table = pd.DataFrame(
        {
            "language_a": ["de", "de", "en", "en"],
            "language_b": ["de", "en", "de", "en"],
            "total": [20, 3, 3, 20],
        }
    )
    table.to_csv(tmp_path / "language" / "m" / "table1.csv", index=False)
    (plain,) = language_findings(tmp_path, {})
    assert "most 3 (de–en)" in plain.text and plain.verdict.startswith("no interval")
    table.assign(total_lower=[20, 1, 1, 20], total_upper=[20, 5, 5, 20], replicates=8).to_csv(
        tmp_path / "language" / "m" / "table1.csv", index=False
    )
    (ranged,) = language_findings(tmp_path, {})
    assert "most 3 [1, 5] (de–en)" in ranged.text
    assert ranged.verdict.startswith("per pair, the range of 8 bootstrap replicates")
