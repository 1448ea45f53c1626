"""The language study (Kojima et al. 2024): language-specific neurons, found by AP and steered.

Flow: per-text mean outputs of every decoder-layer linear (activation store) → AP of every neuron
for every language (:func:`average_precision`) → top-k / bottom-k per language → Table 1 (overlap),
Fig 2 (layers), Fig 4 (activation distributions) → generation from the start token with those
neurons fixed → fastText language identification and BLEU → Table 2 and Fig 5.

Attributes are imported on first use, so that the config check does not import torch.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports
from lmanatomy.study import Study

_EXPORTS = {
    "average_precision": "ap",
    "average_precision_sets": "ap",
    "NeuronTable": "neurons",
    "rank_neurons": "ranking",
    "select": "selection",
    "overlap_table": "selection",
    "layer_histograms": "selection",
    "NeuronIntervention": "intervention",
    "sample_batch": "sampling",
    "LanguageIdentifier": "lid",
    "ReferenceBleu": "bleu",
    "plan": "steering",
    "generate": "steering",
    "score": "steering",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
STUDY = Study(
    name="language",
    paper="Kojima et al. 2024: language-specific neurons",
    citation="Kojima et al. 2024",
    title="Language-specific neurons (Kojima et al. 2024, Table 2)",
    schema="language.schema.yaml",
    rules="workflow/rules/language.smk",
    check="lmanatomy.language.config:check",
    section="lmanatomy.report.summary:language_section",
    paper_config="config/papers/kojima2024.yaml",
    after=("census",),
)
