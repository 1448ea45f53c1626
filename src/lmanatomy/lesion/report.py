"""Table 1 of Harada et al. (2024), its figure, and the requested-vs-achieved shares.

Table 1: one row per task (its main metric: exact match, or Pearson for JSTS), the original
model's score, then one column per (share, layer range) lesion, share-major; each column names
the range as the config writes it and the 0-based layer indices pruned (``0.5% 4-8 [idx 3-7]``).

So that the table does not overstate:

* in the Markdown rendering the best lesion of each share is bold per row only when it is a
  strict best at the printed precision (a tie is no best);
* a correlation that is 0 only because it is undefined (constant predictions; llm-jp-eval scores
  it 0) prints as ``0.00*`` with a footnote, distinct from a measured 0;
* the CSV carries, per cell, the sample count and a 95% percentile-bootstrap interval (columns
  ``<column>: n``, ``<column>: ci95_low``, ``<column>: ci95_high``, ``<column>: undefined``);
* beside the table, two baselines per task computed on the same samples, each with its 95%
  interval: the majority class (always the most frequent gold; 0 for a correlation) and always
  repeating the last few-shot's answer (the failure mode Harada et al. report for pruned models);
  in the CSV as columns ``majority class: score`` / ``: ci95_low`` / ``: ci95_high`` and
  ``repeat last few-shot answer: ...`` (with ``: answer``);
* the figure draws the intervals and both baselines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.lesion.naming import NUMBERINGS, ORIGINAL, layer_indices, percent_label
from lmanatomy.lesion.planning import PruningPlan

METRIC_LABELS = {"exact_match": "exact match", "pearson": "Pearson", "spearman": "Spearman"}
DETAILS = (
    "n",
    "ci95_low",
    "ci95_high",
    "undefined",
)  # per-cell columns of table1.csv: "<column>: <detail>"
# Baselines on the original's evaluated samples: column
# name in table1.csv → key prefix in the task summary.
BASELINES = {"majority class": "baseline", "repeat last few-shot answer": "fewshot_baseline"}
DIGITS = 2
BASELINE_NOTE = (
    "A lesion effect is a finding only where its interval clears the original's; a score inside a "
    "baseline's interval is what a constant answer gets. Majority class: always the most frequent "
    "gold of these samples (a correlation of a constant answer is undefined and scores 0). "
    "Repeat: always the last few-shot's answer, shown in quotes, the answer a model that copies "
    "its prompt gives."
)
UNDEFINED_NOTE = (
    "0.00*: the correlation is undefined (constant predictions or golds) and llm-jp-eval scores "
    "it 0; not a measured 0."
)


def column_label(plan: PruningPlan) -> str:
    return f"{percent_label(plan.share)} {plan.range_name}"


def _summaries(
    scores: Mapping[str, Sequence[Mapping[str, Any]]], variant: str
) -> dict[str, Mapping[str, Any]]:
    if variant not in scores:
        raise KeyError(f"no evaluation results for '{variant}'")
    return {s["task"]: s for s in scores[variant]}


def _labels(plans: Mapping[str, PruningPlan]) -> dict[str, str]:
    return {ORIGINAL: ORIGINAL, **{v: column_label(p) for v, p in plans.items()}}


def _grid(
    scores: Mapping[str, Sequence[Mapping[str, Any]]],
    plans: Mapping[str, PruningPlan],
    tasks: Sequence[str],
    value: str | None,
    details: bool = False,
) -> pd.DataFrame:
    """Rows = tasks, columns = task/metric/original/lesions;
    ``value`` None = each task's main metric.

    ``details``: also each cell's n, 95% interval and whether the metric is undefined.
    """
    from lmanatomy.evaluation.tasks import task_spec

    labels = _labels(plans)
    per_variant = {v: _summaries(scores, v) for v in labels}
    rows = []
    for task in tasks:
        spec = task_spec(task)
        key = value or spec.main_metric
        row: dict[str, Any] = {
            "task": spec.display,
            "metric": METRIC_LABELS.get(key, key.replace("_", " ")),
        }
        for variant, label in labels.items():
            summary = per_variant[variant][task]
            row[label] = float(summary[key])
            if details:
                low, high = summary.get(f"{key}_ci95", [math.nan, math.nan])
                row.update(
                    {
                        f"{label}: n": int(summary["samples"]),
                        f"{label}: ci95_low": float(low),
                        f"{label}: ci95_high": float(high),
                        f"{label}: undefined": bool(summary.get(f"{key}_undefined", False)),
                    }
                )
        if details:
            row.update(_baseline_cells(per_variant[ORIGINAL][task], key))
        rows.append(row)
    return pd.DataFrame(rows)


def _baseline_cells(summary: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The two baselines of one task (score and 95% interval;
    NaN when the evaluation did not record them)."""
    cells: dict[str, Any] = {}
    for name, suffix in BASELINES.items():
        low, high = summary.get(f"{key}_{suffix}_ci95", [math.nan, math.nan])
        cells.update(
            {
                f"{name}: score": float(summary.get(f"{key}_{suffix}", math.nan)),
                f"{name}: ci95_low": float(low),
                f"{name}: ci95_high": float(high),
            }
        )
    cells["repeat last few-shot answer: answer"] = str(summary.get("fewshot_baseline_answer", ""))
    return cells


