"""Table 1 of Harada et al. (2024), its figure, and the requested-vs-achieved shares.

Table 1: one row per task (its main metric: exact match, or Pearson for JSTS), the original
model's score, then one column per (share, layer range) lesion, share-major; in the Markdown
rendering the best lesion of each share is bold per row (ties all bold).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lmanatomy.lesion.naming import ORIGINAL, percent_label
from lmanatomy.lesion.planning import PruningPlan

METRIC_LABELS = {"exact_match": "exact match", "pearson": "Pearson", "spearman": "Spearman"}


def column_label(plan: PruningPlan) -> str:
    first, last = plan.layers
    return f"{percent_label(plan.share)} {first}-{last}"


def _summaries(scores: Mapping[str, Sequence[Mapping[str, Any]]], variant: str) -> dict[str, Mapping[str, Any]]:
    if variant not in scores:
        raise KeyError(f"no evaluation results for '{variant}'")
    return {s["task"]: s for s in scores[variant]}


def _grid(
    scores: Mapping[str, Sequence[Mapping[str, Any]]],
    plans: Mapping[str, PruningPlan],
    tasks: Sequence[str],
    value: str | None,
) -> pd.DataFrame:
    """Rows = tasks, columns = task/metric/original/lesions; ``value`` None = each task's main metric."""
    from lmanatomy.evaluation.tasks import task_spec

    variants = [ORIGINAL, *plans]
    per_variant = {v: _summaries(scores, v) for v in variants}
    rows = []
    for task in tasks:
        spec = task_spec(task)
        key = value or spec.main_metric
        row: dict[str, Any] = {"task": spec.display, "metric": METRIC_LABELS.get(key, key.replace("_", " "))}
        for variant in variants:
            label = ORIGINAL if variant == ORIGINAL else column_label(plans[variant])
            row[label] = float(per_variant[variant][task][key])
        rows.append(row)
    return pd.DataFrame(rows)


def best_per_share(frame: pd.DataFrame, plans: Mapping[str, PruningPlan]) -> pd.DataFrame:
    """True where a lesion column holds the highest score of its share in that row (ties all True)."""
    bold = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    shares = sorted({p.share for p in plans.values()})
    for share in shares:
        columns = [column_label(p) for p in plans.values() if p.share == share]
        block = frame[columns].to_numpy(dtype=float)
        best = np.nanmax(block, axis=1, keepdims=True)
        bold[columns] = np.isclose(block, best, rtol=0, atol=1e-12)
    return bold


def table1(
    scores: Mapping[str, Sequence[Mapping[str, Any]]], plans: Mapping[str, PruningPlan], tasks: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Table 1, its bold mask). ``scores``: variant → per-task summaries, ``original`` included."""
    frame = _grid(scores, plans, tasks, None)
    return frame, best_per_share(frame, plans)


def fewshot_table(
    scores: Mapping[str, Sequence[Mapping[str, Any]]], plans: Mapping[str, PruningPlan], tasks: Sequence[str]
) -> pd.DataFrame:
    """Share of predictions that equal one of the few-shot answers, same layout as Table 1."""
    frame = _grid(scores, plans, tasks, "fewshot_answer_share")
    frame["metric"] = "= a few-shot answer"
    return frame


def shares_table(plans: Mapping[str, PruningPlan], measured: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Requested vs achieved share of the whole model's parameters, per lesion.

    ``measured``: variant → parameters actually removed (counted from the pruned tensors); when
    given it must equal the plan's count.
    """
    rows = []
    for variant, plan in plans.items():
        removed = plan.removed_parameters
        if measured is not None and measured[variant] != removed:
            raise ValueError(f"lesion '{variant}': {measured[variant]:,} parameters removed, the plan says {removed:,}")
        first, last = plan.layers
        rows.append(
            {
                "lesion": variant,
                "layers": f"{first}-{last}",
                "requested_percent": plan.share * 100,
                "achieved_percent": plan.achieved_share * 100,
                "per_layer_ratio": plan.ratio,
                "heads_per_layer": plan.heads,
                "kv_heads_per_layer": plan.kv_heads,
                "neurons_per_layer": plan.neurons,
                "parameters_removed": removed,
                "parameters_total": plan.architecture.total_parameters,
            }
        )
    return pd.DataFrame(rows)


