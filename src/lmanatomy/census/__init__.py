"""The neuron census (Kojima et al. 2024, Table 3) as a study: its descriptor.

The counting itself lives in :mod:`lmanatomy.models.census` (it reads architecture facts, as the
registry does); this package only says what the study is, so that it is discovered like the others.
"""

from __future__ import annotations

from lmanatomy.study import Study

#: What this study is, for the workflow, the config check and the report (lmanatomy.study).
#: No config check of its own: its model names are checked with the rest of the config
#: (lmanatomy.config.check_config), since the census's section is read whenever it is present.
STUDY = Study(
    name="census",
    paper="Kojima et al. 2024: language-specific neurons",
    citation="Kojima et al. 2024",
    title="Neuron census (Kojima et al. 2024, Table 3)",
    schema="census.schema.yaml",
    rules="workflow/rules/census.smk",
    section="lmanatomy.report.summary:census_section",
    paper_config="config/papers/kojima2024.yaml",
)
