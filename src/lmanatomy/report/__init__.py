"""The report of a run: every paper table and figure with its caption, the run's provenance and a
summary that puts each reproduced table next to the paper's numbers.

Light on purpose (no torch): ``snakemake -n`` builds the report's view of the targets at parse
time, and the report rules run on the analysis environment.
"""

from lmanatomy.report.files import link_file, render_table_page
from lmanatomy.report.html import markdown_page
from lmanatomy.report.items import ReportItem, ReportView, papers
from lmanatomy.report.summary import load_paper_values, models_by_study, summarize

__all__ = [
    "link_file",
    "render_table_page",
    "ReportItem",
    "ReportView",
    "load_paper_values",
    "markdown_page",
    "models_by_study",
    "papers",
    "summarize",
]
