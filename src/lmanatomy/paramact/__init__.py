"""The ``paramact`` study: activation patterns of
parameters (Wang, Dai & Sui 2024, arXiv:2405.17799).

Per input s, D(s) is the largest last-position logit and A(s, w) = |w · ∂D/∂w| for every 2-D
weight inside the decoder layers. Per dataset, a parameter is activated when the mean of A over
the dataset's samples exceeds γ; per pair of inputs and per layer, LLMDcos is the cosine between
their A vectors.

Public API: :func:`activation_scores` (one text → per-layer scores) and :func:`llmdcos` (two
inputs' scores → one cosine per layer). Attributes load on first use, so that planning the
workflow (``snakemake -n``) never imports torch.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports
from lmanatomy.study import Study

_EXPORTS = {
    "ParameterActivation": "scores",
    "Scores": "scores",
    "activation_scores": "scores",
    "decoder_weights": "scores",
    "llmdcos": "similarity",
    "deep_mean": "similarity",
    "deep_range": "plan",
    "RunningMean": "density",
    "Draws": "prompts",
    "prompt_text": "prompts",
    "run_job": "run",
    "Pair": "plan",
    "Job": "plan",
    "jobs_for": "plan",
    "schedule": "plan",
    "job_memory": "memory",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
STUDY = Study(
    name="paramact",
    paper="Wang et al. 2024: activation patterns of parameters",
    citation="Wang et al. 2024",
    title="Parameter activation (Wang et al. 2024)",
    schema="paramact.schema.yaml",
    rules="workflow/rules/paramact.smk",
    check="lmanatomy.paramact.config:check",
    section="lmanatomy.report.summary:paramact_section",
    paper_config="config/papers/wang2024.yaml",
)
