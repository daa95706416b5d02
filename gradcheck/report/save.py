"""Save a report to a file, choosing the format by suffix: ``.html``, ``.md`` or ``.json``.

``Monitor.report(path)`` calls :func:`save_monitor_report`; ``GradientReport.save(path)`` and
``LayerCheckResult.save(path)`` call :func:`save_check_report`. For Markdown the plots are
written as PNG files into ``<stem>_plots/`` beside the ``.md``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gradcheck._validate import check_output_path
from gradcheck.errors import InvalidArgumentError
from gradcheck.report.model import RunReport, as_report
from gradcheck.report.serialize import save_json


def save_report(
    report: Any, path: str | Path, *, title: str | None = None, plots: list | None = None
) -> Path:
    """Write `report` to `path` as HTML, Markdown or JSON (by suffix); return the path.

    Parameters
    ----------
    report : RunReport, dict or result object
        A :class:`RunReport`, a report dict (``run``, ``gradient_check``, ``layer_check``
        or ``monitor``), a result object with ``to_dict()``, or a list of result objects.
    path : str or Path
        Ends in ``.html``/``.htm`` (one self-contained page), ``.md`` (plus PNGs in
        ``<stem>_plots/``) or ``.json`` (the schema'd data, re-renderable later).
    title : str, optional
        Replaces the report's title.
    plots : list, optional
        Plots already drawn by :func:`gradcheck.report.plots.make_plots` for this report
        (HTML and Markdown reuse them instead of drawing again).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "check.json"
    >>> save_report({"kind": "gradient_check", "passed": True}, out).name
    'check.json'
    """
    path = output_path(path)
    saver = SAVERS[path.suffix.lower()]
    report = as_report(report)
    if title is not None:
        report = dataclasses.replace(report, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        saver(report, path, plots)
    except OSError as exc:  # the disk filled up, the folder vanished...
        raise InvalidArgumentError(
            f"`path`={str(path)!r} could not be written ({exc.strerror or exc})."
        ) from None
    return path


def save_report_formats(
    report: Any, stem: str | Path, suffixes: tuple = (".html", ".md", ".json")
) -> list[Path]:
    """Write `report` once per suffix (``<stem>.html``...), drawing its plots only once.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> stem = pathlib.Path(tempfile.mkdtemp()) / "check"
    >>> [p.name for p in save_report_formats({"kind": "gradient_check", "passed": True}, stem)]
    ['check.html', 'check.md', 'check.json']
    """
    stem = Path(stem)
    paths = [output_path(stem.parent / f"{stem.name}{suffix}") for suffix in suffixes]
    report = as_report(report)
    plots = None
    if any(path.suffix.lower() in (".html", ".htm", ".md") for path in paths):
        from gradcheck.report.plots import make_plots

        plots = make_plots(report.to_dict())
    return [save_report(report, path, plots=plots) for path in paths]


def output_path(path: Any, name: str = "path") -> Path:
    """Return `path` validated as a report file to write (see ``check_output_path``).

    A ``.md`` also needs its ``<stem>_plots`` folder name: a file there is refused.

    Examples
    --------
    >>> output_path("run.json").suffix
    '.json'
    """
    path = check_output_path(
        name, path, SAVERS, "Pass e.g. 'report.html', 'report.md' or 'report.json'."
    )
    plots = path.parent / f"{path.stem}_plots"
    if path.suffix.lower() == ".md" and plots.exists() and not plots.is_dir():
        raise InvalidArgumentError(
            f"`{name}`={str(path)!r} writes its plots into {str(plots)!r}, which is a file: "
            "move that file or pick another name for the report."
        )
    return path


def _save_html(report: RunReport, path: Path, plots: list | None) -> None:
    from gradcheck.report.html import render_html

    path.write_text(render_html(report.to_dict(), plots=plots), encoding="utf-8")


def _save_markdown(report: RunReport, path: Path, plots: list | None) -> None:
    from gradcheck.report.markdown import render_markdown
    from gradcheck.report.plots import make_plots

    data = report.to_dict()
    plots = make_plots(data) if plots is None else plots
    folder = path.parent / f"{path.stem}_plots"
    files, notes = {}, {}
    for plot in plots:
        if plot.png is None:
            notes[plot.name] = plot.note or "not drawn."
            continue
        folder.mkdir(exist_ok=True)
        (folder / f"{plot.name}.png").write_bytes(plot.png)
        files[plot.name] = f"{folder.name}/{plot.name}.png"
    text = render_markdown(data, plot_files=files, plot_notes=notes)
    path.write_text(text, encoding="utf-8")


def _save_json(report: RunReport, path: Path, plots: list | None) -> None:
    save_json(report, path)


SAVERS = {".html": _save_html, ".htm": _save_html, ".md": _save_markdown, ".json": _save_json}


def save_monitor_report(
    monitor: Any, path: str | Path, *, title: str | None = None, config: dict | None = None
) -> Path:
    """Write a training monitor's report (findings, series, plots); used by ``Monitor.report``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run.md"
    >>> save_monitor_report({"kind": "monitor", "findings": []}, out).suffix
    '.md'
    """
    path = output_path(path)
    report = RunReport.from_objects(
        monitor=monitor, config=config, title=title or "Training stability report"
    )
    return save_report(report, path)


def save_check_report(
    report: Any, path: str | Path, *, title: str | None = None, config: dict | None = None
) -> Path:
    """Write one gradient or layer check's report; used by ``GradientReport.save(path)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "check.html"
    >>> save_check_report({"kind": "gradient_check", "passed": True}, out).suffix
    '.html'
    """
    path = output_path(path)
    plain = report.to_dict() if hasattr(report, "to_dict") else report
    default = (plain.get("title") if isinstance(plain, dict) else None) or "Gradient check report"
    run = RunReport.from_objects(checks=[plain], config=config, title=title or default)
    return save_report(run, path)
