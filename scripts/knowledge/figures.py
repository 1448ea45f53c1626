"""Figs 3–5: the EMD matrix (paper's log scale and a rank scale), the same/other-group comparison
grid, shared knowledge neurons."""

import pandas as pd

from lmanatomy.deviations import deviation_note, planned_origins
from lmanatomy.knowledge import STUDY
from lmanatomy.knowledge.emd import METRIC_NAMES
from lmanatomy.knowledge.figures import comparison_figure, distance_figure, intersection_figure
from lmanatomy.knowledge.report import accuracy_line, figure_note, is_held_out
from lmanatomy.knowledge.stats import comparison_grid
from lmanatomy.knowledge.trajectories import intersections, pile_up_note, read_trajectories
from lmanatomy.plots import save
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    p = snakemake.params
    groups, k, out = p.section["groups"], p.section["top_k"], snakemake.output
    note = figure_note(
        p.section,
        p.display,
        p.checkpoints,
        deviation_note(STUDY, snakemake.config, planned_origins(STUDY, snakemake.config)),
    )
    matrix = pd.read_csv(snakemake.input.matrix, index_col=0)
    caption = " ".join(
        [
            note,
            accuracy_line(pd.read_csv(snakemake.input.answers), is_held_out(p.corpus)),
            pile_up_note(pd.read_csv(snakemake.input.layers)),
        ]
    )
    fig3 = distance_figure(
        matrix,
        groups,
        f"Fig 3: EMD between knowledge-neuron trajectories (top-{k})",
        f"EMD, {METRIC_NAMES[p.section['metric']]} (diagonal shown as 1e-2)",
    )
    save(fig3, out.fig3, caption)
    save(
        comparison_figure(
            comparison_grid(matrix, groups),
            groups,
            "Fig 4: other-group words farther than the own-group mean",
        ),
        out.fig4,
        note,
    )
    counts = intersections(read_trajectories(snakemake.input.trajectories), p.words)
    write_table(counts.rename_axis("word"), out.intersections, index=True)
    save(
        intersection_figure(
            counts, groups, f"Fig 5: shared knowledge neurons at {p.checkpoints[-1]}", k
        ),
        out.fig5,
        note,
    )
    log.info("figures written")
