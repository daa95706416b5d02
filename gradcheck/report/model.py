"""The one report model: what a run produced, as plain JSON-safe data.

A :class:`RunReport` holds gradient-check results (function-style and layer-by-layer), the
training monitor's findings and series, the run's configuration and its environment. Every
renderer (Markdown, HTML, JSON) takes ``RunReport.to_dict()`` — never the result objects —
so a saved ``.json`` can be re-rendered later (``gradcheck report RUN.json -o out.html``).
"""

from __future__ import annotations

import copy
import math
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from gradcheck._jsonsafe import parse_float, to_jsonable
from gradcheck._thin import positions, run_edges, thin_indices
from gradcheck.errors import InvalidTypeError
from gradcheck.report._format import fmt_num
from gradcheck.report._read import read_json
from gradcheck.report.schema import SCHEMA_VERSION, ReportSchemaError, validate

CHECK_KINDS = ("gradient_check", "layer_check")
DEFAULT_TITLE = "gradcheck report"
MAX_SERIES_POINTS = 1000
SERIES_DIGITS = 6


@dataclass
class RunReport:
    """What a run produced, ready to render or save.

    Parameters
    ----------
    title : str
        The report's heading.
    config : dict
        The run's configuration (model sizes, learning rate, ...), JSON-safe.
    environment : dict
        Versions, platform, dtype and seed; see :func:`environment`.
    checks : list of dict
        ``GradientReport.to_dict()`` / ``LayerCheckResult.to_dict()`` outputs.
    monitor : dict or None
        ``Monitor.to_dict()`` output.
    notes : list of str
        Free text shown at the end of the report.

    Examples
    --------
    >>> check = {"kind": "gradient_check", "passed": True, "max_rel_error": 1e-9}
    >>> report = RunReport.from_objects(checks=[check], title="demo")
    >>> RunReport.from_dict(report.to_dict()) == report
    True
    """

    title: str = DEFAULT_TITLE
    config: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    monitor: dict | None = None
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the report as one JSON-safe dict (the schema's ``run`` object)."""
        return {
            "kind": "run",
            "schema_version": SCHEMA_VERSION,
            "title": self.title,
            "config": to_jsonable(self.config),
            "environment": to_jsonable(self.environment),
            "checks": to_jsonable(self.checks),
            "monitor": to_jsonable(self.monitor),
            "notes": [str(note) for note in self.notes],
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunReport:
        """Build a report from a ``run`` dict (or a bare check/monitor dict), validating it.

        Raises
        ------
        ReportSchemaError
            When `data` does not follow the schema; ``.problems`` lists every problem.
        """
        data = as_run_dict(data)
        problems = validate(data)
        if problems:
            raise ReportSchemaError(problems)
        data = copy.deepcopy(data)
        return cls(
            title=data.get("title") or DEFAULT_TITLE,
            config=data.get("config") or {},
            environment=data.get("environment") or {},
            checks=data.get("checks") or [],
            monitor=data.get("monitor"),
            notes=data.get("notes") or [],
        )

    @classmethod
    def from_objects(
        cls,
        *,
        checks: Any = (),
        monitor: Any = None,
        config: dict | None = None,
        title: str = DEFAULT_TITLE,
        notes: Any = (),
        dtype: str | None = None,
        seed: int | None = None,
        max_points: int = MAX_SERIES_POINTS,
    ) -> RunReport:
        """Build a report from result objects (anything with ``to_dict()``) or their dicts.

        Parameters
        ----------
        checks : sequence
            ``GradientReport`` / ``LayerCheckResult`` objects or their ``to_dict()`` dicts.
        monitor : Monitor or dict or None
            The training monitor (or its ``to_dict()``).
        config : dict, optional
            The run's configuration; its ``dtype`` and ``seed`` keys fill the environment.
        title : str
            The report's heading.
        notes : sequence of str
            Free text shown at the end.
        dtype, seed : optional
            Recorded in the environment (default: from `config`).
        max_points : int
            Monitor series longer than this are thinned to about this many steps (every
            non-finite value and the last step are kept) and rounded to 6 significant digits,
            which keeps the JSON small; the plots draw from the thinned series.
            Non-finite values keep their first and last step of every run.

        Returns
        -------
        RunReport

        Examples
        --------
        >>> report = RunReport.from_objects(checks=[{"kind": "gradient_check", "passed": False}])
        >>> report.checks[0]["passed"]
        False
        """
        config = to_jsonable(dict(config or {}))
        check_dicts = [_plain(check, "checks") for check in checks]
        monitor_dict = None if monitor is None else _plain(monitor, "monitor")
        notes = [str(note) for note in notes]
        if monitor_dict is not None:
            monitor_dict, note = thin_monitor(monitor_dict, max_points)
            notes += [note] if note else []
        env = environment(
            dtype=dtype if dtype is not None else config.get("dtype"),
            seed=seed if seed is not None else config.get("seed"),
        )
        return cls(title, config, env, check_dicts, monitor_dict, notes)


def environment(*, dtype: Any = None, seed: int | None = None) -> dict:
    """Return the versions of python, numpy, scipy, matplotlib and gradcheck, platform, dtype, seed.

    Examples
    --------
    >>> sorted(environment(dtype="float64", seed=0))[:3]
    ['dtype', 'gradcheck', 'matplotlib']
    """
    return {
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "matplotlib": _version("matplotlib"),
        "gradcheck": _version("gradcheck"),
        "platform": f"{platform.system()} {platform.machine()} ({sys.platform})",
        "dtype": None if dtype is None else str(getattr(dtype, "name", dtype)),
        "seed": None if seed is None else int(seed),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _plain(obj: Any, where: str) -> dict:
    """Return a JSON-safe dict from a result object (via ``to_dict()``) or a dict."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if not isinstance(obj, dict):
        raise InvalidTypeError(
            f"`{where}` entries must be result objects with `to_dict()` or their dicts; "
            f"got {type(obj).__name__}."
        )
    return to_jsonable(obj)


def as_run_dict(data: Any) -> Any:
    """Wrap a bare ``gradient_check`` / ``layer_check`` / ``monitor`` dict into a ``run`` dict.

    Anything else is returned unchanged (the validator then says what is wrong with it).
    """
    if not isinstance(data, dict):
        return data
    kind = data.get("kind")
    if kind in CHECK_KINDS:
        return RunReport(title=data.get("title") or DEFAULT_TITLE, checks=[data]).to_dict()
    if kind == "monitor":
        return RunReport(monitor=data).to_dict()
    if kind == "history":
        return history_run(data).to_dict()
    return data


def _epoch_line(record: dict) -> str:
    words = [f"{key.replace('_', ' ')} {fmt_num(value, 4)}" for key, value in record.items()]
    return ", ".join(words)


def history_run(history: dict) -> RunReport:
    """Return a report of a training history (``TrainingHistory.to_dict()``, training.json).

    Examples
    --------
    >>> run = history_run({"kind": "history", "task": "classification", "epochs": [
    ...     {"epoch": 1, "train_loss": 0.5}]})
    >>> run.notes[-1]
    'epoch 1, train loss 0.5'
    """
    config = {key: history.get(key) for key in ("task", "dataset", "steps", "seconds")}
    epochs = [r for r in history.get("epochs") or [] if isinstance(r, dict)]
    notes = [
        "A training history: no stability monitor ran, so there are no findings or plots "
        "(train with `gradcheck train --monitor --report run.html` for those).",
        *(_epoch_line(record) for record in epochs),
    ]
    return RunReport(title="training history", config=config, notes=notes)


def as_report(obj: Any) -> RunReport:
    """Return the :class:`RunReport` of a live object or a saved file: the one way in.

    Parameters
    ----------
    obj : RunReport, dict, result object(s), str or Path
        A report; a ``run`` dict or a bare check / monitor / history dict (validated); a
        ``GradientReport``, ``LayerCheckResult`` or ``Monitor`` (or a list of them); or the
        path of a run saved as ``.json`` (read and validated).

    Raises
    ------
    ReportSchemaError
        When a dict or a file does not follow the schema.

    Examples
    --------
    >>> as_report({"kind": "gradient_check", "passed": True}).checks[0]["passed"]
    True
    """
    if isinstance(obj, RunReport):
        return obj
    if isinstance(obj, str | os.PathLike):
        return RunReport.from_dict(read_json(obj))
    if isinstance(obj, dict):
        return RunReport.from_dict(obj)
    if isinstance(obj, list | tuple):
        kinds = [_plain(item, "report") for item in obj]
        monitors = [d for d in kinds if d.get("kind") == "monitor"]
        return RunReport.from_objects(
            checks=[d for d in kinds if d.get("kind") != "monitor"],
            monitor=monitors[0] if monitors else None,
        )
    if hasattr(obj, "to_dict"):
        plain = _plain(obj, "report")
        if plain.get("kind") == "monitor":
            return RunReport.from_objects(monitor=plain)
        return RunReport.from_objects(checks=[plain], title=plain.get("title") or DEFAULT_TITLE)
    raise InvalidTypeError(
        "`report` must be a RunReport, a report dict, or a result object with `to_dict()` "
        f"(GradientReport, LayerCheckResult, Monitor); got {type(obj).__name__}."
    )


def as_run_data(obj: Any) -> dict:
    """Return the ``run`` dict to render from a report, any report dict or result object(s).

    Dicts are wrapped (bare check/monitor dicts) but not validated: renderers are pure.
    """
    if isinstance(obj, RunReport):
        return obj.to_dict()
    if isinstance(obj, dict):
        return as_run_dict(obj)
    return as_report(obj).to_dict()


def thin_monitor(monitor: dict, max_points: int = MAX_SERIES_POINTS) -> tuple[dict, str | None]:
    """Return (monitor dict with its series thinned to about `max_points` steps, a note or None).

    Kept (`gradcheck._thin.thin_indices`): evenly spaced steps, the last step, the first and
    last step of every run of non-finite values of the loss or any metric, and the first and
    last step of every finding. Values are rounded to 6 significant digits.
    """
    series = monitor.get("series") or {}
    steps = series.get("step") or []
    if len(steps) <= max_points:
        return monitor, None
    findings = [f for f in monitor.get("findings") or [] if isinstance(f, dict)]
    wanted = [f.get(key) for f in findings for key in ("step", "last_step")]
    pinned = _nonfinite_positions(series) | positions(steps, wanted)
    keep = thin_indices(len(steps), max_points, pinned)
    thinned = dict(series, step=[steps[i] for i in keep])
    if isinstance(series.get("loss"), list):
        thinned["loss"] = _pick_round(series["loss"], keep)
    metrics = series.get("metrics") or {}
    thinned["metrics"] = {
        metric: {name: _pick_round(values, keep) for name, values in by_name.items()}
        for metric, by_name in metrics.items()
    }
    note = (
        f"Monitor series thinned for this report: {len(steps)} observed steps -> {len(keep)} "
        "(the steps where values turn non-finite kept; values rounded to "
        f"{SERIES_DIGITS} significant digits)."
    )
    return dict(monitor, series=thinned), note


def _nonfinite_positions(series: dict) -> set[int]:
    columns = [series.get("loss") or []]
    for by_name in (series.get("metrics") or {}).values():
        columns.extend(by_name.values())
    return {i for column in columns for i in run_edges([isinstance(v, str) for v in column])}


def _pick_round(values: list, keep: list[int]) -> list:
    return [_round(values[i]) if i < len(values) else None for i in keep]


def _round(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{SERIES_DIGITS - 1}e}")
    return value


def has_data(value: Any) -> bool:
    """Return whether a report value holds anything to draw (a non-None leaf somewhere).

    Examples
    --------
    >>> has_data([None, None]), has_data({"a": {"b": [None, 1.0]}}), has_data(0.0)
    (False, True, True)
    """
    if isinstance(value, list):
        return any(v is not None for v in value)
    if isinstance(value, dict):
        return any(has_data(v) for v in value.values())
    return value is not None


def series_values(values: list) -> list[float | None]:
    """Decode a JSON-safe series (``"nan"``/``"inf"`` strings, None) into floats and None."""
    return [None if v is None else parse_float(v) for v in values]
