"""Markdown → a standalone HTML page, for the tables in the Snakemake report.

Snakemake's report shows images and HTML inline but offers CSV and Markdown only as downloads;
a table a reader cannot see without downloading is not a result. The page is rendered from the
same Markdown the study wrote (title, table, notes), so the report shows exactly that table.
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px;
       color: #222; margin: 1.2em; line-height: 1.45; }
h1, h2, h3 { font-weight: 600; margin: 0.6em 0 0.4em; }
h2 { font-size: 1.25em; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f2f4f7; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafbfc; }
code { background: #f2f4f7; padding: 0 3px; border-radius: 3px; }
pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; font-size: 12px; }
"""


def markdown_page(markdown: str, title: str) -> str:
    """A complete HTML document for ``markdown`` (GitHub-style tables enabled, raw HTML escaped)."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = renderer.render(markdown)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )
