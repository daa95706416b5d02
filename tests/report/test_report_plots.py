import math

import pytest

from gradcheck.report import RunReport
from gradcheck.report.plots import (
    INSTALL_NOTE,
    MAX_POINTS,
    PLOT_SPECS,
    downsample,
    failing_scatters,
    make_plots,
    missing_note,
    plot_jobs,
)

PNG = b"\x89PNG\r\n\x1a\n"
ALL = [
    "loss",
    "grad_norm",
    "dead_saturated",
    "activation_histograms",
    "gradient_histograms",
    "scatter_1",
    "scatter_2",
]


@pytest.mark.slow  # draws every plot of a 3000-step run
def test_every_plot_is_drawn_when_its_data_exists(drawn):
    plots, _ = drawn
    assert [p.name for p in plots] == ALL
    for plot in plots:
        assert plot.png is not None and plot.png.startswith(PNG), plot.name
        assert plot.note is None
        assert len(plot.png) < 200_000, (plot.name, len(plot.png))


def test_downsample_bounds_points_and_keeps_nonfinite_positions():
    steps = list(range(10_000))
    values = [math.sin(s / 50) for s in steps]
    values[7000] = 50.0  # a spike must survive the thinning
    values[9990:] = ["inf"] * 5 + ["nan"] * 5
    values[4000] = "-inf"
    values[100] = None
    out = downsample(steps, values)
    assert len(out["x"]) <= MAX_POINTS and 7000 in out["x"] and max(out["y"]) == 50.0
    assert out["nan"] == list(range(9995, 10_000)) and out["inf"] == list(range(9990, 9995))
    assert out["-inf"] == [4000] and 100 not in out["x"]


def test_downsample_thins_long_nonfinite_runs_but_keeps_the_ends():
    out = downsample(list(range(8000)), [1.0] * 1000 + ["nan"] * 7000, max_points=400)
    assert out["nan"][0] == 1000 and out["nan"][-1] == 7999 and len(out["nan"]) <= 102


@pytest.mark.parametrize("spec", PLOT_SPECS, ids=[s.name for s in PLOT_SPECS])
def test_each_plot_declares_its_series_and_notes_when_missing(spec):
    data = {"checks": [], "monitor": {"kind": "monitor", "findings": [], "series": {"step": []}}}
    note = missing_note(spec, data)
    assert note.startswith("Not drawn: this run has no data for `monitor.series.")


def test_partial_series_draw_what_exists():
    monitor = {
        "kind": "monitor",
        "findings": [],
        "series": {
            "step": [0, 1, 2],
            "loss": [None, None, None],
            "metrics": {"saturated_fraction": {"tanh1": [0.1, 0.2, "nan"]}},
        },
    }
    data = RunReport.from_objects(monitor=monitor).to_dict()
    plots = {p.name: p for p in make_plots(data)}
    assert plots["loss"].png is None and "`monitor.series.loss`" in plots["loss"].note
    assert plots["dead_saturated"].png.startswith(PNG)  # dead fraction missing: panel says so
    assert plots["grad_norm"].note and plots["activation_histograms"].note
    assert plots["scatter"].note == "Not drawn: this run has no gradient checks."


def test_scatter_for_failing_checks_only(passing_check, failing_check, layer_check):
    data = RunReport.from_objects(checks=[passing_check, failing_check, layer_check]).to_dict()
    titles = [title for title, _ in failing_scatters(data)]
    assert titles == ["Broken MLP gradient check", "Layer by layer: layer relu1 (input_gradient)"]
    healthy = RunReport.from_objects(checks=[passing_check]).to_dict()
    assert [(n, note) for n, _, note, _ in plot_jobs(healthy)][-1] == (
        "scatter",
        "Drawn for failing gradient checks only: every check passed.",
    )
    no_scatter = RunReport.from_objects(checks=[dict(failing_check, scatter={})]).to_dict()
    assert "carry no `scatter` data" in plot_jobs(no_scatter)[-1][2]


def test_without_matplotlib_every_plot_says_how_to_get_it(no_matplotlib, monkeypatch, run_dict):
    with no_matplotlib(monkeypatch):
        plots = make_plots(run_dict)
    assert plots and all(p.png is None and p.note == INSTALL_NOTE for p in plots)
    assert 'pip install "gradcheck[plots]"' in INSTALL_NOTE


def test_a_plot_that_cannot_be_drawn_becomes_a_note(monkeypatch, small_run_dict):
    import gradcheck.report.plots as plots

    def broken(fig, data):
        raise OverflowError("cannot convert float infinity to integer")

    real_jobs = plots.plot_jobs
    monkeypatch.setattr(
        plots,
        "plot_jobs",
        lambda data: [  # the loss plot breaks; the gradient norm plot is still drawn
            (n, t, note, broken if n == "loss" else d)
            for n, t, note, d in real_jobs(data)
            if n in ("loss", "grad_norm")
        ],
    )
    made = {p.name: p for p in plots.make_plots(small_run_dict)}
    assert made["loss"].png is None
    assert "could not be drawn (cannot convert float infinity" in made["loss"].note
    assert made["grad_norm"].png is not None
