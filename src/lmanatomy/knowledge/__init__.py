"""The knowledge study (Ariyama et al. 2025): do similar words form their knowledge neurons alike?

Integrated gradients (Dai et al. 2022) attribute a word's answer probability to every FF neuron
at every checkpoint of a training run; a word's knowledge neurons are its top-k at the final
checkpoint, their attributions across checkpoints its formation trajectories; the earth mover's
distance between two words' trajectory clouds says how alike their formation was.

Attributes are imported on first use (PEP 562), so that validating a config does not import torch.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports
from lmanatomy.study import Study

_EXPORTS = {
    "Attributions": "attribution",
    "alpha_grid": "attribution",
    "batched_attributions": "attribution",
    "integrated_gradients": "attribution",
    "reference_attributions": "attribution",
    "target_token": "attribution",
    "AttributionSettings": "driver",
    "attribute_part": "driver",
    "plan_parts": "plan",
    "emd2": "emd",
    "assemble": "emd",
    "shard_pairs": "plan",
    "PAPER_GROUPS": "groups",
    "qa_corpus": "corpus",
    "word_prompts": "prompts",
    "table2": "stats",
    "word_comparisons": "stats",
    "intersections": "trajectories",
    "top_k_neurons": "trajectories",
    "word_trajectories": "trajectories",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
STUDY = Study(
    name="knowledge",
    paper="Ariyama et al. 2025: knowledge-neuron formation",
    citation="Ariyama et al. 2025",
    title="Knowledge neurons (Ariyama et al. 2025, Table 2)",
    schema="knowledge.schema.yaml",
    rules="workflow/rules/knowledge.smk",
    check="lmanatomy.knowledge.config:check",
    section="lmanatomy.report.summary:knowledge_section",
    paper_config="config/papers/ariyama2025.yaml",
    code_config="config/papers/ariyama2025-code.yaml",
)
