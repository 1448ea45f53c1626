"""The findings a run supports: one sentence each,
with its number, its 95% interval and its verdict.

``summary.md`` opens with these sentences, and README's results table is printed from them
(``lmanatomy results-table results/<run>``), so both say the same thing about the same run.

Each finding is an *effect* (a difference, a rate or a correlation) next to its *no-effect value*
(0 for a difference, 50% for a share of comparisons that would go either way by chance). The
verdict compares the run's interval with the paper's direction (:func:`verdict`): a claim only
when the whole interval lies on one side of the no-effect value. Intervals come from the run's
own files: the lesion cells' bootstrap intervals, the language and knowledge Wilson intervals,
paramact's Spearman bootstrap; where two estimates are compared, their intervals are combined by
MOVER (Newcombe 1998, method 10; Zou & Donner 2008), which treats them as independent and is
therefore wider than a paired interval would be (conservative). A finding whose files carry no
interval says "no interval" and gets no verdict beyond the sign.

Files are read by the column names the studies write; new columns are ignored, a missing study
file means the study did not run (no finding), a missing needed column is a :class:`DataError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.io import read_table
from lmanatomy.stats import mover_mean, wilson

Interval = tuple[float, float]

#: The verdicts :func:`verdict` gives.
AGREES, DISAGREES, UNDECIDED = "agrees with the paper", "**disagrees** with the paper", "undecided"
NO_PAPER, PAPER_MIXED = "no paper value to compare", "the paper's models point different ways"
#: A lesion column: "<share>% <range>" (the table's other
#: columns are task, metric, original, baselines, details).
LESION_COLUMN = re.compile(
    r"^(\d+(?:\.\d+)?%) [^:]+$"
)  # "0.5% 4-8 [idx 3-7]"; "<column>: n" is a detail
BASELINE_COLUMN = re.compile(r"majority|baseline|repeat|constant", re.IGNORECASE)


def sign(value: float, null: float) -> int:
    return 0 if value == null else (1 if value > null else -1)


def verdict(
    interval: Interval | None,
    null: float,
    paper_direction: int | None,
    estimate: float | None = None,
) -> str:
    """Whether the run points the paper's way: the rule behind every finding.

    ``paper_direction``: +1 / -1 (the paper's effect above / below ``null``), 0 when the paper's
    models disagree, None when the paper gives no value. With an interval, the run claims a
    direction only when the whole interval lies on one side of ``null``; otherwise "undecided".
    Without an interval, only the estimate's sign is compared, and the verdict says so.
    """
    if paper_direction is None:
        return NO_PAPER
    if paper_direction == 0:
        return PAPER_MIXED
    if interval is None or any(math.isnan(v) for v in interval):
        if estimate is None or math.isnan(estimate) or estimate == null:
            return "no interval, no effect to compare"
        same = sign(estimate, null) == paper_direction
        return f"{'same' if same else 'opposite'} sign as the paper, no interval"
    low, high = sorted(interval)
    if low <= null <= high:
        return UNDECIDED
    return AGREES if (1 if low > null else -1) == paper_direction else DISAGREES


def mover_difference(
    a: float, a_interval: Interval, b: float, b_interval: Interval
) -> tuple[float, Interval]:
    """a − b with a 95% interval combined from the two estimates' own intervals (MOVER).

    For two proportions with Wilson intervals this is Newcombe's (1998) method 10. It assumes the
    two estimates independent; for paired estimates (two lesions scored on the same samples) the
    true interval is narrower, so a verdict from this one errs towards "undecided".
    """
    (a_low, a_high), (b_low, b_high) = a_interval, b_interval
    d = a - b
    return d, (d - math.hypot(a - a_low, b_high - b), d + math.hypot(a_high - a, b - b_low))


@dataclass(frozen=True)
class Finding:
    """One sentence of the summary's opening: what was measured, its value, interval and verdict."""

    study: str
    text: str
    verdict: str

    def sentence(self) -> str:
        """The text, then its verdict; a finding whose verdicts
        sit inside its text (per share, per group) ends there."""
        return f"{self.text} — {self.verdict}." if self.verdict else f"{self.text}."


def _fmt(value: float, digits: int, signed: bool = False) -> str:
    return (
        "nan"
        if value is None or math.isnan(value)
        else f"{value:{'+' if signed else ''}.{digits}f}"
    )


def _with_interval(
    value: float, interval: Interval | None, digits: int = 2, signed: bool = False
) -> str:
    if interval is None or any(math.isnan(v) for v in interval):
        return f"{_fmt(value, digits, signed)} (no interval)"
    return (
        f"{_fmt(value, digits, signed)} [{_fmt(interval[0], digits, signed)}, "
        f"{_fmt(interval[1], digits, signed)}]"
    )


def read_study_table(path: Path, columns: Sequence[str] = ()) -> pd.DataFrame:
    """A study's CSV; a missing column is the study's output format changing under the summary."""
    return read_table(path, columns)


# --- census --------------------------------------------------------------------------------------


def census_findings(results: Path, paper: Mapping[str, Any]) -> list[Finding]:
    """Layers and FF neurons per model: exact counts (no
    interval), checked against Table 3 where listed."""
    path = results / "census" / "table3.csv"
    if not path.is_file():
        return []
    out = []
    for _, row in read_study_table(
        path, ["registry_name", "model", "layers", "neurons"]
    ).iterrows():
        theirs = (paper.get("values") or {}).get(row["registry_name"])
        ours = (int(row["layers"]), int(row["neurons"]))
        said = (
            "not one of Table 3's models"
            if theirs is None
            else "matches Table 3 exactly"
            if ours == (theirs["layers"], theirs["neurons"])
            else f"**differs** from Table 3 ({theirs['layers']}, {theirs['neurons']:,})"
        )
        out.append(
            Finding(
                "census",
                f"Census, {row['model']}: {ours[0]} layers, {ours[1]:,} FF neurons (exact count)",
                said,
            )
        )
    return out


# --- lesion --------------------------------------------------------------------------------------


def _lesion_share_effect(row: pd.Series, columns: Sequence[str]) -> tuple[float, Interval | None]:
    """Mean score over a share's lesions minus the
    original, with an interval when the cells have one.

    The mean's interval is the mean of the cells' bounds: exact if the cells moved together,
    wider than needed otherwise (conservative), then combined with the original's by MOVER.
    """
    mean = float(np.mean([row[c] for c in columns]))
    bounds = (
        [f"{c}: ci95_low" for c in columns]
        + [f"{c}: ci95_high" for c in columns]
        + ["original: ci95_low", "original: ci95_high"]
    )
    if not all(b in row.index for b in bounds):
        return mean - float(row["original"]), None
    lesion_interval = (
        float(np.mean([row[f"{c}: ci95_low"] for c in columns])),
        float(np.mean([row[f"{c}: ci95_high"] for c in columns])),
    )
    original_interval = (float(row["original: ci95_low"]), float(row["original: ci95_high"]))
    return mover_difference(mean, lesion_interval, float(row["original"]), original_interval)


def _baseline_columns(columns: Sequence[str]) -> dict[str, str]:
    """Baseline name → its score column: ``<name>: score``
    (with ``<name>: ci95_low/high``) or a bare ``<name>``."""
    out = {}
    for column in columns:
        if column.endswith(": score") and BASELINE_COLUMN.search(column):
            out[column[: -len(": score")]] = column
        elif ": " not in column and BASELINE_COLUMN.search(column):
            out[column] = column
    return out


def _bounds(row: pd.Series, name: str) -> Interval | None:
    low, high = f"{name}: ci95_low", f"{name}: ci95_high"
    return (float(row[low]), float(row[high])) if low in row.index and high in row.index else None


def _per_range(row: pd.Series, columns: Sequence[str], paper: Mapping[str, Any], share: str) -> str:
    """How many of a share's lesions score clearly below / above the original (MOVER interval clear
    of 0), and the paper's signs."""
    original = _bounds(row, "original")
    counts = {"lower": 0, "higher": 0, "undecided": 0}
    for column in columns:
        cell = _bounds(row, column)
        if cell is None or original is None:
            return "per range: no intervals"
        _, (low, high) = mover_difference(
            float(row[column]), cell, float(row["original"]), original
        )
        counts["lower" if high < 0 else "higher" if low > 0 else "undecided"] += 1
    text = (
        f"per range {counts['lower']} lower, {counts['higher']} higher, {counts['undecided']} "
        "undecided"
    )
    values = (paper.get("values") or {}).get(row["task"])
    if values is None:
        return text
    cells = [
        v - values[0]
        for column, v in zip(paper["columns"], values, strict=True)
        if column.split()[0] == share
    ]
    return text + (
        f"; paper {sum(c < 0 for c in cells)} lower, {sum(c > 0 for c in cells)} higher of "
        f"{len(cells)}"
    )


def _paper_lesion_effect(paper: Mapping[str, Any], task: str, share: str) -> float | None:
    values = (paper.get("values") or {}).get(task)
    if values is None:
        return None
    cells = [
        v for column, v in zip(paper["columns"], values, strict=True) if column.split()[0] == share
    ]
    return float(np.mean(cells)) - float(values[0]) if cells else None


def lesion_findings(results: Path, paper: Mapping[str, Any]) -> list[Finding]:
    """Per task: the mean score change over each share's layer ranges vs the original model."""
    path = results / "lesion" / "table1.csv"
    if not path.is_file():
        return []
    table = read_study_table(path, ["task", "original"])
    shares: dict[str, list[str]] = {}
    for column in table.columns:
        match = LESION_COLUMN.match(column)
        if match and not BASELINE_COLUMN.search(column):
            shares.setdefault(match.group(1), []).append(column)
    if not shares:
        raise DataError(f"{path}: no lesion columns ('<share>% <range> …') for the run summary")
    baselines = _baseline_columns(table.columns)
    out = []
    for _, row in table.iterrows():
        parts = []
        for share, columns in shares.items():
            effect, interval = _lesion_share_effect(row, columns)
            theirs = _paper_lesion_effect(paper, row["task"], share)
            direction = None if theirs is None else sign(theirs, 0.0)
            said = verdict(interval, 0.0, direction, effect)
            parts.append(
                f"{share} {_with_interval(effect, interval, signed=True)} (paper "
                f"{'—' if theirs is None else _fmt(theirs, 2, signed=True)}: {said}; "
                f"{_per_range(row, columns, paper, share)})"
            )
        n = row.get("original: n")
        base = "; ".join(
            f"{name} {_with_interval(float(row[column]), _bounds(row, name))}"
            for name, column in baselines.items()
        )
        text = (
            f"Lesion, {row['task']}: original {row['original']:.2f}"
            + (f" (n = {int(n)})" if n is not None and not pd.isna(n) else "")
            + (f", baselines {base}" if base else "")
            + "; mean change over each share's layer ranges: "
            + "; ".join(parts)
        )
        out.append(Finding("lesion", text, ""))
    return out


# --- language ------------------------------------------------------------------------------------

#: Table 2 comparisons: (column, column) pairs and the words for them.
LANGUAGE_CONTRASTS = (("top", "before"), ("both", "before"), ("top", "bottom"))
LANGUAGE_COLUMNS = ("before", "top", "bottom", "both")


def _cell(row: pd.Series, column: str) -> tuple[float, Interval]:
    return float(row[column]), (float(row[f"{column}_lower"]), float(row[f"{column}_upper"]))


def _paper_contrast(paper: Mapping[str, Any], a: str, b: str) -> tuple[str, int | None]:
    """The paper's a − b per model (mean rows of Table
    2) and the direction they share (0: mixed)."""
    rows = (paper.get("values") or {}).get("table2_mean") or {}
    if not rows:
        return "—", None
    diffs = {
        model: v[LANGUAGE_COLUMNS.index(a)] - v[LANGUAGE_COLUMNS.index(b)]
        for model, v in rows.items()
    }
    signs = {sign(d, 0.0) for d in diffs.values()}
    shown = " / ".join(f"{_fmt(d, 1, signed=True)}" for d in diffs.values())
    return f"{shown} ({' / '.join(diffs)})", (signs.pop() if len(signs) == 1 else 0)


def language_findings(results: Path, paper: Mapping[str, Any]) -> list[Finding]:
    """Table 1's overlaps (with the most-shared pair's bootstrap range where the table has one)
    and Table 2's mean-row contrasts (MOVER on Wilson)."""
    out = []
    for path in sorted((results / "language").glob("*/table1.csv")):
        overlap = read_study_table(path, ["language_a", "language_b", "total"])
        off = overlap[overlap["language_a"] < overlap["language_b"]]
        if off.empty:
            continue
        diagonal = int(overlap[overlap["language_a"] == overlap["language_b"]]["total"].max())
        top = off.loc[off["total"].idxmax()]
        theirs = (paper.get("values") or {}).get("table1_xglm_564m")
        said = "paper (XGLM-564M) not listed"
        if theirs:
            names = theirs["languages"]
            pairs = {
                f"{names[i]}–{names[j]}": v
                for i, r in enumerate(theirs["matrix"])
                for j, v in enumerate(r)
                if i < j
            }
            most = max(pairs, key=pairs.__getitem__)
            size, mean = theirs["matrix"][0][0], float(np.mean(list(pairs.values())))
            said = (
                f"paper (XGLM-564M): mean {mean:.1f} of {size:,} ({100 * mean / size:.1f}%), most "
                f"{pairs[most]} ({most})"
            )
        most_shared, verdict_text = f"{int(top['total'])}", "no interval (counts of one selection)"
        if {"total_lower", "total_upper", "replicates"} <= set(off.columns):
            # lang14's bootstrap over each language's texts (re-ranked, recounted): a per-pair range
            most_shared += f" [{int(top['total_lower'])}, {int(top['total_upper'])}]"
            replicates = int(top["replicates"])
            rough = (
                "; rough: so few replicates can miss the estimate itself"
                if replicates < 100
                else ""
            )
            verdict_text = (
                f"per pair, the range of {replicates} bootstrap replicates over the texts "
                f"(table1.csv{rough}); no verdict on the mean"
            )
        out.append(
            Finding(
                "language",
                f"Language, Table 1 ({path.parent.name}): two languages' {diagonal:,}-neuron sets "
                f"share on average {off['total'].mean():.1f} "
                f"({100 * off['total'].mean() / diagonal:.1f}%), most {most_shared} "
                f"({top['language_a']}–{top['language_b']}); {said}",
                verdict_text,
            )
        )
    path = results / "language" / "table2.csv"
    if path.is_file():
        table = read_study_table(
            path,
            ["language", *[f"{c}{s}" for c in LANGUAGE_COLUMNS for s in ("", "_lower", "_upper")]],
        )
        for _, row in table[table["language"] == "mean"].iterrows():
            parts = []
            for a, b in LANGUAGE_CONTRASTS:
                effect, interval = mover_difference(*_cell(row, a), *_cell(row, b))
                shown, direction = _paper_contrast(paper, a, b)
                parts.append(
                    f"{a} − {b} {_with_interval(effect, interval, 1, signed=True)} points (paper "
                    f"{shown}: {verdict(interval, 0.0, direction, effect)})"
                )
            model = row.get("model", "")
            n = (
                (
                    f"n = {int(row['before_n'])} texts before / {int(row['top_n'])} per steered "
                    "condition, "
                )
                if "top_n" in row.index
                else ""
            )
            out.append(
                Finding(
                    "language",
                    f"Language, Table 2 ({model}, mean of the languages; {n}P(target) before "
                    f"{row['before']:.1f}%): " + "; ".join(parts),
                    "",
                )
            )
    return out


# --- knowledge -----------------------------------------------------------------------------------


def knowledge_findings(results: Path, paper: Mapping[str, Any]) -> list[Finding]:
    """Table 2 per group (Wilson over the comparisons; no effect = 50%) and the final accuracy."""
    out = []
    path = results / "knowledge" / "table2.csv"
    if path.is_file():
        table = read_study_table(path, ["group", "score_as_paper"])
        parts = []
        for _, row in table.iterrows():
            interval = None
            if {"hits", "comparisons_as_paper"} <= set(row.index):
                low, high = wilson(int(row["hits"]), int(row["comparisons_as_paper"]))
                interval = (100 * low, 100 * high)
            theirs = (paper.get("values") or {}).get(row["group"])
            direction = None if theirs is None else sign(float(theirs), 50.0)
            parts.append(
                f"{row['group']} {_with_interval(float(row['score_as_paper']), interval, 1)} "
                f"(paper {'—' if theirs is None else theirs}: "
                f"{verdict(interval, 50.0, direction, float(row['score_as_paper']))})"
            )
        out.append(
            Finding(
                "knowledge",
                "Knowledge, Table 2 (% of other-group words farther than the group's mean "
                "distance, as the paper computed it; 50 = no grouping; Wilson interval treating "
                "comparisons as independent): " + "; ".join(parts),
                "",
            )
        )
    path = results / "knowledge" / "answers.csv"
    if path.is_file():
        answers = read_study_table(path, ["accuracy"])
        final = answers.iloc[-1]
        interval = (
            (100 * final["accuracy_low"], 100 * final["accuracy_high"])
            if {"accuracy_low", "accuracy_high"} <= set(final.index)
            else None
        )
        n = f" of {int(final['prompts'])} prompts" if "prompts" in final.index else ""
        where = f" at checkpoint {final['checkpoint']}" if "checkpoint" in final.index else ""
        out.append(
            Finding(
                "knowledge",
                f"Knowledge, accuracy on the question prompts{where}: "
                f"{_with_interval(100 * float(final['accuracy']), interval, 1)}%{n}",
                NO_PAPER,
            )
        )
    return out


# --- redundancy ----------------------------------------------------------------------------------


def _t_interval(values: np.ndarray) -> Interval | None:
    from scipy import stats

    values = values[~np.isnan(values)]
    if len(values) < 2:
        return None
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def redundancy_findings(results: Path, paper: Mapping[str, Any]) -> list[Finding]:
    """Per model: R² of layer n → n+1 and the SVR's
    gain over the identity baseline (t over pairs)."""
    out = []
    for path in sorted((results / "redundancy").glob("*/pair_summary.csv")):
        pairs = read_study_table(path, ["pair", "mean_r2", "mean_r2_identity", "mean_gain"])
        gain = pairs["mean_gain"].to_numpy(dtype=float)
        interval = _t_interval(gain)
        out.append(
            Finding(
                "redundancy",
                f"Redundancy ({path.parent.name}): test R² of layer n → n+1, mean over dims, "
                f"{pairs['mean_r2'].min():.2f}–{pairs['mean_r2'].max():.2f} over {len(pairs)} "
                "pairs; the identity baseline reaches "
                f"{pairs['mean_r2_identity'].min():.2f}–{pairs['mean_r2_identity'].max():.2f}; "
                "the SVR's gain over it "
                f"{_with_interval(float(np.nanmean(gain)), interval, 3, signed=True)} (mean over "
                "pairs, t interval over pairs)",
                "the poster gives R² as figures and has no identity baseline: " + NO_PAPER,
            )
        )
    return out


# --- paramact ------------------------------------------------------------------------------------


def _holding(column: pd.Series) -> tuple[int, int]:
    """Sum of "k/n" cells: samples for which a finding holds, of all samples."""
    hits = total = 0
    for cell in column.dropna().astype(str):
        if "/" in cell:
            k, n = cell.split("/")
            hits, total = hits + int(k), total + int(n)
    return hits, total


def _at_run_gamma(rows: pd.DataFrame, folder: Path) -> tuple[pd.DataFrame, str]:
    """Finding 1's rows at the γ the run chose (its jobs' gamma.csv), and how that γ reads.

    findings.csv holds finding 1 at every γ of the threshold sweep; the summary states it at the
    run's own γ (the one set by the activated share).
    Without a gamma.csv it says it pools the sweep.
    """
    files = sorted(folder.glob("jobs/*/gamma.csv"))
    if not files or "gamma" not in rows.columns:
        return rows, "pooled over every γ of the sweep"
    chosen = read_study_table(files[0], ["gamma"]).iloc[0]
    at = rows[np.isclose(rows["gamma"].astype(float), float(chosen["gamma"]), rtol=1e-9, atol=0.0)]
    share = (
        f", marking {100 * float(chosen['share']):.1f}% of the weights"
        if "share" in chosen.index
        else ""
    )
    return at, f"γ = {float(chosen['gamma']):.3g}{share}"


def paramact_findings(results: Path, paper: Mapping[str, Any]) -> list[Finding]:
    """Findings 1–3 of Wang et al. 2024; the paper states each as a direction (+1), in figures."""
    out = []
    for path in sorted((results / "paramact").glob("*/findings.csv")):
        model = path.parent.name
        table = read_study_table(path, ["finding", "shallow", "deep"])
        one, gamma = _at_run_gamma(
            table[table["finding"].astype(str).str.startswith("1")], path.parent
        )
        if len(one):
            gaps = (one["shallow"] - one["deep"]).to_numpy(dtype=float)
            effect = float(gaps.mean())
            cases = ", ".join(
                f"{r['subject']} {100 * r['shallow']:.1f}% vs {100 * r['deep']:.1f}%"
                for _, r in one.iterrows()
            )
            interval, how = None, ""
            if {"gap_ci95_low", "gap_ci95_high"} <= set(one.columns) and one[
                ["gap_ci95_low", "gap_ci95_high"]
            ].notna().all().all():
                _, interval = mover_mean(
                    gaps,
                    list(
                        zip(
                            one["gap_ci95_low"].astype(float),
                            one["gap_ci95_high"].astype(float),
                            strict=False,
                        )
                    ),
                )
                above = int((one["gap_ci95_low"] > 0).sum())
                n = (
                    f", n = {int(one['n'].min())}"
                    if "n" in one.columns and one["n"].notna().all()
                    else ""
                )
                how = (
                    f"; per dataset, the 95% interval (bootstrap over its samples{n}) lies above "
                    f"0 for {above} of {len(one)}, the mean's combined by MOVER"
                )
                interval = (100 * interval[0], 100 * interval[1])
            shown = (
                _with_interval(100 * effect, interval, 2, signed=True)
                if interval
                else _fmt(100 * effect, 2, signed=True)
            )
            out.append(
                Finding(
                    "paramact",
                    f"Paramact ({model}), finding 1 ({gamma}): activated share of shallow vs deep "
                    f"layers' weights: {cases}; shallow minus deep, mean over datasets, "
                    f"{shown} "
                    f"points (higher in shallow layers for {int((gaps > 0).sum())} of "
                    f"{len(one)}{how})",
                    verdict(interval, 0.0, 1, 100 * effect),
                )
            )
        two = table[table["finding"].astype(str).str.startswith("2")]
        if len(two):
            hits, n = (
                _holding(two["samples_holding"]) if "samples_holding" in two.columns else (0, 0)
            )
            interval = tuple(100 * v for v in wilson(hits, n)) if n else None
            share = 100 * hits / n if n else float("nan")
            effect = float((two["shallow"] - two["deep"]).mean())
            out.append(
                Finding(
                    "paramact",
                    f"Paramact ({model}), finding 2: cross-domain LLMDcos shallow minus deep "
                    f"{_fmt(effect, 3, signed=True)} (mean over {len(two)} pairs); higher in "
                    f"shallow layers for {_with_interval(share, interval, 1)}% of {n} sample "
                    "pairs (Wilson, treating the sample pairs as independent; 50 = no effect)",
                    verdict(interval, 50.0, 1, share),
                )
            )
        sts = path.parent / "finding3_sts.csv"
        if sts.is_file():
            stats = read_study_table(sts, ["dataset", "layers", "spearman", "low", "high"])
            for _, row in stats[stats["layers"].astype(str).str.startswith("sum")].iterrows():
                per_layer = stats[
                    (stats["dataset"] == row["dataset"])
                    & ~stats["layers"].astype(str).str.startswith("sum")
                ]
                layers = per_layer["layers"].astype(int)
                shallow = per_layer[layers < (layers.max() + 1) // 2][
                    "spearman"
                ].mean()  # layers 0 .. L/2 − 1, as finding 1
                interval = (float(row["low"]), float(row["high"]))
                n = f", {int(row['pairs'])} pairs" if "pairs" in row.index else ""
                out.append(
                    Finding(
                        "paramact",
                        f"Paramact ({model}), finding 3 ({row['dataset']}{n}): Spearman(gold, "
                        f"LLMDcos summed over deep layers {row['layers'].split()[-1]}) "
                        f"{_with_interval(float(row['spearman']), interval)} (bootstrap; shallow "
                        f"layers' mean per-layer Spearman {_fmt(shallow, 2)}, no interval)",
                        verdict(interval, 0.0, 1, float(row["spearman"])),
                    )
                )
    return out


FINDERS: dict[str, Callable[[Path, Mapping[str, Any]], list[Finding]]] = {
    "census": census_findings,
    "lesion": lesion_findings,
    "language": language_findings,
    "knowledge": knowledge_findings,
    "redundancy": redundancy_findings,
    "paramact": paramact_findings,
}


def run_findings(
    results: str | Path, paper_values: Mapping[str, Any], studies: Sequence[str] | None = None
) -> list[Finding]:
    """Every study's findings, in ``studies`` order (default: every study with a finder)."""
    results = Path(results)
    out: list[Finding] = []
    for study in studies if studies is not None else FINDERS:
        if study in FINDERS:
            out += FINDERS[study](results, paper_values.get(study) or {})
    return out


def findings_lines(findings: Sequence[Finding]) -> list[str]:
    """The summary's opening: one bullet per finding, each ending with its verdict."""
    return [f"- {f.sentence()}" for f in findings]


MARKERS = ("<!-- results-table:start -->", "<!-- results-table:end -->")


def results_table(findings: Sequence[Finding], run_name: str) -> str:
    """README's results table: one row per study, its findings' sentences, between the markers."""
    rows = {}
    for f in findings:
        rows.setdefault(f.study, []).append(f.sentence().replace("|", "\\|"))
    lines = [
        MARKERS[0],
        f"Generated by `lmanatomy results-table results/{run_name}` from that run's files.",
        "",
        "| study | finding (95% interval; verdict against the paper) |",
        "|---|---|",
    ]
    lines += [f"| {study} | {' '.join(sentences)} |" for study, sentences in rows.items()]
    return "\n".join(lines + [MARKERS[1]]) + "\n"


def replace_block(text: str, block: str, source: str = "README.md") -> str:
    """``text`` with the part between the results-table
    markers (inclusive) replaced by ``block``."""
    start, end = text.find(MARKERS[0]), text.find(MARKERS[1])
    if start < 0 or end < start:
        raise DataError(f"{source}: no '{MARKERS[0]}' … '{MARKERS[1]}' block to replace")
    return text[:start] + block.rstrip("\n") + text[end + len(MARKERS[1]) :]
