"""Figs 1-3 (mean / max / std R² per layer pair), the
layer x dim R² heatmap and Fig 4 (redundancy paths)."""

import pandas as pd

from lmanatomy.deviations import note_of
from lmanatomy.plots import save
from lmanatomy.redundancy import STUDY, figures
from lmanatomy.redundancy.analysis import read_rows
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    out, display = snakemake.output, snakemake.params.display
    rows = read_rows(snakemake.input.pairs)
    summary = pd.read_csv(snakemake.input.summary)
    top = pd.read_csv(snakemake.input.top, dtype={"inputs": str, "weights": str})
    frequent = pd.read_csv(snakemake.input.frequent)
    note = note_of(STUDY, snakemake.config, [snakemake.input.dataset])
    for number, label in enumerate(("mean", "max", "std"), start=1):
        fig = figures.pair_stat_heatmap(
            summary,
            f"{label}_r2",
            f"Fig. {number}: {label} of test R² over target dims, per layer pair — {display}",
        )
        save(fig, out[f"fig{number}_{label}_r2"], note=note)
        fig = figures.pair_stat_heatmap(
            summary,
            f"{label}_gain",
            f"Fig. {number} companion: {label} of SVR R² − own-dim OLS R² — {display}",
        )
        save(fig, out[f"fig{number}_{label}_gain"], note=note)
    save(
        figures.layer_dim_heatmap(rows, f"Test R² per layer pair and target dim — {display}"),
        out.r2_layer_dim,
        note=note,
    )
    fig = figures.paths_figure(
        top,
        frequent,
        int(rows["dim"].max()) + 1,
        sorted(rows["source_layer"].unique()),
        f"Fig. 4: redundancy paths of the top {len(top)} (pair, dim) by test R² — {display}",
    )
    save(fig, out.fig4_paths, note=note)
    log.info(
        "figures for %d pairs x %d dims", rows["source_layer"].nunique(), int(rows["dim"].max()) + 1
    )