def figure(
    frame: pd.DataFrame, plans: Mapping[str, PruningPlan], title: str, note: str | None, path: str
) -> None:
    """Score vs pruned layer range, one panel per task, one line per share, the original dashed."""
    from lmanatomy import plots

    shares = sorted({p.share for p in plans.values()})
    ranges = list(dict.fromkeys(f"{p.layers[0]}-{p.layers[1]}" for p in plans.values()))
    n = len(frame)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plots.figure(nrows, ncols, width=4.2 * ncols, height=3.2 * nrows + 0.6, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    x = np.arange(len(ranges))
    for ax, (_, row) in zip(axes.flat, frame.iterrows()):
        for share in shares:
            by_range = {f"{p.layers[0]}-{p.layers[1]}": column_label(p) for p in plans.values() if p.share == share}
            ax.plot(x, [row[by_range[r]] if r in by_range else np.nan for r in ranges], marker="o",
                    label=f"{percent_label(share)} pruned")
        ax.axhline(row[ORIGINAL], color="0.3", linestyle="--", linewidth=1, label="original")
        ax.set_xticks(x, ranges)
        ax.set_xlabel("pruned layers (inclusive)")
        ax.set_ylabel(row["metric"])
        ax.set_title(row["task"])
    axes.flat[0].legend(loc="best")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07 if note else 0, 1, 1))  # room for the note under the axes
    plots.save(fig, path, note=note)


PAPER_MODEL = "elyza-llama-2-7b-instruct"
PAPER_RANGES = [[4, 8], [10, 14], [14, 18], [20, 24], [24, 28]]


def notes(
    model: str,
    display: str,
    plans: Mapping[str, PruningPlan],
    summaries: Sequence[Mapping[str, Any]],
    infos: Mapping[str, Mapping[str, Any]],
    data_roots: Mapping[str, str | None],
    generation: Mapping[str, Any],
) -> list[str]:
    """The table's notes: the setup, and every way it deviates from the paper's."""
    from lmanatomy.evaluation.tasks import task_spec

    lines = []
    if model != PAPER_MODEL:
        lines.append(f"DEVIATION: model {display}; the paper lesions ELYZA-japanese-Llama-2-7b-instruct (32 layers).")
    ranges = sorted({tuple(p.layers) for p in plans.values()})
    if [list(r) for r in ranges] != PAPER_RANGES:
        lines.append(
            "Layer ranges (inclusive, 0-based): " + ", ".join(f"{a}-{b}" for a, b in ranges)
            + " (paper, 32 layers: 4-8, 10-14, 14-18, 20-24, 24-28)."
        )
    arch = next(iter(plans.values())).architecture
    if arch.is_gqa and all(p.heads == 0 for p in plans.values()):
        lines.append(
            f"GQA ({arch.num_heads} query / {arch.num_kv_heads} KV heads): query heads are removed in equal numbers per KV group, "
            "which at these shares rounds to zero heads, so these lesions remove MLP neurons only (achieved shares: shares.md)."
        )
    else:
        lines.append("Each lesion removes whole heads and MLP neurons of lowest L1 importance; achieved shares: shares.md.")
    for summary in summaries:
        spec, info = task_spec(summary["task"]), infos[summary["task"]]
        root = data_roots.get(summary["task"])
        where = "the project's demo data (data/demo), not the real benchmark" if root and "data/demo" in str(root) else (root or "downloaded upstream files")
        text = (
            f"{spec.display}: first {summary['samples']} test samples, {summary['num_few_shots']}-shot "
            f"(few-shots: {info.get('fewshot_source', 'train')}), max {summary['max_new_tokens']} new tokens; "
            f"data: {where}; task definition: {spec.origin}."
        )
        lines.append(text + "".join(f" {n}." for n in info.get("notes", [])))
    lines.append(
        "Paper: llm-jp-eval v1.1 defaults (4-shot, first 100 or 50 samples), max 30 new tokens, greedy. "
        f"Here: {'sampling' if generation.get('do_sample') else 'greedy'}; generation stops at the first blank line, "
        "after which the scorer discards everything."
    )
    lines.append("Bold: the best lesion of each share per row. Scores: exact match; JSTS: Pearson of the parsed number (-2 when unparsable).")
    return lines


def figure_note(model: str, display: str, summaries: Sequence[Mapping[str, Any]], data_roots: Mapping[str, str | None]) -> str:
    """One line under the figure: model, data and sample counts, when they are not the paper's."""
    from lmanatomy.evaluation.tasks import task_spec

    parts = []
    if model != PAPER_MODEL:
        parts.append(f"Model {display}, not the paper's ELYZA-japanese-Llama-2-7b-instruct.")
    if any(root and "data/demo" in str(root) for root in data_roots.values()):
        parts.append("Demo data written for this project, not the real benchmarks.")
    counts = ", ".join(f"{task_spec(s['task']).display} {s['samples']}" for s in summaries)
    parts.append(f"Samples per task: {counts} (one answer moves a score by 1/n).")
    return " ".join(parts)
