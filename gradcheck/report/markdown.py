"""Render a run report as Markdown (for a pull request or a CI summary).

Pure function of the report dict; plots are links to PNG files written beside the Markdown
by :func:`gradcheck.report.save_report`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from gradcheck.report._format import OUTCOME_STYLES, verdict
from gradcheck.report.model import DEFAULT_TITLE, as_run_data
from gradcheck.report.plots import plot_jobs
from gradcheck.report.sections import (
    SECTIONS,
    Heading,
    Image,
    Items,
    Table,
    Text,
)

NOT_WRITTEN = 'not drawn here: save with `save_report(report, "report.md")` to write the PNGs.'
BADGES = {"pass": "🟢 PASS", "warn": "🟠 WARN", "fail": "🔴 FAIL", "empty": "⚪ EMPTY"}


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # what could open an HTML tag or comment
_ENTITY = re.compile(r"&(?=#?\w+;)")  # what could read as an HTML entity


def md_escape(text: Any) -> str:
    r"""Escape user text for a Markdown table cell or paragraph (HTML tags, entities, pipes).

    Only what Markdown would misread is escaped, so text stays readable in the raw file:
    ``a -> b`` and ``x < 0`` are left alone, ``<script>`` is not a tag.

    Examples
    --------
    >>> md_escape("W1 -> dW1 | x < 0 <b>")
    'W1 -> dW1 \\| x < 0 &lt;b>'
    """
    text = _ENTITY.sub("&amp;", str(text))
    text = _TAG_START.sub("&lt;", text)
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def render_markdown(
    data: Any,
    *,
    plot_files: dict[str, str] | None = None,
    plot_notes: dict[str, str] | None = None,
) -> str:
    """Return the report as Markdown: verdict, findings, gradient checks, plots, environment.

    Parameters
    ----------
    data : dict or RunReport
        A ``RunReport.to_dict()`` (a bare check or monitor dict is wrapped).
    plot_files : dict, optional
        Plot name -> relative path of its PNG (names from
        :func:`gradcheck.report.plots.plot_jobs`). Plots without a file are listed with a
        note saying why.
    plot_notes : dict, optional
        Plot name -> note, for plots that were not drawn (e.g. matplotlib missing).

    Returns
    -------
    str

    Examples
    --------
    >>> md = render_markdown({"kind": "gradient_check", "title": "W", "passed": False})
    >>> md.splitlines()[0], "🔴 FAIL" in md
    ('# W', True)
    """
    data = as_run_data(data)
    lines = [f"# {md_escape(data.get('title') or DEFAULT_TITLE)}", ""]
    lines += _verdict_lines(verdict(data))
    blocks = []
    for section in SECTIONS:
        if section.blocks is None:
            blocks += _plot_blocks(data, plot_files or {}, plot_notes or {})
        else:
            blocks += section.blocks(data)
    for block in blocks:
        lines += _render_block(block)
    return "\n".join(lines).rstrip() + "\n"


def _verdict_lines(result: dict) -> list[str]:
    details = " ".join(md_escape(d) for d in result["details"])
    return [f"> **{BADGES[result['level']]} — {md_escape(result['headline'])}.** {details}", ""]


def _plot_blocks(data: dict, plot_files: dict, plot_notes: dict) -> list:
    blocks: list = [Heading(2, "Plots")]
    for name, title, note, _ in plot_jobs(data):
        if name in plot_files:
            blocks.append(Image(title, plot_files[name]))
            continue
        note = plot_notes.get(name) or note or NOT_WRITTEN
        blocks.append(Text(f"**{md_escape(title)}**: {md_escape(note)}", "raw"))
    return blocks


def _render_block(block: Any) -> list[str]:
    if isinstance(block, Image):
        title = md_escape(block.title)
        return [f"**{title}**", "", f"![{title}]({quote(block.path)})", ""]
    if isinstance(block, Heading):
        badge = f" — {block.status.upper()}" if block.status in OUTCOME_STYLES.values() else ""
        return ["#" * block.level + " " + md_escape(block.text) + badge, ""]
    if isinstance(block, Text):
        text = block.text if block.status == "raw" else md_escape(block.text)
        return [f"_{text}_" if block.status == "note" else text, ""]
    if isinstance(block, Items):
        return [f"- {md_escape(item)}" for item in block.items] + [""]
    if isinstance(block, Table):
        return _render_table(block)
    raise TypeError(f"unknown report block {type(block).__name__}")


def _render_table(table: Table) -> list[str]:
    lines = ["| " + " | ".join(md_escape(h) for h in table.headers) + " |"]
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(md_escape(cell) for cell in row) + " |")
    return lines + [""]
