"""``results/<run>/summary.md``: the findings the run supports, then each table next to the paper's.

The opening findings (one sentence each, with interval and verdict) come from
:mod:`lmanatomy.report.findings`, the same sentences README's results table is printed from.

The paper's numbers come from ``workflow/report/paper_values.yaml`` (as the study specs list
them). Every section first says which model(s) the run used and which the paper used, so a
reader of the default run sees at once that a 135M model on small data subsets is not expected to
give the paper's numbers: the comparison shows the method at work and where the findings hold.
Sections read the tables the studies wrote; a study the run did not enable has no section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lmanatomy.report.findings import BASELINE_COLUMN, LESION_COLUMN, findings_lines, run_findings
from lmanatomy.report.findings import read_study_table as _read
from lmanatomy.tables import to_markdown

Section = Callable[[Path, Mapping[str, Any], Mapping[str, Any]], list[str]]


def load_paper_values(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _setup(
    run_models: Sequence[str], paper: Mapping[str, Any], displays: Mapping[str, str]
) -> list[str]:
    """Who ran vs who the paper ran; the 'different model' warning when they differ."""
    ours = ", ".join(displays.get(m, m) for m in run_models) or "none"
    theirs = ", ".join(displays.get(m, m) for m in paper.get("models", []))
    lines = [
        f"*This run:* {ours}. *Paper ({paper['paper']}):* {theirs}"
        + (f"; {paper['data']}." if paper.get("data") else ".")
    ]
    if not set(run_models) & set(paper.get("models", [])):
        lines += [
            "",
            "**Different model and data from the paper: numbers are not expected to match.**",
        ]
    return lines + [""]


def census_section(results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    table = _read(
        results / "census" / "table3.csv", ["registry_name", "model", "layers", "neurons"]
    )
    values = paper["values"]
    rows = []
    for name in list(table["registry_name"]) + [
        n for n in values if n not in set(table["registry_name"])
    ]:
        ours = table[table["registry_name"] == name]
        theirs = values.get(name, {})
        row = {
            "model": run["displays"].get(name, name),
            "layers (run)": int(ours["layers"].iloc[0]) if len(ours) else "—",
            "neurons (run)": int(ours["neurons"].iloc[0]) if len(ours) else "—",
            "layers (paper)": theirs.get("layers", "—"),
            "neurons (paper)": theirs.get("neurons", "—"),
        }
        row["match"] = (
            "yes"
            if (row["layers (run)"], row["neurons (run)"])
            == (row["layers (paper)"], row["neurons (paper)"])
            else "—"
            if "—" in (row["layers (run)"], row["layers (paper)"])
            else "**no**"
        )
        rows.append(row)
    return [
        "Counted from architecture facts; the paper's rows are exact targets (a *no* is a bug).",
        "",
        to_markdown(pd.DataFrame(rows)),
    ]


def language_section(results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    table = _read(
        results / "language" / "table2.csv",
        ["model", "language", "before_n", "top_n", "before_lower", "top_upper"],
    )
    theirs = pd.DataFrame(
        [[m, *v] for m, v in ((paper.get("values") or {}).get("table2_mean") or {}).items()],
        columns=["paper model", "before", "top", "bottom", "both"],
    )
    from lmanatomy.language.report import table2_display

    return [
        "P(target language) in % before intervention and with the top / bottom / both neuron sets "
        "fixed (this run; brackets: 95% Wilson interval).",
        "",
        to_markdown(table2_display(table)),
        "The paper's mean rows (Table 2, mean over its six languages):",
        "",
        to_markdown(theirs, digits=1),
    ]


def lesion_section(results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    table = _read(results / "lesion" / "table1.csv", ["task", "metric", "original"])
    # the original, then the lesions; "<column>: n" etc. are details, baselines are not lesions
    ours = ["original"] + [
        c for c in table.columns if LESION_COLUMN.match(c) and not BASELINE_COLUMN.search(c)
    ]
    theirs = paper["columns"]
    lines = [
        "Scores per task: the original model, then each lesion (share of all parameters, pruned "
        "layers)."
    ]
    if len(ours) != len(theirs):
        lines += [
            f"This run has {len(ours)} columns, the paper {len(theirs)}: shown one under the "
            "other.",
            "",
            "This run:",
            "",
            to_markdown(table[["task", "metric", *ours]]),
            "Paper:",
            "",
            to_markdown(
                pd.DataFrame(
                    [[k, *v] for k, v in paper["values"].items()], columns=["task", *theirs]
                )
            ),
        ]
        return lines
    lines += [
        "Columns are matched by position (this run's layer ranges are the paper's scaled to the "
        "run's model depth); header: this run's range / the paper's.",
        "",
    ]
    header = ["task", "source"] + [
        c if c == t else f"{c} / {t.split()[-1]}" for c, t in zip(ours, theirs, strict=True)
    ]
    rows = []
    for _, row in table.iterrows():
        rows.append([row["task"], "this run", *[row[c] for c in ours]])
        if row["task"] in paper["values"]:
            rows.append([row["task"], "paper", *paper["values"][row["task"]]])
    return lines + [to_markdown(pd.DataFrame(rows, columns=header), digits=2)]


def knowledge_section(results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    table = _read(
        results / "knowledge" / "table2.csv", ["group", "score_as_paper", "score_corrected"]
    )
    rows = [
        {
            "group": g,
            "run, as the paper computed it": a,
            "paper": paper["values"].get(g, "—"),
            "run, corrected": c,
        }
        for g, a, c in zip(
            table["group"], table["score_as_paper"], table["score_corrected"], strict=True
        )
    ]
    return [
        "Table 2: per group, the % of other-group words farther than the group's mean distance. "
        "The paper's values compare with the run's column as the paper computed it (its code also "
        "counts each word against itself); the corrected denominator leaves that out.",
        "",
        to_markdown(pd.DataFrame(rows), digits=1),
    ]


def redundancy_section(
    results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]
) -> list[str]:
    lines = []
    for model in run["models"].get("redundancy", []):
        path = results / "redundancy" / model / "pair_summary.csv"
        summary = _read(path, ["mean_r2", "mean_r2_identity", "mean_gain"])
        frequent = _read(results / "redundancy" / model / "frequent_dims.csv")
        span = {
            c: f"{summary[c].min():.3f} to {summary[c].max():.3f}"
            for c in ("mean_r2", "mean_r2_identity", "mean_gain")
        }
        # Redundancy is read from the SVR's gain over the identity baseline, not from its R² alone.
        lines += [
            f"**{run['displays'].get(model, model)}**: mean R² per layer pair {span['mean_r2']}, "
            "of which the identity baseline (each dim from its own dim of the layer before) "
            f"already reaches {span['mean_r2_identity']}; the SVR's mean gain over it, where "
            f"redundancy between layers shows, is {span['mean_gain']} (largest in pair "
            f"{summary.loc[summary['mean_gain'].idxmax(), 'pair']}). The most frequent "
            "contributing dims:",
            "",
            to_markdown(frequent.head(5)),
        ]
    dims = ", ".join(str(d) for d in paper["values"]["frequent_dims"])
    return lines + [
        f"Paper: dims {dims} dominate in its model; dims are model-specific, so only the pattern "
        "(a few dims dominating) is comparable across models.",
        "",
    ]


def paramact_section(results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    lines = []
    for model in run["models"].get("paramact", []):
        findings = _read(results / "paramact" / model / "findings.csv", ["finding", "holds"])
        checked = findings[findings["holds"].notna() & (findings["holds"].astype(str) != "")]
        held = checked.assign(holds=checked["holds"].astype(str) == "True").groupby(
            "finding", sort=False
        )["holds"]
        rows = [
            {
                "finding": f,
                "cases where it holds (run)": f"{int(h.sum())}/{len(h)}",
                "paper": "holds",
            }
            for f, h in held
        ]
        lines += [
            f"**{run['displays'].get(model, model)}** (cases: datasets × thresholds γ, or dataset "
            "pairs):",
            "",
            to_markdown(pd.DataFrame(rows)),
        ]
    return lines + [
        "The paper states both findings for its models; it gives them as figures, not numbers."
    ]


def sections() -> dict[str, tuple[str, Section]]:
    """Study → (heading, section function) of every discovered study that has a summary section."""
    from lmanatomy.study import discover

    return {
        s.name: (s.title, section)
        for s in discover()
        if (section := s.summary_section()) is not None
    }


def summarize(
    results: str | Path,
    run_name: str,
    studies: Sequence[str],
    paper_values: Mapping[str, Any],
    models: Mapping[str, Sequence[str]],
    displays: Mapping[str, str],
    deviations: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The summary document: one section per enabled study, in the config's order.

    ``models`` maps each study to the registry names it ran, ``displays`` names to the names the
    papers print; ``deviations`` each study to its lines of "how this run differs from the
    paper" (lmanatomy.deviations: derived from the paper's config).
    """
    results = Path(results)
    run = {"models": models, "displays": displays}
    lines = [
        f"# Run `{run_name}`: findings, then the tables next to the papers' numbers",
        "",
        "## Findings",
        "",
        "Each finding: this run's number with its 95% interval, the paper's value, and whether "
        "the run points the paper's way (*undecided* when the interval contains the no-effect "
        "value). Where this run's model and data differ from the paper's (the default run: "
        "SmolLM2-135M on small seeded subsets of the real data, on a CPU), agreement in direction "
        "is the most that can be expected.",
        "",
        *findings_lines(run_findings(results, paper_values, studies)),
        "",
        "## Tables",
        "",
        "Each section names the model(s) of this run and of the paper. Where they differ the "
        "numbers are not expected to match; the report (`report.html`) has every table and figure "
        "with its caption and the run's provenance.",
        "",
    ]
    known = sections()
    for study in studies:
        if study not in known:
            continue
        title, section = known[study]
        paper = paper_values[study]
        lines += [f"### {title}", ""] + _setup(models.get(study, []), paper, displays)
        lines += [*(deviations or {}).get(study, [])] + section(results, paper, run) + [""]
    return "\n".join(lines).rstrip() + "\n"


def models_by_study(config: Mapping[str, Any], studies: Sequence[str]) -> dict[str, list[str]]:
    """The registry names each enabled study runs: its section's ``models`` list or ``model``."""
    out: dict[str, list[str]] = {}
    for study in studies:
        section = config.get(study) or {}
        names = list(section.get("models") or []) + (
            [section["model"]] if section.get("model") else []
        )
        out[study] = list(dict.fromkeys(names))
    return out
