# The report of a run (`snakemake --report results/<run>/report.html`): every study's tables
# (rendered to HTML) and figures, filed by paper with a caption each, plus the run's summary
# (each table next to the paper's numbers) and provenance. Included after every study.

from lmanatomy.report import ReportView, models_by_study

REPORT_DIR = f"{RESULTS}/report"
REPORT_CAPTIONS = Path(workflow.basedir) / "workflow" / "report"
REPORT = ReportView(
    TARGETS,
    STUDIES,
    RESULTS,
    REPORT_CAPTIONS,
    list(REGISTRY),
    captions={s.name: s.captions_path for s in STUDY_LIST},
)
REPORT_MODELS = models_by_study(config, STUDIES)
# Models whose weights the run loads (census-only models are architecture facts, no weights).
REPORT_WEIGHTS = sorted(
    {m for s, names in REPORT_MODELS.items() if s != "census" for m in names}
    | set(CENSUS_VERIFIED)
)

TARGETS["report"] = [
    *REPORT.outputs(REPORT_DIR),
    f"{RESULTS}/summary.md",
    f"{RESULTS}/provenance.json",
]


wildcard_constraints:
    report_table=alternation(REPORT.keys("table")),
    report_figure=alternation(REPORT.keys("figure")),
    report_data=alternation(REPORT.keys("data")),


localrules:
    report_table,
    report_figure,
    report_data,
    report_summary,
    report_provenance,


rule report_table:
    input:
        md=f"{RESULTS}/{{report_table}}.md",
    output:
        html=report(
            f"{REPORT_DIR}/{{report_table}}.html",
            caption="../report/item.rst",
            category=REPORT.category,
            subcategory=REPORT.subcategory,
            labels=REPORT.labels,
        ),
    log:
        f"{LOGS}/report/{{report_table}}.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        title=REPORT.title,
        caption=REPORT.caption,
    script:
        "../../scripts/report/table_page.py"


rule report_figure:
    input:
        png=f"{RESULTS}/{{report_figure}}.png",
    output:
        png=report(
            f"{REPORT_DIR}/{{report_figure}}.png",
            caption="../report/item.rst",
            category=REPORT.category,
            subcategory=REPORT.subcategory,
            labels=REPORT.labels,
        ),
    log:
        f"{LOGS}/report/{{report_figure}}.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        caption=REPORT.caption,
    script:
        "../../scripts/report/link.py"


rule report_data:
    input:
        csv=f"{RESULTS}/{{report_data}}.csv",
    output:
        csv=report(
            f"{REPORT_DIR}/{{report_data}}.csv",
            caption="../report/item.rst",
            category=REPORT.category,
            subcategory=REPORT.subcategory,
            labels=REPORT.labels,
        ),
    log:
        f"{LOGS}/report/{{report_data}}.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        caption=REPORT.caption,
    script:
        "../../scripts/report/link.py"


rule report_summary:
    input:
        results=study_targets(),
        paper_values=REPORT_CAPTIONS / "paper_values.yaml",
        data=summary_data_facts,
    output:
        md=f"{RESULTS}/summary.md",
        html=report(
            f"{RESULTS}/summary.html",
            caption="../report/summary.rst",
            category="Run: summary and provenance",
            labels={"item": "Summary: this run next to the papers"},
        ),
    log:
        f"{LOGS}/report/summary.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        studies=STUDIES,
        models=REPORT_MODELS,
        displays={name: REGISTRY[name].display for name in REGISTRY},
    script:
        "../../scripts/report/summary.py"


rule report_provenance:
    input:
        results=study_targets(),
    output:
        json=f"{RESULTS}/provenance.json",
        md=f"{RESULTS}/provenance.md",
        html=report(
            f"{RESULTS}/provenance.html",
            caption="../report/provenance.rst",
            category="Run: summary and provenance",
            labels={"item": "Provenance: models, data, software, config"},
        ),
    log:
        f"{LOGS}/report/provenance.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        model_files={
            key: path
            for name in REPORT_WEIGHTS
            for key, path in model_provenance_files(name).items()
        },
        dataset_files=[f"{RESULTS}/data/{name}.json" for name in DATASETS],
        registry={
            name: REGISTRY.raw_entry(name)
            for names in REPORT_MODELS.values()
            for name in names
        },
    script:
        "../../scripts/report/provenance.py"
