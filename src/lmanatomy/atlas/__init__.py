"""The layer atlas: every study's finding on one model, side by side on a shared layer axis.

Each paper looks at one side of a model's layers. The atlas turns each study's output into a
profile (one number per decoder layer, with the interval the study supports), draws them on one
axis and asks which rise and fall together (Spearman over shared layers, bootstrap over layers).

Attributes are imported on first use (PEP 562), so checking a config does not import plotting.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports
from lmanatomy.study import Study

_EXPORTS = {
    "bootstrap_spearman": "compare",
    "rank_correlations": "compare",
    "paragraph": "compare",
    "spearman": "compare",
    "lesion_profile": "profiles",
    "redundancy_profile": "profiles",
    "language_profile": "profiles",
    "knowledge_profile": "profiles",
    "paramact_profile": "profiles",
    "atlas_figure": "report",
    "atlas_tables": "report",
    "inputs": "plan",
    "check": "config",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
STUDY = Study(
    name="atlas",
    paper="Across studies: the layer atlas",
    citation="(this project: no paper)",
    title="The layer atlas",
    schema="atlas.schema.yaml",
    rules="workflow/rules/atlas.smk",
    check="lmanatomy.atlas.config:check",
    after=("knowledge", "language", "lesion", "paramact", "redundancy"),
)
