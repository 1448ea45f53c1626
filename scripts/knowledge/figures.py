"""Figs 3–5: the EMD matrix (log scale), the same/other-group comparison grid, shared knowledge neurons."""

import pandas as pd

from lmanatomy.knowledge.figures import comparison_figure, distance_figure, intersection_figure
from lmanatomy.knowledge.report import figure_note
from lmanatomy.knowledge.stats import comparison_grid
from lmanatomy.knowledge.trajectories import intersections, read_trajectories
from lmanatomy.plots import save
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    p = snakemake.params
    groups, k, out = p.section["groups"], p.section["top_k"], snakemake.output
    note = figure_note(p.section, p.model, p.display, p.checkpoints)
    matrix = pd.read_csv(snakemake.input.matrix, index_col=0)
    cost = "squared Euclidean" if p.section["metric"] == "sqeuclidean" else "Euclidean"
    save(distance_figure(matrix, groups, f"Fig 3: EMD between knowledge-neuron trajectories (top-{k})", f"EMD ({cost} cost; diagonal shown as 1e-2)"), out.fig3, note)
    save(comparison_figure(comparison_grid(matrix, groups), groups, "Fig 4: other-group words farther than the own-group mean"), out.fig4, note)
    counts = intersections(read_trajectories(snakemake.input.trajectories), p.words)
    write_table(counts.rename_axis("word"), out.intersections, index=True)
    save(intersection_figure(counts, groups, f"Fig 5: shared knowledge neurons at {p.checkpoints[-1]}", k), out.fig5, note)
    log.info("figures written")
