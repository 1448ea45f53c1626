"""Tables, figures and the findings check of the paramact study (Wang, Dai & Sui 2024, Figs 1–3, 6).

Everything here reads the jobs' tables (activated counts per layer and threshold, LLMDcos per
layer and paired sample); nothing touches a model. Layers are 0-based throughout.

The paper's two findings, checked on whatever model and data a run used:

1. Within a domain, shallow layers are activated densely and deep layers sparsely: per dataset,
   the mean activated ratio over the first half of the layers exceeds that over the second half.
2. Across domains, LLMDcos is higher in shallow layers than in deep ones: per cross-domain pair,
   the mean LLMDcos over the first half exceeds that over the paper's deep range L/2 .. L−3.

Each is reported with its numbers (and, for 1, at every threshold of the γ sweep; for 2, the
share of paired samples for which it holds), so a reader sees how firmly it holds or fails, and
with the shallow − deep gap's 95% interval over the samples (1: a dataset's samples, from the
jobs' bootstrap, :mod:`lmanatomy.paramact.intervals`; 2: a pair's paired samples).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.io import read_tables
from lmanatomy.paramact.plan import canonical, deep_range
from lmanatomy.paramact.sts import Interval
from lmanatomy.plots import figure, save
from lmanatomy.stats import bootstrap_mean
from lmanatomy.tables import atomic_write_text, to_markdown, write_table


@dataclass(frozen=True)
class Context:
    """What a report needs besides the tables: the study section, the model and the notes.

    ``notes`` go under the tables (method facts and how the run differs from the paper, one
    sentence each); ``figure_note`` is the shorter footnote of the figures (the same facts, the
    differing keys named only: lmanatomy.deviations), empty to print the notes themselves.
    """

    section: Mapping[str, Any]
    model: str
    display: str
    num_layers: int
    gamma: float
    notes: tuple[str, ...]
    figure_note: str = ""

    @property
    def note(self) -> str:
        return self.figure_note or " ".join(self.notes)


def sts_method_notes(config: Mapping[str, Any]) -> list[str]:
    """How finding 3's pairs are drawn where the released
    ``llama_sts.py`` differs (no config key says it)."""
    datasets = config.get("datasets") or {}
    formats = [
        datasets[n]["format"] for n in config["paramact"]["sts"]["datasets"] if n in datasets
    ]
    return (
        ["STS-B pairs are a seeded sample (the released code takes the first 256 validation rows)."]
        if "stsb" in formats
        else []
    )


def validation_method_notes(config: Mapping[str, Any]) -> list[str]:
    """Validations 1-2: what this implementation does where ``wanda_test.py`` / ``prune_wanda_pro``
    differ or were not released (no config key says it)."""
    section = config["paramact"]["validation"]
    return [
        "Per-layer ratios: S_i = s - spread * (d_i - mean d) / max|d - mean d| from this run's "
        f"density profile ({section['density_dataset']}, spread {section['spread']:g}); the "
        "released code hard-codes its ratios (formula not released).",
        f"Calibration: {section['calibration_samples']} inputs per set (the code: 128 windows of "
        "the model's full context); BoolQ/MMLU scored zero-shot by the larger choice logit (the "
        "code: MMLU 5-shot); perplexity on held-out draws.",
    ]


def read_gamma(paths: Sequence[str | Path]) -> tuple[float, str]:
    """The γ the jobs used (one for all of a model's jobs) and a sentence on the share it gives."""
    table = read_tables(paths, ["gamma", "target_share", "share", "parameters"])
    if table.empty:
        raise DataError("the jobs wrote no gamma table")
    if not np.allclose(table["gamma"], table["gamma"].iloc[0], rtol=1e-12, atol=0.0):
        raise DataError(f"the jobs used different gammas: {sorted(table['gamma'].unique())}")
    gamma = float(table["gamma"].iloc[0])
    share = float((table["share"] * table["parameters"]).sum() / table["parameters"].sum())
    target = table["target_share"].iloc[0]
    how = (
        f"chosen from this run's means for a target share of {target:.4f}"
        if target == target
        else "as configured"
    )
    return (
        gamma,
        f"gamma = {gamma:.4g} ({how}): {share:.2%} of all (dataset, parameter) means exceed it.",
    )


def at_gamma(density: pd.DataFrame, gamma: float) -> pd.DataFrame:
    """The rows of the density table at threshold γ (matched to float precision)."""
    rows = density[np.isclose(density["threshold"], gamma, rtol=1e-9, atol=0.0)]
    if rows.empty:
        raise DataError(
            f"the density table has no rows at gamma = {gamma:g} (thresholds: "
            f"{sorted(density['threshold'].unique())})"
        )
    return rows.reset_index(drop=True)


def density_figure(
    frame: pd.DataFrame, datasets: Sequence[str], ctx: Context, title: str, path: str | Path
) -> None:
    """Activated parameters per layer, one line per dataset (the paper's Figs 1 and 2)."""
    fig, ax = figure(width=7.0, height=4.4)
    for name in datasets:
        rows = frame[frame["dataset"] == name].sort_values("layer")
        (line,) = ax.plot(
            rows["layer"],
            rows["activated"],
            marker="o",
            markersize=3,
            linewidth=1.4,
            label=f"{name} (n={rows['samples'].iloc[0]})",
        )
        if "ratio_ci95_low" in rows:  # 95% interval over the dataset's samples, as a band
            ax.fill_between(
                rows["layer"],
                rows["ratio_ci95_low"] * rows["parameters"],
                rows["ratio_ci95_high"] * rows["parameters"],
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    ax.set_xlabel("decoder layer (0 = first)")
    ax.set_ylabel(f"activated parameters (mean A > {ctx.gamma:g})")
    ax.set_title(
        f"{title} — {ctx.display}"
        + (
            "\n(bands: 95% interval, bootstrap over each dataset's samples)"
            if "ratio_ci95_low" in frame
            else ""
        ),
        fontsize=10,
    )
    sizes = frame["parameters"].unique()
    if len(sizes) == 1:  # equal layers: the same curve read as a share of the layer's weights
        size = float(sizes[0])
        secondary = ax.secondary_yaxis("right", functions=(lambda c: c / size, lambda r: r * size))
        secondary.set_ylabel(f"share of the layer's {int(size):,} weights")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.subplots_adjust(bottom=0.24)  # room for the deviation note under the axis label
    save(fig, path, note=ctx.note)


def density_tables(
    density: pd.DataFrame,
    datasets: Sequence[str],
    ctx: Context,
    title: str,
    csv: str | Path,
    md: str | Path,
) -> pd.DataFrame:
    rows = at_gamma(density, ctx.gamma)
    rows = rows[rows["dataset"].isin(datasets)].copy()
    rows["dataset"] = pd.Categorical(rows["dataset"], categories=list(datasets), ordered=True)
    rows = rows.sort_values(["dataset", "layer"]).reset_index(drop=True)
    rows["dataset"] = rows["dataset"].astype(str)
    rows = rows.rename(columns={"threshold": "gamma"})
    cells = rows.assign(cell=[count_cell(r) for r in rows.to_dict("records")])
    wide = cells.pivot(index="layer", columns="dataset", values="cell")[
        list(datasets)
    ].reset_index()
    write_table(rows, csv)
    interval = (
        [
            "[low, high]: 95% interval over the dataset's samples (exact count ± 1.96 bootstrap "
            "standard errors; 1,000 resamples of the samples, each recounted on "
            f"{int(rows['interval_weights'].max()):,} seeded weights per layer)."
        ]
        if "ratio_ci95_low" in rows
        else []
    )
    write_markdown(
        wide,
        md,
        f"{title} — {ctx.display}",
        [
            "Activated parameters per decoder layer: the dataset mean of A = |w·dD/dw| exceeds "
            f"gamma = {ctx.gamma:g}.",
            *interval,
            "Ratios (over the layer's scored weights) and their intervals are in the CSV.",
            *ctx.notes,
        ],
    )
    return rows


def count_cell(row: Mapping[str, Any]) -> str:
    """An activated count with its 95% interval, as counts: "1,234 [1,100, 1,400]"."""
    count = f"{int(row['activated']):,}"
    low, high = row.get("ratio_ci95_low", np.nan), row.get("ratio_ci95_high", np.nan)
    if low != low or high != high:
        return count
    size = row["parameters"]
    return f"{count} [{int(round(low * size)):,}, {int(round(high * size)):,}]"


def write_markdown(frame: pd.DataFrame, md: str | Path, title: str, notes: Sequence[str]) -> None:
    """A Markdown table with a title and notes (for tables whose CSV holds another layout)."""
    body = "\n".join(f"- {note}" for note in notes)
    atomic_write_text(md, f"## {title}\n\n{to_markdown(frame)}" + (f"\n{body}\n" if notes else ""))


def pair_label(x: str, y: str) -> str:
    return f"{x} – {y} ({'within' if x == y else 'cross'})"


def boxplot_figure(
    pairs: pd.DataFrame, boxplot_pairs: Sequence[tuple[str, str]], ctx: Context, path: str | Path
) -> None:
    """LLMDcos per layer as boxplots over paired samples, one panel per dataset pair (Fig 3)."""
    count = len(boxplot_pairs)
    cols = min(3, count)
    nrows = int(np.ceil(count / cols))
    fig, axes = figure(
        nrows, cols, width=4.6 * cols, height=3.2 * nrows + 0.6, squeeze=False, sharey=True
    )
    layers = np.arange(ctx.num_layers)
    for k, (x, y) in enumerate(boxplot_pairs):
        ax = axes[k // cols][k % cols]
        rows = pairs[(pairs["x"] == x) & (pairs["y"] == y)]
        data = [rows.loc[rows["layer"] == layer, "llmdcos"].to_numpy() for layer in layers]
        ax.boxplot(
            data,
            positions=layers,
            widths=0.6,
            showfliers=True,
            flierprops={"markersize": 2},
            medianprops={"color": "tab:red"},
            manage_ticks=False,
        )
        ax.set_title(f"{pair_label(x, y)}, n={rows['index'].nunique()}")
        ax.set_xticks(layers[:: max(1, ctx.num_layers // 8)])
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3, axis="y")
        if k % cols == 0:
            ax.set_ylabel("LLMDcos")
        if k // cols == nrows - 1:
            ax.set_xlabel("decoder layer (0 = first)")
    for k in range(count, nrows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.suptitle(f"Fig 3: LLMDcos per layer between paired inputs — {ctx.display}")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    save(fig, path, note=ctx.note)


def heatmap_matrix(pairs: pd.DataFrame, datasets: Sequence[str], ctx: Context) -> pd.DataFrame:
    """Mean LLMDcos over layers L/2 .. L−3 and over
    paired samples, for every pair of ``datasets``."""
    first, last = deep_range(ctx.num_layers)
    deep = pairs[(pairs["layer"] >= first) & (pairs["layer"] <= last)]
    matrix = pd.DataFrame(np.nan, index=list(datasets), columns=list(datasets))
    for a in datasets:
        for b in datasets:
            x, y = canonical(ctx.section, a, b)
            rows = deep[(deep["x"] == x) & (deep["y"] == y)]
            if rows.empty:
                raise DataError(f"no LLMDcos values for the pair {x}-{y}")
            # mean over samples of each sample's mean over the layer range (the paper's pooled mean)
            matrix.loc[a, b] = rows["llmdcos"].mean()
    return matrix


def heatmap_figure(matrix: pd.DataFrame, ctx: Context, path: str | Path) -> None:
    """The dataset × dataset mean-LLMDcos heatmap (Fig 6 of the AAAI version)."""
    first, last = deep_range(ctx.num_layers)
    k = len(matrix)
    fig, ax = figure(width=1.2 * k + 2.8, height=1.0 * k + 1.8)
    image = ax.imshow(matrix.to_numpy(), vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(k), matrix.columns, rotation=30, ha="right")
    ax.set_yticks(range(k), matrix.index)
    for i in range(k):
        for j in range(k):
            value = matrix.iat[i, j]
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="black" if value > 0.6 else "white",
                fontsize=9,
            )
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(f"mean LLMDcos, layers {first}–{last}")
    ax.set_title(f"Fig 6: mean LLMDcos (layers L/2..L−3) — {ctx.display}")
    fig.subplots_adjust(bottom=0.22)
    save(fig, path, note=ctx.note)


def _spearman(values: np.ndarray) -> float:
    """Spearman correlation of a per-layer curve with the layer index (no ties in the index)."""
    ranks = pd.Series(values).rank().to_numpy()
    index = np.arange(len(values), dtype=float)
    if np.std(ranks) == 0:
        return float("nan")
    return float(np.corrcoef(index, ranks)[0, 1])


def gap_interval(values: np.ndarray, interval: Interval = Interval()) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of
    per-sample values (NaN for fewer than 2 samples).

    Finding 2 is a claim about paired inputs; this interval says whether the shallow − deep gap
    of a pair's LLMDcos is wider than what resampling the pairs moves it by.
    """
    _, low, high = bootstrap_mean(
        values, interval.resamples, interval.seed, interval.level, min_n=2
    )
    return low, high


def findings(density: pd.DataFrame, pairs: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The two findings, one row per dataset (finding
    1, per threshold) or dataset pair (finding 2)."""
    half = ctx.num_layers // 2
    first, last = deep_range(ctx.num_layers)
    rows = []
    for (name, threshold), group in density.groupby(["dataset", "threshold"], sort=True):
        ratio = group.sort_values("layer")["ratio"].to_numpy()
        shallow, deep = ratio[:half].mean(), ratio[half:].mean()
        first_row = group.iloc[0]
        rows.append(
            {
                "finding": "1: shallow layers denser within a domain",
                "subject": name,
                "gamma": threshold,
                "shallow": shallow,
                "deep": deep,
                "spearman_layer": _spearman(ratio),
                "samples_holding": np.nan,
                "n": int(first_row["samples"]),
                "gap": shallow - deep,
                "gap_ci95_low": first_row.get("gap_ci95_low", np.nan),
                "gap_ci95_high": first_row.get("gap_ci95_high", np.nan),
                "holds": bool(shallow > deep),
            }
        )
    for (x, y), group in pairs.groupby(["x", "y"], sort=True):
        per_sample = group.pivot(index="index", columns="layer", values="llmdcos").to_numpy()
        shallow = per_sample[:, :half].mean(axis=1)
        deep = per_sample[:, first : last + 1].mean(axis=1)
        curve = per_sample.mean(axis=0)
        kind = "within" if x == y else "cross"
        rows.append(
            {
                "finding": "2: cross-domain LLMDcos higher in shallow layers"
                if kind == "cross"
                else "context: within-domain LLMDcos",
                "subject": f"{x}-{y}",
                "gamma": np.nan,
                "shallow": shallow.mean(),
                "deep": deep.mean(),
                "spearman_layer": _spearman(curve),
                "samples_holding": f"{int((shallow > deep).sum())}/{len(shallow)}",
                "n": len(shallow),
                "gap": float((shallow - deep).mean()),
                **dict(
                    zip(
                        ("gap_ci95_low", "gap_ci95_high"),
                        gap_interval(shallow - deep),
                        strict=False,
                    )
                ),
                "holds": bool(shallow.mean() > deep.mean()) if kind == "cross" else None,
            }
        )
    return pd.DataFrame(rows)


def summarise_findings(table: pd.DataFrame, ctx: Context, task: Sequence[str]) -> list[str]:
    """One sentence per finding: how many datasets / pairs it holds for."""
    one = table[
        table["finding"].str.startswith("1")
        & np.isclose(table["gamma"].astype(float), ctx.gamma, rtol=1e-9, atol=0.0)
    ]
    one_task = one[one["subject"].isin(task)]
    two = table[table["finding"].str.startswith("2")]
    lines = [
        f"Finding 1 (shallow layers denser within a domain) at gamma = {ctx.gamma:g}: holds for "
        f"{int(one_task['holds'].sum())} of {len(one_task)} task datasets and "
        f"{int(one['holds'].sum())} of {len(one)} datasets in all (shallow = layers "
        f"0..{ctx.num_layers // 2 - 1}, deep = layers "
        f"{ctx.num_layers // 2}..{ctx.num_layers - 1}); {interval_verdicts(one)} (n = "
        f"{', '.join(sorted({str(int(n)) for n in one['n']}))} samples per dataset)."
    ]
    if len(two):
        first, last = deep_range(ctx.num_layers)
        settled = int((two["gap_ci95_low"] > 0).sum())
        lines.append(
            "Finding 2 (cross-domain LLMDcos higher in shallow layers): holds for "
            f"{int(two['holds'].sum())} of {len(two)} cross-domain pairs (shallow = layers "
            f"0..{ctx.num_layers // 2 - 1}, deep = layers {first}..{last}); the 95% interval of "
            f"the gap excludes 0 for {settled} of {len(two)} (n = "
            f"{', '.join(sorted({str(int(n)) for n in two['n']}))} paired samples)."
        )
    return lines


def interval_verdicts(rows: pd.DataFrame) -> str:
    """How many rows' 95% gap interval lies above 0, below 0, or spans it (undecided)."""
    above, below = int((rows["gap_ci95_low"] > 0).sum()), int((rows["gap_ci95_high"] < 0).sum())
    missing = int(rows["gap_ci95_low"].isna().sum())
    text = (
        f"the 95% interval of the shallow − deep gap lies above 0 for {above}, below 0 for "
        f"{below} and spans 0 (undecided) for {len(rows) - above - below - missing} of {len(rows)}"
    )
    return text + (f" ({missing} without an interval)" if missing else "")


def by_d_line(density: pd.DataFrame, by_d: pd.DataFrame, gamma: float) -> str:
    """How the cross-dataset comparison of activated counts moves when A is divided by D."""
    raw = at_gamma(density, gamma).groupby("dataset", sort=False)["activated"].sum()
    norm = by_d.groupby("dataset", sort=False)["activated"].sum().reindex(raw.index)
    d_mean = by_d.groupby("dataset", sort=False)["D_mean"].first().reindex(raw.index)
    order = lambda counts: " > ".join(counts.sort_values(ascending=False).index)  # noqa: E731
    spread = lambda counts: counts.max() / counts.min() if counts.min() > 0 else float("inf")  # noqa: E731
    moves = ", ".join(f"{name} {raw[name]:,} → {norm[name]:,}" for name in raw.index)
    return (
        "A divided by its dataset's mean D (D: "
        f"{', '.join(f'{n} {d:.1f}' for n, d in d_mean.items())}; all "
        f"{by_d['D_all'].iloc[0]:.1f}): activated parameters over all layers {moves}; order "
        f"{order(raw)} → {order(norm)}; largest/smallest {spread(raw):.2f} → {spread(norm):.2f}."
    )


def write_report(
    density_paths: Sequence[str | Path],
    pair_paths: Sequence[str | Path],
    sample_paths: Sequence[str | Path],
    ctx: Context,
    out: Mapping[str, str | Path],
    by_d_paths: Sequence[str | Path] = (),
) -> list[str]:
    """Every table and figure of the study for one model; returns the findings' summary lines."""
    section = ctx.section
    density = read_tables(density_paths)
    pairs = read_tables(pair_paths)
    samples = (
        read_tables(sample_paths)
        .drop_duplicates(["dataset", "draw"])
        .sort_values(["dataset", "draw"])
    )
    if density.empty:
        raise DataError("the jobs wrote no activated-parameter counts")
    task, general = list(section["task_datasets"]), list(section.get("general_datasets", []))
    fig1 = density_tables(
        density,
        task,
        ctx,
        "Fig 1: activated parameters per layer, task datasets",
        out["fig1_csv"],
        out["fig1_md"],
    )
    density_figure(
        fig1, task, ctx, "Fig 1: activated parameters per layer (task datasets)", out["fig1_png"]
    )
    if general:
        fig2 = density_tables(
            density,
            general,
            ctx,
            "Fig 2: activated parameters per layer, general corpora",
            out["fig2_csv"],
            out["fig2_md"],
        )
        density_figure(
            fig2,
            general,
            ctx,
            "Fig 2: activated parameters per layer (general corpora)",
            out["fig2_png"],
        )
    sweep = (
        density.rename(columns={"threshold": "gamma"})
        .sort_values(["dataset", "gamma", "layer"])
        .reset_index(drop=True)
    )
    write_table(sweep, out["thresholds_csv"])
    write_table(samples.reset_index(drop=True), out["samples_csv"])
    boxplot_pairs = [canonical(section, x, y) for x, y in section.get("boxplot_pairs", [])]
    if boxplot_pairs:
        keep = (
            pd.Series(list(zip(pairs["x"], pairs["y"], strict=True))).isin(boxplot_pairs).to_numpy()
        )
        fig3 = pairs[keep].reset_index(drop=True)
        write_table(fig3, out["fig3_csv"])
        first, last = deep_range(ctx.num_layers)
        half = ctx.num_layers // 2
        summary = pd.DataFrame(
            [
                {
                    "pair": f"{x}-{y}",
                    "kind": "within" if x == y else "cross",
                    "samples": int(fig3[(fig3.x == x) & (fig3.y == y)]["index"].nunique()),
                    f"mean layers 0-{half - 1}": fig3[
                        (fig3.x == x) & (fig3.y == y) & (fig3.layer < half)
                    ]["llmdcos"].mean(),
                    f"mean layers {first}-{last}": fig3[
                        (fig3.x == x) & (fig3.y == y) & (fig3.layer >= first) & (fig3.layer <= last)
                    ]["llmdcos"].mean(),
                }
                for x, y in boxplot_pairs
            ]
        )
        write_markdown(
            summary,
            out["fig3_md"],
            f"Fig 3: LLMDcos per layer, dataset pairs — {ctx.display}",
            [
                "LLMDcos: per decoder layer, the cosine between two inputs' A vectors; sample i "
                "of X is paired with sample i of Y (within-domain: two different draws of X). "
                "Per-sample values are in the CSV.",
                *ctx.notes,
            ],
        )
        boxplot_figure(pairs, boxplot_pairs, ctx, out["fig3_png"])
    heat = list(section.get("heatmap_datasets", []))
    if heat:
        matrix = heatmap_matrix(pairs, heat, ctx)
        first, last = deep_range(ctx.num_layers)
        write_table(
            matrix.rename_axis("dataset").reset_index(),
            out["fig6_csv"],
            out["fig6_md"],
            title=f"Fig 6: mean LLMDcos over layers {first}-{last} (L/2..L-3) — {ctx.display}",
            notes=list(ctx.notes),
        )
        heatmap_figure(matrix, ctx, out["fig6_png"])
    table = findings(density, pairs, ctx)
    lines = summarise_findings(table, ctx, task)
    by_d = read_tables(by_d_paths)
    if not by_d.empty:
        lines.append(by_d_line(density, by_d, ctx.gamma))
    write_table(table, out["findings_csv"])
    shown = table.assign(
        gamma=[f"{g:g}" if g == g else "" for g in table["gamma"]],
        samples_holding=table["samples_holding"].fillna(""),
        holds=table["holds"].map(lambda v: "" if v is None else str(bool(v))),
    )
    write_markdown(
        shown,
        out["findings_md"],
        f"The paper's findings, checked — {ctx.display}",
        [
            *lines,
            "spearman_layer: rank correlation of the per-layer curve with depth (negative = falls "
            "with depth).",
            "samples_holding: paired samples whose own shallow mean exceeds their deep mean.",
            "gap: shallow − deep; for a dataset pair the mean over its n paired samples with a "
            "95% percentile-bootstrap interval over the pairs (gap_ci95_low/high; 1,000 "
            "resamples): the finding is settled for a pair only where the interval excludes 0. "
            "For a dataset (finding 1) the gap of the activated shares over its n samples, with a "
            "95% interval: the exact gap ± 1.96 bootstrap standard errors over the samples "
            "(docs/paramact.md); undecided where it spans 0.",
            *ctx.notes,
        ],
    )
    return lines
