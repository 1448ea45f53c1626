"""The lesion plans of a run (heads and neurons per layer
for every share × layer range), from architecture alone."""

from lmanatomy.lesion import plan_variants, save_plans
from lmanatomy.lesion.report import reading_shares, shares_table
from lmanatomy.models import parse_entry
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake) as log:
    entry = parse_entry(
        snakemake.params.model, snakemake.params.entry
    )  # its own registry entry only
    params = snakemake.params
    plans = plan_variants(
        entry,
        params.shares,
        params.layer_ranges,
        params.numbering,
        params.gqa,
        params.importance_dtype,
    )
    for name, plan in plans.items():
        log.info(
            "%s: %d heads, %d neurons per layer, %.4f%% achieved",
            name,
            plan.heads,
            plan.neurons,
            100 * plan.achieved_share,
        )
    save_plans(plans, snakemake.output.plans)
    write_table(
        shares_table(plans, readings=reading_shares(entry, plans)),
        snakemake.output.csv,
        snakemake.output.md,
        title=(
            f"Lesions of {entry.display}: requested vs achieved share of the whole model's "
            "parameters"
        ),
        notes=[
            "A lesion removes, from each layer of its range, the same number of attention heads "
            f"and MLP neurons. 'range' is the config's ({params.numbering}), 'indices' the "
            "0-based layers pruned; the achieved_if_* columns give the achieved share had the "
            "same numbers been read under each other numbering (the paper's ranges are 1-based; "
            "LLM-Pruner's start/end arguments are the other reading of its overlapping ranges).",
            f"GQA mode: {params.gqa}; importance dtype: {params.importance_dtype} (LLM-Pruner on "
            "a GPU: float16).",
            "Per-layer ratio = parameters to remove per layer / parameters of the layer's pruning "
            "groups; counts rounded as LLM-Pruner does (MLP: C - int(C(1-r)); heads: the same on "
            "query channels, floor-divided by head_dim; GQA prune_kv_groups: the same on key "
            "channels, whole KV groups with their query heads; keep_kv_heads: query heads floored "
            "to a multiple of the KV heads, KV heads kept).",
            "The evaluation checks that the parameters each lesion removes equal these counts.",
        ],
    )
