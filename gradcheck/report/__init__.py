"""The reporting layer: one report model, rendered as HTML, Markdown or JSON.

Build a :class:`RunReport` from result objects (or their ``to_dict()`` dicts), then save it;
the suffix picks the format::

    from gradcheck.report import RunReport, save_report
    report = RunReport.from_objects(checks=[grad_report, layer_result], monitor=mon,
                                    config={"lr": 0.1, "seed": 0}, title="My run")
    save_report(report, "out/report.html")   # or .md (+ PNGs) or .json

`as_report` is the one way in: it takes a report, a result object, a dict or the path of a
saved ``.json``. Renderers are pure functions of ``RunReport.to_dict()``, so a saved
``.json`` re-renders with ``gradcheck report run.json -o run.html``. matplotlib (the
``plots`` extra) is needed only for the plots.
"""

from gradcheck.report.html import render_html
from gradcheck.report.markdown import render_markdown
from gradcheck.report.model import RunReport, as_report, environment
from gradcheck.report.save import save_check_report, save_monitor_report, save_report
from gradcheck.report.schema import SCHEMA, SCHEMA_VERSION, ReportSchemaError, validate
from gradcheck.report.serialize import dumps, load_json, loads, save_json

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "ReportSchemaError",
    "RunReport",
    "as_report",
    "dumps",
    "environment",
    "load_json",
    "loads",
    "render_html",
    "render_markdown",
    "save_check_report",
    "save_json",
    "save_monitor_report",
    "save_report",
    "validate",
]
