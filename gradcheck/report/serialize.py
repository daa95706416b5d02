"""Save and load a run report as strict JSON (NaN/Inf written as "nan"/"inf"/"-inf").

``RunReport -> dumps -> loads`` gives back an equal report; :func:`loads` validates the
document against :data:`gradcheck.report.schema.SCHEMA` first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradcheck._jsonsafe import to_jsonable
from gradcheck.errors import DataFileError
from gradcheck.report.model import RunReport, as_report


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


def read_json(path: str | Path) -> Any:
    """Return the decoded JSON document at `path` (not validated).

    Raises
    ------
    DataFileError
        When the file is missing or is not JSON.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"`{path}` does not exist; pass a run saved as .json.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(f"`{path}` is not a JSON file: {exc}.") from None
    except RecursionError:
        raise DataFileError(
            f"`{path}` nests its JSON too deeply to read (thousands of levels); a saved run "
            "nests a few levels: pass a file written by save_report(..., 'run.json')."
        ) from None
    except OSError as exc:  # a directory, no permission...
        raise DataFileError(
            f"`{path}` cannot be read ({exc.strerror or exc}); pass a run saved as .json."
        ) from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise DataFileError(
            f"`{path}` nests its JSON deeper than {MAX_JSON_DEPTH} levels; a saved run nests "
            "a few: pass a file written by save_report(..., 'run.json')."
        )
    return data


MAX_JSON_DEPTH = 64  # a saved run nests < 10 levels; renderers recurse into what they show


def json_depth(data: Any) -> int:
    """Return how deeply `data` nests lists and dicts, without recursing (any depth is safe).

    Examples
    --------
    >>> json_depth({"a": [1, [2]]})
    3
    """
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json(path: str | Path) -> RunReport:
    """Read and validate a saved run; return the :class:`RunReport`."""
    return RunReport.from_dict(read_json(path))
