"""The versioned JSON schema of a saved run, and a small dependency-free validator.

``SCHEMA`` is JSON Schema (draft 2020-12 style) as a Python dict; ``docs/report-schema.md``
explains every field in prose. :func:`validate` understands the subset of keywords used here
(``type``, ``enum``, ``const``, ``required``, ``properties``, ``additionalProperties``,
``items``, ``anyOf``, ``allOf``, ``if``/``then`` and local ``$ref``), so ``jsonschema`` is
not a dependency (the engine is in ``_validator.py``). It returns readable problems, each
naming where it is (``checks[0].passed``).
"""

from __future__ import annotations

from typing import Any

from gradcheck._vocab import CHECK_STATUSES
from gradcheck.errors import InvalidArgumentError
from gradcheck.report._validator import check

SCHEMA_VERSION = "1.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def _obj(required: list[str], props: dict, **extra: Any) -> dict:
    return {"type": "object", "required": required, "properties": props, **extra}


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


_STR = {"type": "string"}
_STR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_INT_NULL = {"type": ["integer", "null"]}
_BOOL = {"type": "boolean"}
_BOOL_NULL = {"type": ["boolean", "null"]}
_NUM = _ref("number")
_NUM_NULL = _ref("number_or_null")
_MAP = {"type": "object"}
# a check's outcome; optional, so that files saved before it existed still validate
_STATUS = {"type": "string", "enum": list(CHECK_STATUSES)}
# `passed` agrees with `status`: true exactly when the status is "passed"
_AGREES = {
    "allOf": [
        {
            "if": _obj(["status"], {"status": {"enum": [status]}}),
            "then": {"properties": {"passed": {"const": status == "passed"}}},
        }
        for status in CHECK_STATUSES
    ]
}
_INCONCLUSIVE = _obj(
    ["reason"],
    {"path": _STR_NULL, "reason": _STR, "advice": _STR_NULL, "entries": _INT_NULL},
)

_GRADIENT_CHECK = _obj(
    ["kind", "passed"],
    {
        "kind": {"const": "gradient_check"},
        "title": _STR_NULL,
        "passed": _BOOL,
        "max_rel_error": _NUM_NULL,
        "n_evaluations": _INT_NULL,
        "method": _STR_NULL,
        "mode": _STR_NULL,
        "dtype": _STR_NULL,
        "evaluated_dtype": _STR_NULL,
        "notes": _arr(_STR),
        "status": _STATUS,
        "inconclusive": _arr(_INCONCLUSIVE),
        "detection_floor": _NUM_NULL,
        "precision": _obj([], {"dtype": _STR_NULL, "reason": _STR_NULL}),
        "params": _arr(
            _obj(
                ["path", "passed"],
                {
                    "path": _STR,
                    "shape": _arr(_INT),
                    "passed": _BOOL,
                    "status": _STATUS,
                    "max_rel_error": _NUM_NULL,
                    "checked": _INT_NULL,
                    "failed": _INT_NULL,
                    "size": _INT_NULL,
                    "detection_floor": _NUM_NULL,
                },
                **_AGREES,
            )
        ),
        "failures": _arr(
            _obj(
                ["path", "index", "analytic", "numeric"],
                {
                    "path": _STR,
                    "index": _arr(_INT),
                    "analytic": _NUM,
                    "numeric": _NUM,
                    "error": _NUM_NULL,
                    "tolerance": _NUM_NULL,
                    "ratio": _NUM_NULL,
                    "output_path": _STR_NULL,
                    "output_index": {"type": ["array", "null"], "items": _INT},
                },
            )
        ),
        "n_failures": _INT_NULL,
        "kinks": _arr(_obj(["path", "index"], {"path": _STR, "index": _arr(_INT)})),
        "diagnoses": _arr(_ref("diagnosis")),
        "scatter": {
            "type": "object",
            "additionalProperties": _obj(
                ["analytic", "numeric"], {"analytic": _arr(_NUM), "numeric": _arr(_NUM)}
            ),
        },
    },
    **_AGREES,
)

_LAYER = _obj(
    ["index", "name", "passed"],
    {
        "index": _INT,
        "name": _STR,
        "kind": _STR_NULL,
        "passed": _BOOL,
        "status": _STATUS,
        "verdict": _STR_NULL,
        "max_rel_error": _NUM_NULL,
        "n_params": _INT_NULL,
        "input_gradient": {"anyOf": [_ref("gradient_check"), {"type": "null"}]},
        "params": {"anyOf": [_ref("gradient_check"), {"type": "null"}]},
        "batch_independent": _BOOL_NULL,
        "diagnoses": _arr(_ref("diagnosis")),
        "notes": _arr(_STR),
    },
    **_AGREES,
)

_LAYER_CHECK = _obj(
    ["kind", "passed", "layers"],
    {
        "kind": {"const": "layer_check"},
        "title": _STR_NULL,
        "passed": _BOOL,
        "status": _STATUS,
        "first_failure": _INT_NULL,
        "n_evaluations": _INT_NULL,
        "layers": _arr(_ref("layer")),
    },
    **_AGREES,
)

