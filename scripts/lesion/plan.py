"""The lesion plans of a run (heads and neurons per layer for every share × layer range), from architecture alone."""

from lmanatomy.lesion import plan_variants, save_plans
from lmanatomy.lesion.report import shares_table
from lmanatomy.models import parse_entry
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake) as log:
    entry = parse_entry(snakemake.params.model, snakemake.params.entry)  # its own registry entry only
    plans = plan_variants(entry, snakemake.params.shares, snakemake.params.layer_ranges)
    for name, plan in plans.items():
        log.info("%s: %d heads, %d neurons per layer, %.4f%% achieved", name, plan.heads, plan.neurons, 100 * plan.achieved_share)
    save_plans(plans, snakemake.output.plans)
    write_table(
        shares_table(plans),
        snakemake.output.csv,
        snakemake.output.md,
        title=f"Lesions of {entry.display}: requested vs achieved share of the whole model's parameters",
        notes=[
            "A lesion removes, from each layer of its (inclusive) range, the same number of attention heads and MLP neurons.",
            "Per-layer ratio = parameters to remove per layer / parameters of the layer's pruning groups; counts rounded as "
            "LLM-Pruner does (MLP: C - int(C(1-r)); heads: the same on query channels, floor-divided by head_dim; GQA: "
            "floored to a multiple of the KV heads, KV heads kept).",
            "The prune jobs check that the parameters they remove equal these counts.",
        ],
    )
