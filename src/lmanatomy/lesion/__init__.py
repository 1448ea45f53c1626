"""The lesion study (Harada et al. 2024): prune a few consecutive layers, see which tasks suffer.

``naming`` reads a config's layer ranges under an explicit numbering; ``plan`` says how many
heads and MLP neurons per layer remove a given share of the whole model from a layer range;
``prune_model`` / ``prune_checkpoint`` remove the lowest-L1 ones; ``store`` saves a pruned model as
its pruned layers + a shape map and reloads it; ``sweep`` evaluates the original and every lesion
with one model load (each lesion pruned in memory); ``report`` builds Table 1, its figure and the
requested-vs-achieved shares. Evaluation uses the shared ``lmanatomy.evaluation`` harness.
Attributes are imported on first use (no torch for config checks).
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports
from lmanatomy.study import Study

_EXPORTS = {
    "ORIGINAL": "naming",
    "Architecture": "planning",
    "PruningPlan": "planning",
    "architecture_of": "planning",
    "llm_pruner_args": "planning",
    "percent_label": "naming",
    "plan": "planning",
    "plan_for": "planning",
    "plan_variants": "planning",
    "variant_id": "naming",
    "variant_ids": "naming",
    "save_plans": "planning",
    "read_plans": "planning",
    "LayerPruning": "prune",
    "head_importance": "prune",
    "kv_group_importance": "prune",
    "layer_indices": "naming",
    "sample_prompt": "prompt",
    "neuron_importance": "prune",
    "prune_layer_tensors": "prune",
    "prune_model": "prune",
    "apply_pruned": "store",
    "evaluate_lesions": "sweep",
    "install_pruned": "store",
    "load_pruned": "store",
    "prune_checkpoint": "store",
    "read_shape_map": "store",
    "save_pruned": "store",
    "shape_map": "store",
    "base_reference": "store",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
STUDY = Study(
    name="lesion",
    paper="Harada et al. 2024: synaptic-pruning lesions",
    citation="Harada et al. 2024",
    title="Lesions (Harada et al. 2024, Table 1)",
    schema="lesion.schema.yaml",
    rules="workflow/rules/lesion.smk",
    check="lmanatomy.lesion.config:check",
    section="lmanatomy.report.summary:lesion_section",
    paper_config="config/papers/harada2024.yaml",
)
