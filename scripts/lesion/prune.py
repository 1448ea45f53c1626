"""Prune one (share, layer range) lesion straight from the base checkpoint; save the pruned layers + shape map."""

from pathlib import Path

from lmanatomy.lesion import base_reference, prune_checkpoint, read_plans, save_pruned, shape_map
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    plan = read_plans(snakemake.input.plans)[snakemake.wildcards.variant]
    base = Path(snakemake.input.base).parent  # the model folder of its provenance.json
    tensors, records = prune_checkpoint(base, plan)
    for record in records:
        log.info("layer %d: removed heads %s and %d neurons", record.layer, list(record.removed_heads), len(record.removed_neurons))
    save_pruned(Path(snakemake.output.shape_map).parent, tensors, shape_map(plan, records, base_reference(base)))
