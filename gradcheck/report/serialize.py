"""Save and load a run report as strict JSON (NaN/Inf written as "nan"/"inf"/"-inf").

``RunReport -> dumps -> loads`` gives back an equal report; :func:`loads` validates the
document against :data:`gradcheck.report.schema.SCHEMA` first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradcheck._jsonsafe import to_jsonable
from gradcheck.report._read import MAX_JSON_DEPTH, json_depth, read_json
from gradcheck.report.model import RunReport, as_report

__all__ = ["MAX_JSON_DEPTH", "dumps", "json_depth", "load_json", "loads", "read_json", "save_json"]


def dumps(report: Any, *, indent: int | None = None) -> str:
    """Return `report` (a RunReport, a report dict or a result object) as a JSON string.

    Examples
    --------
    >>> text = dumps({"kind": "gradient_check", "passed": True, "max_rel_error": "nan"})
    >>> loads(text).checks[0]["max_rel_error"]
    'nan'
    """
    data = to_jsonable(as_report(report).to_dict())
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.dumps(data, indent=indent, separators=separators, allow_nan=False)


def loads(text: str) -> RunReport:
    """Parse and validate a JSON report; raise ``ReportSchemaError`` listing the problems."""
    return RunReport.from_dict(json.loads(text))


def save_json(report: Any, path: str | Path, *, indent: int | None = None) -> Path:
    """Write `report` as JSON to `path`; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(report, indent=indent) + "\n", encoding="utf-8")
    return path


def load_json(path: str | Path) -> RunReport:
    """Read and validate a saved run; return the :class:`RunReport` (as `as_report` does)."""
    return as_report(Path(path))
