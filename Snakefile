# lm-anatomy: five studies of language-model internals, every table and figure a build target.
#
#   snakemake --cores all                                            the default run (config/config.yaml)
#   snakemake --cores all --configfile config/papers/kojima2024.yaml a paper's own setup (complete config)
#   snakemake --workflow-profile workflow/profiles/slurm --configfile config/papers/<paper>.yaml


from snakemake.utils import min_version

min_version("9.0")


# A config given with --configfile is complete on its own: the default is read only when none is
# given, so that the small default run's settings never leak into a paper's setup.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


# `snakemake --report results/<run>/report.html`: the run's tables and figures by paper.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/extract.smk"


# Every discovered study's rules (lmanatomy.study), each after the studies it draws on.
for _study in STUDY_LIST:

    include: _study.rules_path


include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        study_targets(),
        TARGETS["report"],
        rebuild_targets,