def interval_table(frame: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """Table 1's layout with each cell's 95% bootstrap interval as ``[low, high]``."""
    out = frame[["task", "metric"]].copy()
    for column in score_columns(frame):
        out[column] = [
            f"[{low:.{digits}f}, {high:.{digits}f}]"
            for low, high in zip(
                frame[f"{column}: ci95_low"], frame[f"{column}: ci95_high"], strict=True
            )
        ]
    return out


def baselines_table(frame: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """The Markdown view beside Table 1: per task n, the original's score and both baselines, each
    with its 95% interval."""

    def cell(prefix: str, score: str) -> list[str]:
        return [
            f"{row[score]:.{digits}f} [{row[f'{prefix}: ci95_low']:.{digits}f}, "
            f"{row[f'{prefix}: ci95_high']:.{digits}f}]"
            for _, row in frame.iterrows()
        ]

    out = pd.DataFrame(
        {"task": frame["task"], "metric": frame["metric"], "n": frame[f"{ORIGINAL}: n"]}
    )
    out[f"{ORIGINAL} (95% CI)"] = cell(ORIGINAL, ORIGINAL)
    out["majority class (95% CI)"] = cell("majority class", "majority class: score")
    out["repeat last few-shot answer (95% CI)"] = [
        f"{text} ('{answer}')"
        for text, answer in zip(
            cell("repeat last few-shot answer", "repeat last few-shot answer: score"),
            frame["repeat last few-shot answer: answer"],
            strict=True,
        )
    ]
    return out


def score_columns(frame: pd.DataFrame) -> list[str]:
    """The score columns of a Table 1 frame (original and lesions, without the per-cell details)."""
    return [c for c in frame.columns if c not in ("task", "metric") and ": " not in c]


def best_per_share(
    frame: pd.DataFrame, plans: Mapping[str, PruningPlan], digits: int = DIGITS
) -> pd.DataFrame:
    """True where a lesion column holds the strictly highest score of its
    share in that row, compared at the printed precision (``digits``): a
    tie, or a lead that the rounding hides, is no best."""
    bold = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    for share in sorted({p.share for p in plans.values()}):
        columns = [column_label(p) for p in plans.values() if p.share == share]
        block = np.round(frame[columns].to_numpy(dtype=float), digits)
        best = np.nanmax(block, axis=1, keepdims=True)
        unique = (block == best).sum(axis=1, keepdims=True) == 1
        bold[columns] = (block == best) & unique
    return bold


def display_table(frame: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """The Markdown view: scores as text, an undefined correlation as ``0.00*``."""
    out = frame[["task", "metric", *score_columns(frame)]].copy().astype(object)
    for column in score_columns(frame):
        flags = frame.get(f"{column}: undefined", pd.Series(False, index=frame.index)).astype(bool)
        out[column] = [
            f"{v:.{digits}f}*" if flag else f"{v:.{digits}f}"
            for v, flag in zip(frame[column], flags, strict=True)
        ]
    return out


def table1(
    scores: Mapping[str, Sequence[Mapping[str, Any]]],
    plans: Mapping[str, PruningPlan],
    tasks: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Table 1 with per-cell n, interval and undefined flag;
    its bold mask). ``scores``: variant → per-task summaries."""
    frame = _grid(scores, plans, tasks, None, details=True)
    return frame, best_per_share(frame, plans)


def write_table1(
    frame: pd.DataFrame,
    bold: pd.DataFrame,
    csv_path: str,
    md_path: str,
    title: str,
    notes: Sequence[str],
) -> None:
    """CSV: every column (full precision); Markdown: the
    scores, strict bests bold, ``0.00*`` footnoted."""
    from lmanatomy.tables import atomic_write_text, to_markdown

    atomic_write_text(
        csv_path, frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    )
    shown = display_table(frame)
    lines = [f"## {title}\n", to_markdown(shown, bold=bold[shown.columns])]
    footnotes = list(notes)
    if any(text.endswith("*") for column in score_columns(frame) for text in shown[column]):
        footnotes.append(UNDEFINED_NOTE)
    lines.append("\n" + "\n".join(f"- {n}" for n in footnotes) + "\n")
    lines += [
        "### 95% bootstrap interval of every cell (n per task in the baselines table)\n",
        to_markdown(interval_table(frame)),
        "",
    ]
    lines += [
        "### Baselines on the same samples (score [95% bootstrap interval])\n",
        to_markdown(baselines_table(frame)),
        "\n- " + BASELINE_NOTE + "\n",
    ]
    atomic_write_text(md_path, "\n".join(lines))


def fewshot_table(
    scores: Mapping[str, Sequence[Mapping[str, Any]]],
    plans: Mapping[str, PruningPlan],
    tasks: Sequence[str],
) -> pd.DataFrame:
    """Share of predictions that equal one of the few-shot answers, same layout as Table 1."""
    frame = _grid(scores, plans, tasks, "fewshot_answer_share")
    frame["metric"] = "= a few-shot answer"
    return frame


def reading_shares(
    model_or_config: Any, plans: Mapping[str, PruningPlan]
) -> dict[str, dict[str, float | None]]:
    """Per lesion, the achieved share (%) had its range's numbers been read under each numbering
    (None: outside the model)."""
    from lmanatomy.errors import ConfigError
    from lmanatomy.lesion.planning import architecture_of, plan_for

    arch = architecture_of(model_or_config)
    out: dict[str, dict[str, float | None]] = {}
    for variant, p in plans.items():
        numbers = [int(x) for x in p.label.split("-")]
        out[variant] = {}
        for numbering in NUMBERINGS:
            try:
                other = plan_for(arch, layer_indices(numbers, numbering), p.share, p.gqa)
                out[variant][numbering] = other.achieved_share * 100
            except ConfigError:
                out[variant][numbering] = None
    return out


def shares_table(
    plans: Mapping[str, PruningPlan],
    measured: Mapping[str, int] | None = None,
    readings: Mapping[str, Mapping[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Requested vs achieved share of the whole model's parameters, per lesion.

    ``measured``: variant → parameters actually removed (counted from the pruned tensors); when
    given it must equal the plan's count. ``readings``: see ``reading_shares``.
    """
    rows = []
    for variant, plan in plans.items():
        removed = plan.removed_parameters
        if measured is not None and measured[variant] != removed:
            raise ValueError(
                f"lesion '{variant}': {measured[variant]:,} parameters removed, the plan says "
                f"{removed:,}"
            )
        first, last = plan.layers
        row = {
            "lesion": variant,
            "range": plan.label,
            "numbering": plan.numbering,
            "indices": f"{first}-{last}",
            "requested_percent": plan.share * 100,
            "achieved_percent": plan.achieved_share * 100,
            "per_layer_ratio": plan.ratio,
            "heads_per_layer": plan.heads,
            "kv_heads_per_layer": plan.kv_heads,
            "neurons_per_layer": plan.neurons,
            "parameters_removed": removed,
            "parameters_total": plan.architecture.total_parameters,
            "gqa": plan.gqa if plan.architecture.is_gqa else "(MHA)",
            "importance_dtype": plan.importance_dtype,
        }
        for numbering, value in (readings or {}).get(variant, {}).items():
            row[f"achieved_if_{numbering}"] = np.nan if value is None else value
        rows.append(row)
    return pd.DataFrame(rows)


def figure(
    frame: pd.DataFrame,
    plans: Mapping[str, PruningPlan],
    title: str,
    note: str | None,
    path: str,
    baselines: Mapping[str, float] | None = None,
) -> None:
    """Score vs pruned layer range, one panel per task, one line per share with 95% intervals,
    the original dashed, the constant-answer baseline dotted (``baselines``: task display → score),
    the repeated few-shot answer dash-dotted (from the frame's
    ``repeat last few-shot answer: score``)."""
    from lmanatomy import plots

    shares = sorted({p.share for p in plans.values()})
    ranges = list(dict.fromkeys(p.range_name for p in plans.values()))
    n = len(frame)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plots.figure(
        nrows, ncols, width=4.6 * ncols, height=3.4 * nrows + 0.7, squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    x = np.arange(len(ranges))
    for ax, (_, row) in zip(axes.flat, frame.iterrows(), strict=False):
        for k, share in enumerate(shares):
            by_range = {p.range_name: column_label(p) for p in plans.values() if p.share == share}
            cols = [by_range.get(r) for r in ranges]
            y = np.array([row[c] if c else np.nan for c in cols], dtype=float)
            low = np.array(
                [row.get(f"{c}: ci95_low", np.nan) if c else np.nan for c in cols], dtype=float
            )
            high = np.array(
                [row.get(f"{c}: ci95_high", np.nan) if c else np.nan for c in cols], dtype=float
            )
            offset = (
                k - (len(shares) - 1) / 2
            ) * 0.08  # side by side, so the intervals do not hide each other
            ax.errorbar(
                x + offset,
                y,
                yerr=np.vstack([y - low, high - y]),
                marker="o",
                capsize=3,
                label=f"{percent_label(share)} pruned (95% CI)",
            )
        ax.axhline(row[ORIGINAL], color="0.3", linestyle="--", linewidth=1, label="original")
        if baselines and row["task"] in baselines:
            ax.axhline(
                baselines[row["task"]],
                color="tab:red",
                linestyle=":",
                linewidth=1.2,
                label="constant answer (majority / r = 0)",
            )
        repeat = float(row.get("repeat last few-shot answer: score", np.nan))
        if not np.isnan(repeat):
            ax.axhline(
                repeat,
                color="tab:purple",
                linestyle="-.",
                linewidth=1.2,
                label="repeat last few-shot answer",
            )
        ax.set_xticks(x, ranges, rotation=20, fontsize=7)
        ax.set_xlabel("pruned layers: as configured [0-based indices]")
        ax.set_ylabel(row["metric"])
        ax.set_title(row["task"])
    handles, labels = axes.flat[0].get_legend_handles_labels()
    # the legend under the axes; save() hangs the note below the figure
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=len(labels),
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    plots.save(fig, path, note=note)


def baselines(summaries: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Task display name → score of a constant answer
    (from the original model's evaluated golds)."""
    from lmanatomy.evaluation.tasks import task_spec

    out = {}
    for s in summaries:
        spec = task_spec(s["task"])
        key = f"{spec.main_metric}_baseline"
        if key in s:
            out[spec.display] = float(s[key])
    return out


def table1_notes(
    plans: Mapping[str, PruningPlan],
    summaries: Sequence[Mapping[str, Any]],
    infos: Mapping[str, Mapping[str, Any]],
    generation: Mapping[str, Any],
    differs: Sequence[str],
    paper: Mapping[str, Any],
) -> list[str]:
    """The table's notes: the setup as run, how it differs from the paper (``differs``:
    lmanatomy.deviations, from config/papers/harada2024.yaml) and what its sample counts resolve
    (``paper``: the paper's Table 1, paper_values.yaml)."""
    from lmanatomy.evaluation.tasks import task_spec

    first = next(iter(plans.values()))
    lines = [
        f"Layer ranges as configured ({first.numbering}) [0-based indices pruned]: "
        + ", ".join(dict.fromkeys(p.range_name for p in plans.values()))
        + "."
    ]
    arch = first.architecture
    if arch.is_gqa and all(p.heads == 0 for p in plans.values()):
        lines.append(
            f"GQA ({arch.num_heads} query / {arch.num_kv_heads} KV heads, mode {first.gqa}): at "
            "these shares the head count rounds to zero, so these lesions remove MLP neurons only "
            "(achieved shares: shares.md)."
        )
    else:
        lines.append(
            f"Each lesion removes whole heads (GQA mode {first.gqa}) and MLP neurons of lowest L1 "
            "importance; achieved shares: shares.md."
        )
    lines.append(f"L1 importance computed in {first.importance_dtype}.")
    for summary in summaries:
        spec, info = task_spec(summary["task"]), infos[summary["task"]]
        where = _data_text(info)
        text = (
            f"{spec.display}: first {summary['samples']} test samples, "
            f"{summary['num_few_shots']}-shot (few-shots: {info.get('fewshot_source', 'train')}), "
            f"max {summary['max_new_tokens']} new tokens; data: {where}; task definition: "
            f"{_origin(spec.origin, summary)}."
        )
        lines.append(text + "".join(f" {n}." for n in info.get("notes", [])))
    lines.append(resolution_note(summaries, paper))
    versions = sorted({str(s.get("llm_jp_eval", "v1.1")) for s in summaries})
    lines.append(
        f"Prompts: llm-jp-eval {', '.join(versions)}; "
        f"{'sampling' if generation.get('do_sample') else 'greedy'}; generation stops at the "
        "first blank line, after which the scorer discards everything."
    )
    lines += list(differs)
    lines.append(
        "Bold: a strict best lesion of its share per row at the printed precision (ties: none "
        "bold). Scores: exact match; JSTS: Pearson of the parsed number (-2 when unparsable). "
        "table1.csv holds each cell's n and 95% bootstrap interval (1,000 resamples of the "
        "evaluated samples)."
    )
    return lines


def paper_effects(paper: Mapping[str, Any]) -> str:
    """The paper's largest lesion effect per exact-match
    task (Table 1 as paper_values.yaml lists it)."""
    from lmanatomy.evaluation.tasks import TASKS

    exact = {spec.display for spec in TASKS.values() if spec.main_metric == "exact_match"}
    drops, parts = [], []
    for task, scores in paper["values"].items():
        if task not in exact:
            continue
        lowest = int(np.argmin(scores[1:])) + 1
        drops.append(scores[0] - scores[lowest])
        parts.append(f"{task} {scores[0]:.2f} → {scores[lowest]:.2f} at {paper['columns'][lowest]}")
    return (
        f"{min(drops) * 100:.0f}-{max(drops) * 100:.0f} points of exact match ({', '.join(parts)})"
    )


def resolution_note(summaries: Sequence[Mapping[str, Any]], paper: Mapping[str, Any]) -> str:
    """Why these sample counts: per exact-match task, the
    smallest lesion effect its n can tell from noise.

    At accuracy 0.5 (the widest case) a cell's 95% interval is ±1.96·sqrt(0.25/n) and the difference
    of two independent cells ±1.96·sqrt(0.5/n); the
    cells share their samples, so this is conservative.
    """
    from lmanatomy.evaluation.tasks import task_spec

    parts = [
        f"{task_spec(s['task']).display} n = {s['samples']}: "
        f"±{1.959964 * math.sqrt(0.25 / s['samples']):.2f} per cell, "
        f"±{1.959964 * math.sqrt(0.5 / s['samples']):.2f} between two cells"
        for s in summaries
        if task_spec(s["task"]).main_metric == "exact_match"
    ]
    return (
        "Resolution at accuracy 0.5 (95%): "
        + "; ".join(parts)
        + f". The paper's largest lesion effects are {paper_effects(paper)}: "
        "a task resolves an effect of that size only where its between-cell width is below it."
    )


def _origin(origin: str, summary: Mapping[str, Any]) -> str:
    """A JGLUE task is defined by the llm-jp-eval version
    that built it; the project's own tasks by the project."""
    return (
        f"llm-jp-eval {summary.get('llm_jp_eval', 'v1.1')}"
        if origin.startswith("llm-jp-eval")
        else origin
    )


def _data_text(info: Mapping[str, Any]) -> str:
    """The task's data as its prepared dataset's provenance
    states it (``info["data"]``, the origin fact)."""
    if "data" not in info:
        raise DataError(
            f"task '{info.get('task')}': its info record has no 'data' (built by an older "
            "lm-anatomy)"
        )
    data = info["data"]
    return data["text"] + (", not the real benchmark" if data["is_demo"] else "")


def figure_note(summaries: Sequence[Mapping[str, Any]], differs: str) -> str:
    """One line under the figure: the sample counts and how the run differs from the paper
    (``differs``: lmanatomy.deviations' one-line note, the data's origin included)."""
    from lmanatomy.evaluation.tasks import task_spec

    counts = ", ".join(f"{task_spec(s['task']).display} {s['samples']}" for s in summaries)
    return f"{differs} Samples per task: {counts} (one answer moves a score by 1/n)."