_FINDING = _obj(
    ["code", "severity", "message"],
    {
        "code": _STR,
        "name": _STR_NULL,
        "step": _INT_NULL,
        "last_step": _INT_NULL,
        "count": _INT_NULL,
        "severity": {"enum": ["info", "warning", "error"]},
        "message": _STR,
        "suggestion": _STR_NULL,
        "evidence": _MAP,
        "reported_step": _INT_NULL,
        "consequence_of": _STR_NULL,
    },
)

_HISTOGRAM = _obj(["edges", "counts"], {"edges": _arr(_NUM), "counts": _arr(_NUM)})
_HISTOGRAM_SET = _obj(
    [],
    {
        "step": _INT_NULL,
        "activations": {"type": "object", "additionalProperties": _HISTOGRAM},
        "gradients": {"type": "object", "additionalProperties": _HISTOGRAM},
    },
)

_SERIES = _obj(
    ["step"],
    {
        "step": _arr(_INT),
        "loss": _arr(_NUM_NULL),
        "metrics": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": _arr(_NUM_NULL)},
        },
        "histograms": _obj(
            [],
            {
                "first": {"anyOf": [_HISTOGRAM_SET, {"type": "null"}]},
                "last": {"anyOf": [_HISTOGRAM_SET, {"type": "null"}]},
            },
        ),
    },
)

_MONITOR = _obj(
    ["kind", "findings"],
    {
        "kind": {"const": "monitor"},
        "findings": _arr(_ref("finding")),
        "thresholds": _MAP,
        "series": {"anyOf": [_SERIES, {"type": "null"}]},
    },
)

_CHECK = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": ["gradient_check", "layer_check"]}},
    "allOf": [
        {"if": {"properties": {"kind": {"const": k}}}, "then": _ref(k)}
        for k in ("gradient_check", "layer_check")
    ],
}

SCHEMA_HELP = (
    "For the expected fields run `gradcheck report --schema` (the JSON Schema); the fields "
    "are explained in docs/report-schema.md of the gradcheck source."
)

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://gradcheck.invalid/schema/run-{SCHEMA_VERSION}.json",
    "title": "gradcheck run report",
    "description": "What a gradcheck run produced; fields explained in docs/report-schema.md.",
    "type": "object",
    "required": ["kind", "schema_version", "title", "checks"],
    "properties": {
        "kind": {"const": "run"},
        "schema_version": {"enum": [SCHEMA_VERSION]},
        "title": _STR,
        "config": _MAP,
        "environment": _obj(
            [],
            {
                **dict.fromkeys(("python", "numpy", "scipy", "matplotlib", "gradcheck"), _STR_NULL),
                "platform": _STR_NULL,
                "dtype": _STR_NULL,
                "seed": _INT_NULL,
            },
        ),
        "checks": _arr(_ref("check")),
        "monitor": {"anyOf": [_ref("monitor"), {"type": "null"}]},
        "notes": _arr(_STR),
    },
    "$defs": {
        "number": {"anyOf": [{"type": "number"}, {"enum": ["nan", "inf", "-inf"]}]},
        "number_or_null": {
            "anyOf": [{"type": "number"}, {"enum": ["nan", "inf", "-inf"]}, {"type": "null"}]
        },
        "diagnosis": _obj(
            ["kind", "message"],
            {
                "kind": _STR,
                "path": _STR_NULL,
                "confidence": _NUM_NULL,
                "message": _STR,
                "evidence": _MAP,
            },
        ),
        "check": _CHECK,
        "gradient_check": _GRADIENT_CHECK,
        "layer": _LAYER,
        "layer_check": _LAYER_CHECK,
        "finding": _FINDING,
        "monitor": _MONITOR,
    },
}


class ReportSchemaError(InvalidArgumentError):
    """A report dict does not follow the schema; ``.problems`` lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"the report does not follow the gradcheck report schema {SCHEMA_VERSION} "
            f"({len(self.problems)} problems):\n{shown}{tail}\n" + SCHEMA_HELP
        )


def validate(data: Any, schema: dict | None = None) -> list[str]:
    """Return the problems of `data` against the report schema (an empty list when valid).

    Parameters
    ----------
    data : object
        A decoded JSON document (a ``RunReport.to_dict()``).
    schema : dict, optional
        Another schema using the same keyword subset (default: :data:`SCHEMA`).

    Returns
    -------
    list of str
        One readable line per problem, naming where it is.

    Examples
    --------
    >>> validate({"kind": "run", "schema_version": "1.0", "title": "t", "checks": []})
    []
    >>> validate({"kind": "run", "schema_version": "1.0", "title": 3, "checks": []})
    ['`title`: expected string, got int 3']
    """
    root = SCHEMA if schema is None else schema
    problems = check(data, root, "", root)
    if not problems and schema is None:
        problems = _series_alignment(data.get("monitor"))
    return problems


def _series_alignment(monitor: Any) -> list[str]:
    """Return problems where a series is not aligned with ``monitor.series.step``."""
    series = (monitor or {}).get("series") or {}
    n = len(series.get("step") or [])
    columns = {"monitor.series.loss": series.get("loss")}
    for metric, by_name in (series.get("metrics") or {}).items():
        for name, values in by_name.items():
            columns[f"monitor.series.metrics.{metric}.{name}"] = values
    return [
        f"`{where}` has {len(values)} values but `monitor.series.step` has {n}"
        for where, values in columns.items()
        if values is not None and len(values) not in (0, n)
    ]
