"""Redundancy between hidden layers by linear SVR (Baba & Kano 2025).

How predictable is layer n+1 from layer n? For each layer pair and each target dimension, a
linear ε-SVR is fitted on the EOS-token hidden states of training sentences; R² on held-out
sentences measures it. ``fit_linear_svr`` / ``BatchedLinearSVR`` solve all target dimensions of a
pair at once (the problem of ``sklearn.svm.SVR(kernel="linear")``).

Attributes are imported on first use (PEP 562), so that checking a config — what every
``snakemake -n`` does — does not import torch.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports
from lmanatomy.study import Study

_EXPORTS = {
    "BatchedLinearSVR": "svr",
    "fit_linear_svr": "svr",
    "r2_scores": "svr",
    "SVRSettings": "fitting",
    "fit_pair": "fitting",
    "write_rows": "fitting",
    "pair_summary": "analysis",
    "top_pairs": "analysis",
    "frequent_dims": "analysis",
    "choose_sentences": "pairs",
    "layer_pairs": "pairs",
    "pair_arrays": "pairs",
    "check": "config",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
STUDY = Study(
    name="redundancy",
    paper="Baba & Kano 2025: redundancy between layers",
    citation="Baba & Kano 2025",
    title="Layer redundancy (Baba & Kano 2025)",
    schema="redundancy.schema.yaml",
    rules="workflow/rules/redundancy.smk",
    check="lmanatomy.redundancy.config:check",
    section="lmanatomy.report.summary:redundancy_section",
    paper_config="config/papers/baba2025.yaml",
)
