"""Plots drawn from the report dict: one draw function per plot, each declaring its series.

matplotlib is imported inside the functions (the ``plots`` extra) and draws off-screen with
the Agg canvas. A plot whose series are missing is not drawn: its :class:`Plot` carries a
visible note instead. Without matplotlib every plot carries the note
``pip install "gradcheck[plots]"``. Long series are downsampled to at most ``MAX_POINTS``
points (minimum and maximum per bucket), and NaN/Inf positions stay visible as markers.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gradcheck._thin import thin_indices
from gradcheck.report.model import has_data, series_values
from gradcheck.report.scatter_plots import (
    MAX_SCATTERS,
    draw_scatter,
    failing_scatters,
    no_scatter_note,
)

MAX_POINTS = 2000
MAX_LINES = 12
MAX_PANELS = 8
# Finite values beyond this are drawn as off-scale markers (like Inf): near 1e308,
# matplotlib's axis margins overflow and a log axis cannot be drawn at all.
OFF_SCALE = 1e100
_MARK_LABELS = {"nan": "NaN", "inf": "+Inf or > 1e100", "-inf": "-Inf or < -1e100"}
INSTALL_NOTE = 'Plots need matplotlib: pip install "gradcheck[plots]".'


@dataclass(frozen=True)
class Plot:
    """One plot: a PNG image, or a note saying why it was not drawn."""

    name: str
    title: str
    png: bytes | None = None
    note: str | None = None


@dataclass(frozen=True)
class PlotSpec:
    """A plot's name, title, the series it needs (dotted paths) and its draw function.

    Every path in `needs` must hold data, and at least one in `any_of` (when given).
    """

    name: str
    title: str
    needs: tuple
    any_of: tuple
    draw: Callable


def downsample(steps: list, values: list, max_points: int = MAX_POINTS) -> dict:
    """Thin one series for plotting: keep each bucket's min and max; list non-finite steps.

    Returns ``{"x", "y"}`` (finite points, at most about `max_points`), ``"nan"``, ``"inf"``
    and ``"-inf"`` (the steps where the value is not finite or beyond ``OFF_SCALE`` in
    magnitude, thinned the same way). None values (not observed) are skipped.

    Examples
    --------
    >>> out = downsample(list(range(5000)), [float(i) for i in range(4999)] + ["nan"], 100)
    >>> len(out["x"]) <= 100, out["nan"]
    (True, [4999])
    """
    decoded = series_values(values)
    pairs = [(s, v) for s, v in zip(steps, decoded, strict=False) if v is not None]
    finite = [(s, v) for s, v in pairs if abs(v) <= OFF_SCALE]
    kept = _min_max_buckets(finite, max_points)
    out = {"x": [s for s, _ in kept], "y": [v for _, v in kept]}
    for label, test in (
        ("nan", math.isnan),
        ("inf", lambda v: v > OFF_SCALE),
        ("-inf", lambda v: v < -OFF_SCALE),
    ):
        marks = [s for s, v in pairs if test(v)]
        out[label] = [marks[i] for i in thin_indices(len(marks), max_points // 4)]
    return out


def _min_max_buckets(points: list, max_points: int) -> list:
    if len(points) <= max_points:
        return points
    size = math.ceil(len(points) / max(1, max_points // 2))
    kept = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        low = min(range(len(bucket)), key=lambda i: bucket[i][1])
        high = max(range(len(bucket)), key=lambda i: bucket[i][1])
        kept += [bucket[i] for i in sorted({low, high})]
    return kept


def _get(data: dict, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def missing_note(spec: PlotSpec, data: dict) -> str | None:
    """Return why `spec` cannot be drawn from `data` (the missing series), or None."""
    missing = [path for path in spec.needs if not has_data(_get(data, path))]
    if spec.any_of and not any(has_data(_get(data, path)) for path in spec.any_of):
        missing.append(" or ".join(spec.any_of))
    if not missing:
        return None
    return f"Not drawn: this run has no data for {', '.join(f'`{m}`' for m in missing)}."


def _metric_lines(ax: Any, data: dict, metric: str, *, log: bool = False) -> None:
    series = data["monitor"]["series"]
    by_name = (series.get("metrics") or {}).get(metric) or {}
    names = [n for n, v in by_name.items() if has_data(v)]
    firsts = [
        _line(
            ax,
            series["step"],
            by_name[name],
            label=name,
            color=f"C{i % 10}",
            linestyle="-" if i < 10 else "--",
            log=log,
        )
        for i, name in enumerate(names[:MAX_LINES])
    ]
    _mark_first_nonfinite(ax, firsts)
    if len(names) > MAX_LINES:
        ax.text(
            0.99,
            0.01,
            f"+{len(names) - MAX_LINES} more not drawn",
            ha="right",
            va="bottom",
            transform=ax.transAxes,
            fontsize=7,
        )
    if names:
        ax.legend(fontsize=7, ncol=2, loc="best")
    ax.set_xlabel("step")


def _line(
    ax: Any,
    steps: list,
    values: list,
    *,
    label: str,
    color: str,
    linestyle: str = "-",
    log: bool = False,
) -> Any:
    """Draw one series with NaN/Inf markers; return the first non-finite step or None."""
    out = downsample(steps, values)
    x, y = out["x"], out["y"]
    if log:
        x, y = [s for s, v in zip(x, y, strict=True) if v > 0], [v for v in y if v > 0]
    ax.plot(x, y, color=color, linestyle=linestyle, linewidth=1.2, label=label)
    for key, marker, height in (("nan", "x", 0.96), ("inf", "^", 0.96), ("-inf", "v", 0.04)):
        if out[key]:
            ax.plot(
                out[key],
                [height] * len(out[key]),
                marker=marker,
                color=color,
                linestyle="none",
                markersize=6,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label=f"{label}: {_MARK_LABELS[key]}",
            )
    bad = out["nan"] + out["inf"] + out["-inf"]
    return min(bad) if bad else None


def _mark_first_nonfinite(ax: Any, firsts: list) -> None:
    firsts = [s for s in firsts if s is not None]
    if firsts:
        ax.axvline(min(firsts), color="red", linestyle=":", linewidth=1)
        ax.text(
            min(firsts),
            0.5,
            f" first NaN/Inf: step {min(firsts)} ",
            color="red",
            fontsize=7,
            rotation=90,
            ha="right",
            va="center",
            transform=ax.get_xaxis_transform(),
        )


def _draw_loss(fig: Any, data: dict) -> None:
    ax = fig.add_subplot(1, 1, 1)
    series = data["monitor"]["series"]
    _mark_first_nonfinite(ax, [_line(ax, series["step"], series["loss"], label="loss", color="C0")])
    finite = [v for v in series_values(series["loss"]) if v is not None and abs(v) <= OFF_SCALE]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7, loc="best")


def _draw_grad_norm(fig: Any, data: dict) -> None:
    ax = fig.add_subplot(1, 1, 1)
    _metric_lines(ax, data, "grad_norm", log=True)
    ax.set_yscale("log")
    ax.set_ylabel("gradient norm")


def _draw_fractions(fig: Any, data: dict) -> None:
    for column, (metric, label) in enumerate(
        (("dead_fraction", "dead fraction"), ("saturated_fraction", "saturated fraction"))
    ):
        ax = fig.add_subplot(1, 2, column + 1)
        _metric_lines(ax, data, metric)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(label, fontsize=9)
        if not has_data(_get(data, f"monitor.series.metrics.{metric}")):
            ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)


def _draw_histograms(fig: Any, data: dict, kind: str) -> None:
    hists = data["monitor"]["series"]["histograms"]
    moments = [(label, hists.get(label) or {}) for label in ("first", "last")]
    names = list(dict.fromkeys(n for _, h in moments for n in (h.get(kind) or {})))
    cols = min(4, max(1, len(names)))
    rows = max(1, math.ceil(min(len(names), MAX_PANELS) / cols))
    fig.set_size_inches(3.0 * cols, 2.3 * rows + 0.4)
    for i, name in enumerate(names[:MAX_PANELS]):
        ax = fig.add_subplot(rows, cols, i + 1)
        for color, (label, hist) in zip(("C0", "C3"), moments, strict=True):
            _stairs(
                ax, (hist.get(kind) or {}).get(name), color, f"{label} (step {hist.get('step')})"
            )
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6)


def _stairs(ax: Any, hist: dict | None, color: str, label: str) -> None:
    if not hist:
        return
    edges, counts = series_values(hist.get("edges") or []), series_values(hist.get("counts") or [])
    if len(edges) != len(counts) + 1 or not all(e is not None and math.isfinite(e) for e in edges):
        return
    ax.stairs([c or 0.0 for c in counts], edges, color=color, label=label)


PLOT_SPECS = (
    PlotSpec(
        "loss", "Loss over steps", ("monitor.series.step", "monitor.series.loss"), (), _draw_loss
    ),
    PlotSpec(
        "grad_norm",
        "Gradient norm per parameter over steps (log scale)",
        ("monitor.series.step", "monitor.series.metrics.grad_norm"),
        (),
        _draw_grad_norm,
    ),
    PlotSpec(
        "dead_saturated",
        "Dead and saturated fraction per layer over steps",
        ("monitor.series.step",),
        ("monitor.series.metrics.dead_fraction", "monitor.series.metrics.saturated_fraction"),
        _draw_fractions,
    ),
    PlotSpec(
        "activation_histograms",
        "Activation histograms at the first and last step",
        (),
        (
            "monitor.series.histograms.first.activations",
            "monitor.series.histograms.last.activations",
        ),
        lambda fig, data: _draw_histograms(fig, data, "activations"),
    ),
    PlotSpec(
        "gradient_histograms",
        "Gradient histograms at the first and last step",
        (),
        ("monitor.series.histograms.first.gradients", "monitor.series.histograms.last.gradients"),
        lambda fig, data: _draw_histograms(fig, data, "gradients"),
    ),
)


def plot_jobs(data: dict) -> list[tuple]:
    """Return ``(name, title, note, draw)`` for every plot of `data`, without drawing.

    `note` is None when the plot can be drawn; `draw(fig, data)` draws it. Scatter plots are
    named ``scatter_1``, ``scatter_2``... (one per failing check), or ``scatter`` with a note.
    """
    jobs = [(spec.name, spec.title, missing_note(spec, data), spec.draw) for spec in PLOT_SPECS]
    for k, (title, check) in enumerate(failing_scatters(data)[:MAX_SCATTERS]):
        jobs.append(
            (
                f"scatter_{k + 1}",
                f"Analytic vs numeric: {title}",
                None,
                lambda fig, data, check=check: draw_scatter(fig, check),
            )
        )
    if not any(name.startswith("scatter") for name, *_ in jobs):
        jobs.append(("scatter", "Analytic vs numeric", no_scatter_note(data), None))
    return jobs


def make_plots(data: dict, *, dpi: int = 100) -> list[Plot]:
    """Draw every plot the report dict supports; others carry a note saying why not.

    Examples
    --------
    >>> [p.note is not None for p in make_plots({"checks": [], "monitor": None})][:2]
    [True, True]
    """
    jobs = plot_jobs(data)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return [Plot(name, title, None, note or INSTALL_NOTE) for name, title, note, _ in jobs]
    plots = []
    for name, title, note, draw in jobs:
        if note is not None:
            plots.append(Plot(name, title, None, note))
            continue
        plots.append(_render(name, title, draw, data, dpi, Figure, FigureCanvasAgg))
    return plots


def _render(name: str, title: str, draw: Callable, data: dict, dpi: int, figure, canvas) -> Plot:
    """Draw one plot; a plotting failure becomes a visible note, never a lost report."""
    fig = figure(figsize=(9, 3.6), layout="constrained")
    canvas(fig)
    try:
        draw(fig, data)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    except (ValueError, OverflowError, TypeError) as exc:
        return Plot(name, title, None, f"This plot could not be drawn ({exc}); the data is intact.")
    return Plot(name, title, buffer.getvalue())
