"""Render a run report as one self-contained HTML file (plots embedded as base64 PNG).

The page reads on a phone (responsive CSS, tables scroll sideways) and prints cleanly
(``@media print``). Every user-supplied string is HTML-escaped; NaN shows as the text "NaN".
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from gradcheck.report._format import OUTCOME_STYLES, verdict
from gradcheck.report.model import DEFAULT_TITLE, as_run_data
from gradcheck.report.sections import (
    SECTIONS,
    Heading,
    Image,
    Items,
    Table,
    Text,
)

LABELS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "empty": "EMPTY"}

CSS = """
:root { --pass: #1e7e34; --warn: #b06000; --fail: #c5221f; --inconclusive: #b06000;
  --amber: #f29900; --muted: #5f6368;
  --line: #dadce0; --head: #f1f3f4; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #202124; margin: 0; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 .75rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .25rem;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; overflow-wrap: anywhere; }
h4, h5 { font-size: .95rem; margin: 1rem 0 .35rem; color: #3c4043; overflow-wrap: anywhere; }
.verdict { border-left: 8px solid; border-radius: 6px; padding: .75rem 1rem; margin: .5rem 0 1rem; }
.verdict strong { font-size: 1.15rem; }
.verdict ul { margin: .35rem 0 0; padding-left: 1.2rem; }
.verdict-pass { background: #e6f4ea; border-color: var(--pass); }
.verdict-warn { background: #fef3e0; border-color: #f29900; }
.verdict-fail { background: #fce8e6; border-color: var(--fail); }
.verdict-empty { background: var(--head); border-color: var(--muted); }
nav { font-size: .9rem; color: var(--muted); }
nav a { color: inherit; margin-right: .9rem; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .05rem .45rem;
  border-radius: 999px; color: #fff; vertical-align: middle; }
.badge-pass { background: var(--pass); } .badge-fail { background: var(--fail); }
.badge-inconclusive { background: var(--inconclusive); }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .4rem 0 .8rem;
  border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .55rem;
  border-bottom: 1px solid var(--line); }
th { background: var(--head); white-space: nowrap; font-weight: 600; }
td { min-width: 4.5rem; }
td.long { min-width: 16rem; }
tr:last-child td { border-bottom: 0; }
tr.row-error td:first-child, tr.row-fail td:first-child { border-left: 4px solid var(--fail); }
tr.row-warning td:first-child { border-left: 4px solid #f29900; }
tr.row-info td:first-child { border-left: 4px solid #1a73e8; }
tr.row-pass td:first-child { border-left: 4px solid var(--pass); }
tr.row-inconclusive td:first-child { border-left: 4px solid var(--amber); }
.sev { font-weight: 600; text-transform: uppercase; font-size: .75rem; }
.sev-error { color: var(--fail); } .sev-warning { color: var(--warn); }
.sev-info { color: #1a73e8; }
p.note { color: var(--muted); font-style: italic; }
p.fail { color: var(--fail); } p.pass { color: var(--pass); }
p.inconclusive { color: var(--inconclusive); }
figure { margin: 1rem 0 1.5rem; }
figcaption { font-weight: 600; margin-bottom: .35rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .8rem; }
@media (max-width: 640px) {
  body { font-size: 14px; } main { padding: .6rem .7rem 2rem; }
  h1 { font-size: 1.3rem; } td.long { min-width: 13rem; }
  table.stack thead { display: none; }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.stack td { display: block; border: 0; padding: .1rem .6rem; min-width: 0; }
  table.stack td::before { content: attr(data-label) ": "; font-weight: 600;
    color: var(--muted); font-size: .8rem; }
  table.stack tr td:first-child { border-left: 0; }
  table.stack td:empty { display: none; }
  table.stack tr.row-error, table.stack tr.row-fail { border-left: 4px solid var(--fail); }
  table.stack tr.row-warning { border-left: 4px solid #f29900; }
  table.stack tr.row-info { border-left: 4px solid #1a73e8; }
  table.stack tr.row-pass { border-left: 4px solid var(--pass); }
  table.stack tr.row-inconclusive { border-left: 4px solid var(--amber); }
}
@media print {
  body { font-size: 10pt; } main { max-width: none; padding: 0; } nav { display: none; }
  .table-wrap { overflow: visible; border: 0; } table { font-size: 8pt; }
  figure, tr, .verdict { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_LONG_HEADERS = {"What happened (evidence)", "Suggestion", "Hypothesis", "Verdict", "Value"}


def _e(text: Any) -> str:
    return escape(str(text), quote=True).replace("\n", "<br>")


def render_html(data: Any, *, plots: list | None = None) -> str:
    """Return the report as one self-contained HTML page.

    Parameters
    ----------
    data : dict or RunReport
        A ``RunReport.to_dict()`` (a bare check or monitor dict is wrapped).
    plots : list of Plot, optional
        Pre-drawn plots (:func:`gradcheck.report.plots.make_plots`); by default they are
        drawn here. Plots that could not be drawn show their note.

    Returns
    -------
    str

    Examples
    --------
    >>> page = render_html({"kind": "gradient_check", "title": "<b>", "passed": True},
    ...                    plots=[])
    >>> "&lt;b&gt;" in page and "<b>" not in page
    True
    """
    data = as_run_data(data)
    if plots is None:
        from gradcheck.report.plots import make_plots

        plots = make_plots(data)
    title = data.get("title") or DEFAULT_TITLE
    body = [f"<h1>{_e(title)}</h1>", _verdict_html(verdict(data)), _nav_html()]
    for section in SECTIONS:
        if section.blocks is None:
            body.append(_plots_html(plots))
        else:
            body.append(_section(section.anchor, section.blocks(data)))
    version = (data.get("environment") or {}).get("gradcheck") or ""
    body.append(
        f"<footer>Generated by gradcheck {_e(version)} · report schema "
        f"{_e(data.get('schema_version', ''))}</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _verdict_html(result: dict) -> str:
    level = result["level"]
    items = "".join(f"<li>{_e(d)}</li>" for d in result["details"])
    return (
        f'<section class="verdict verdict-{level}" role="status"><strong>'
        f"{LABELS[level]} — {_e(result['headline'])}</strong><ul>{items}</ul></section>"
    )


def _nav_html() -> str:
    links = "".join(f'<a href="#{s.anchor}">{s.label}</a>' for s in SECTIONS)
    return f"<nav>{links}</nav>"


def _section(anchor: str, blocks: list) -> str:
    return f'<section id="{anchor}">\n' + "\n".join(_block_html(b) for b in blocks) + "\n</section>"


def _block_html(block: Any) -> str:
    if isinstance(block, Heading):
        badge = ""
        if block.status in OUTCOME_STYLES.values():
            badge = f' <span class="badge badge-{block.status}">{block.status.upper()}</span>'
        return f"<h{block.level}>{_e(block.text)}{badge}</h{block.level}>"
    if isinstance(block, Image):
        return f'<p><a href="{_e(block.path)}">{_e(block.title)}</a></p>'
    if isinstance(block, Text):
        cls = f' class="{block.status}"' if block.status else ""
        return f"<p{cls}>{_e(block.text)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table_html(block)
    raise TypeError(f"unknown report block {type(block).__name__}")


def _table_html(table: Table) -> str:
    long_cols = {i for i, h in enumerate(table.headers) if h in _LONG_HEADERS}
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in table.headers)
    rows = []
    for r, row in enumerate(table.rows):
        status = table.statuses[r] if r < len(table.statuses) else ""
        cls = f' class="row-{status}"' if status else ""
        cells = "".join(
            _cell_html(c, table.headers[i], status if i == 0 else "", i in long_cols)
            for i, c in enumerate(row)
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    stack = ' class="stack"' if table.stack else ""
    return (
        f'<div class="table-wrap"><table{stack}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell_html(cell: Any, header: str, severity: str, long: bool) -> str:
    label = f' data-label="{_e(header)}"'
    if severity in ("error", "warning", "info"):
        return f'<td{label}><span class="sev sev-{severity}">{_e(cell)}</span></td>'
    return f'<td class="long"{label}>{_e(cell)}</td>' if long else f"<td{label}>{_e(cell)}</td>"


def _plots_html(plots: list) -> str:
    parts = ['<section id="plots">', "<h2>Plots</h2>"]
    if not plots:
        parts.append('<p class="note">No plots in this report.</p>')
    for plot in plots:
        if plot.png is None:
            parts.append(
                f'<p class="note"><strong>{_e(plot.title)}</strong>: '
                f"{_e(plot.note or 'not drawn.')}</p>"
            )
            continue
        data = base64.b64encode(plot.png).decode("ascii")
        parts.append(
            f'<figure id="plot-{_e(plot.name)}"><figcaption>{_e(plot.title)}'
            f'</figcaption><img alt="{_e(plot.title)}" '
            f'src="data:image/png;base64,{data}"></figure>'
        )
    return "\n".join(parts + ["</section>"])
