"""Tables and figures of the paper's validation experiments: 3 (STS, finding 3), 1 and 2 (pruning).

Reads only the jobs' tables; see :mod:`lmanatomy.paramact.sts` and
:mod:`lmanatomy.paramact.validation` for what they hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmanatomy.paramact.plan import deep_range
from lmanatomy.paramact.report import Context, write_markdown
from lmanatomy.paramact.sts import Interval, sts_statistics
from lmanatomy.plots import figure, save
from lmanatomy.tables import write_table


def sts_report(
    tables: Sequence[str | Path], ctx: Context, out: Mapping[str, str | Path], resamples: int
) -> list[str]:
    """Finding 3: Spearman(gold, LLMDcos) per layer
    with 95% bootstrap intervals, table and figure."""
    table = pd.concat([pd.read_csv(p) for p in tables], ignore_index=True)
    stats = sts_statistics(table, ctx.num_layers, Interval(resamples=resamples))
    first, last = deep_range(ctx.num_layers)
    half = ctx.num_layers // 2
    lines = []
    for name, group in stats.groupby("dataset", sort=False):
        per_layer = group[~group["layers"].str.startswith("sum")]
        rho = per_layer["spearman"].to_numpy()
        summed = group[group["layers"].str.startswith("sum")].iloc[0]
        lines.append(
            f"Finding 3 on {name} ({int(summed['pairs'])} pairs): Spearman(gold, LLMDcos) mean "
            f"over layers 0-{half - 1} {np.nanmean(rho[:half]):.3f}, over {first}-{last} "
            f"{np.nanmean(rho[first : last + 1]):.3f}; of the sum over {first}-{last} "
            f"{summed['spearman']:.3f} [{summed['low']:.3f}, {summed['high']:.3f}]."
        )
    write_table(stats, out["sts_csv"])
    shown = stats.assign(
        interval=[
            f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(stats["low"], stats["high"], strict=True)
        ]
    )
    write_markdown(
        shown[["dataset", "layers", "pairs", "spearman", "interval"]],
        out["sts_md"],
        f"Finding 3: Spearman between gold similarity and LLMDcos — {ctx.display}",
        [
            *lines,
            "Intervals: 95% percentile bootstrap over pairs.",
            f"'sum {first}-{last}': the released code's statistic (LLMDcos summed over a deep "
            "layer range) on the paper's range L/2..L-3.",
            *ctx.notes,
        ],
    )
    fig, ax = figure(width=7.0, height=4.4)
    for name, group in stats.groupby("dataset", sort=False):
        per_layer = group[~group["layers"].str.startswith("sum")]
        layers = per_layer["layers"].astype(int).to_numpy()
        (line,) = ax.plot(
            layers,
            per_layer["spearman"],
            marker="o",
            markersize=3,
            label=f"{name} (n={int(per_layer['pairs'].iloc[0])})",
        )
        ax.fill_between(
            layers, per_layer["low"], per_layer["high"], color=line.get_color(), alpha=0.18
        )
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.axvspan(first - 0.5, last + 0.5, color="0.85", alpha=0.5, zorder=0, label="layers L/2..L-3")
    ax.set_xlabel("decoder layer (0 = first)")
    ax.set_ylabel("Spearman(gold similarity, LLMDcos)")
    ax.set_ylim(-1, 1)
    ax.set_title(f"Finding 3: LLMDcos vs gold similarity per layer — {ctx.display}")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.subplots_adjust(bottom=0.24)
    save(fig, path=out["sts_png"], note=ctx.note + " Bands: 95% bootstrap intervals over pairs.")
    return lines


def _cell(row: pd.Series) -> str:
    fmt = "{:.3f}" if row["metric"] == "accuracy" else "{:.2f}"
    return f"{fmt.format(row['value'])} [{fmt.format(row['low'])}, {fmt.format(row['high'])}]"


def validation_report(
    runs_path: str | Path,
    ratios_path: str | Path,
    ctx: Context,
    sparsity: float,
    out: Mapping[str, str | Path],
) -> list[str]:
    """Experiment 1 (table: dense / uniform / density-derived
    ratios) and 2 (calibration × evaluation)."""
    runs = pd.read_csv(runs_path, keep_default_na=False)
    ratios = pd.read_csv(ratios_path)
    runs["column"] = (
        runs["evaluation"]
        + " ("
        + runs["metric"].map({"accuracy": "acc ↑", "perplexity": "ppl ↓"})
        + ")"
    )
    one = runs[runs["experiment"].isin(["dense", "1"])].copy()
    one["model"] = np.where(
        one["experiment"] == "dense",
        "dense",
        one["allocation"] + " ratios, calibration " + one["calibration"],
    )
    table1 = (
        one.assign(cell=one.apply(_cell, axis=1))
        .pivot(index="model", columns="column", values="cell")
        .reset_index()
    )
    write_table(one.drop(columns=["column", "model"]), out["v1_csv"])
    write_markdown(
        table1,
        out["v1_md"],
        f"Validation 1: per-layer prune ratios from the density profile vs uniform — {ctx.display}",
        [
            wins_line(one),
            f"Global sparsity {sparsity:g} of the decoder weights in both pruned models; "
            "criterion and ratios in the CSVs (per-layer ratios: validation_ratios.csv).",
            "Cells: value [95% interval].",
            *ctx.notes,
        ],
    )
    write_table(ratios, out["ratios_csv"])
    two = runs[runs["experiment"] == "2"]
    matrix = (
        two.assign(cell=two.apply(_cell, axis=1))
        .pivot(index="calibration", columns="column", values="cell")
        .reset_index()
    )
    write_table(two.drop(columns=["column"]), out["v2_csv"])
    lines = _related_lines(two, runs[runs["experiment"] == "dense"])
    write_markdown(
        matrix,
        out["v2_md"],
        f"Validation 2: calibration set × evaluation set (uniform ratios) — {ctx.display}",
        [*lines, "Cells: value [95% interval].", *ctx.notes],
    )
    _matrix_figure(two, runs[runs["experiment"] == "dense"], ctx, out["v2_png"])
    return [wins_line(one), *lines]


def wins_line(one: pd.DataFrame) -> str:
    """On how many evaluation sets the density-derived
    ratios beat the uniform ones (point estimates)."""
    better = one[one["experiment"] == "1"].pivot(
        index="column", columns="allocation", values="value"
    )
    sign = np.where(better.index.str.contains("ppl"), -1, 1)
    wins = int(((better["density"] - better["uniform"]) * sign > 0).sum())
    return (
        f"Validation 1: density-derived ratios beat uniform ones on {wins} of {len(better)} "
        "evaluation sets (point estimates; see the intervals)."
    )


def _related_lines(two: pd.DataFrame, dense: pd.DataFrame) -> list[str]:
    """Per evaluation set that is also a calibration set: is its own calibration the best one?"""
    lines = []
    for evaluation, group in two.groupby("evaluation", sort=False):
        if evaluation not in set(group["calibration"]):
            continue
        best = group.loc[
            group["value"].idxmax()
            if group["metric"].iloc[0] == "accuracy"
            else group["value"].idxmin(),
            "calibration",
        ]
        lines.append(
            f"{evaluation}: best calibration set is {best} "
            f"({'its own' if best == evaluation else 'not its own'})."
        )
    return lines


def _matrix_figure(two: pd.DataFrame, dense: pd.DataFrame, ctx: Context, path: str | Path) -> None:
    """One panel per evaluation set: a bar per calibration
    set (own set highlighted), the dense model as a line."""
    evaluations = list(dict.fromkeys(two["evaluation"]))
    fig, axes = figure(
        1, len(evaluations), width=3.4 * len(evaluations) + 0.6, height=3.8, squeeze=False
    )
    for ax, evaluation in zip(axes[0], evaluations, strict=True):
        rows = two[two["evaluation"] == evaluation]
        x = np.arange(len(rows))
        colours = ["tab:red" if c == evaluation else "tab:blue" for c in rows["calibration"]]
        ax.bar(x, rows["value"], color=colours, alpha=0.8)
        ax.errorbar(
            x,
            rows["value"],
            yerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
            fmt="none",
            color="k",
            capsize=3,
        )
        reference = dense[dense["evaluation"] == evaluation]
        if len(reference):
            ax.axhline(
                reference["value"].iloc[0], color="0.3", linestyle="--", linewidth=1, label="dense"
            )
            ax.legend(loc="best", fontsize=8)
        ax.set_xticks(x, rows["calibration"], rotation=30, ha="right")
        ax.set_title(f"eval: {evaluation}")
        ax.set_ylabel(
            rows["metric"].iloc[0]
            + (
                " (higher is better)"
                if rows["metric"].iloc[0] == "accuracy"
                else " (lower is better)"
            )
        )
        ax.set_xlabel("calibration set")
    fig.suptitle(
        f"Validation 2: pruned with one calibration set, scored on each set — {ctx.display}"
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save(
        fig,
        path,
        note=ctx.note + " Red: calibrated on the evaluation set itself. Bars: 95% intervals.",
    )
