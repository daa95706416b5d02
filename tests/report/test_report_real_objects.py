"""Render the real to_dict() output of the checker, the layer check and the monitor.

Skipped cleanly while those modules are absent.
"""

import numpy as np
import pytest

from gradcheck.report import RunReport, dumps, loads, render_html, render_markdown, validate

check = pytest.importorskip("gradcheck.checking.gradient")
layers = pytest.importorskip("gradcheck.layers")
monitor = pytest.importorskip("gradcheck.monitor")
nn = pytest.importorskip("gradcheck.nn")


@pytest.fixture(scope="module")
def real_objects():
    model = nn.MLP([4, 8, 3], activation="tanh", seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    problem = nn.mlp_problem(model, x, y)

    def doubled(params):
        return {k: 2.0 * v for k, v in problem["grad"](params).items()}

    good = check.check_gradient(problem["loss"], problem["grad"], problem["params"])
    bad = check.check_gradient(problem["loss"], doubled, problem["params"])
    stack = layers.check_layers(model.layers, x)
    mon = monitor.Monitor()
    data = nn.make_blobs(seed=0)
    net = nn.MLP([data.x_train.shape[1], 16, data.n_classes], seed=0)
    nn.train(
        net,
        data,
        loss="cross_entropy",
        optimizer="sgd",
        lr=0.1,
        epochs=2,
        batch_size=32,
        seed=0,
        observer=mon,
        progress=False,
    )
    return good, bad, stack, mon


@pytest.mark.slow  # renders every plot of real objects; tests/report/ covers each part
def test_real_results_validate_render_and_round_trip(real_objects, tmp_path):
    good, bad, stack, mon = real_objects
    assert good.passed and not bad.passed
    report = RunReport.from_objects(
        checks=[good, bad, stack], monitor=mon, config={"seed": 0}, title="real objects"
    )
    data = report.to_dict()
    assert validate(data) == []
    assert loads(dumps(report)) == report
    md = render_markdown(data)
    assert "### Gradient check #2 — FAIL" in md and "#### Worst entries" in md
    page = render_html(data)
    assert 'id="plot-loss"' in page and 'id="plot-scatter_1"' in page


def test_monitor_report_delegates_to_the_report_layer(real_objects, tmp_path):
    mon = real_objects[3]
    path = mon.report(tmp_path / "mon.json")
    assert loads(path.read_text()).title == "Training stability report"


@pytest.mark.parametrize("which", [1, 2], ids=["GradientReport", "LayerCheckResult"])
def test_result_save_delegates_to_the_report_layer(real_objects, tmp_path, which):
    result = real_objects[which]
    if not hasattr(result, "save"):
        pytest.skip(f"{type(result).__name__}.save is not there yet")
    path = tmp_path / "result.json"
    result.save(path)
    assert loads(path.read_text()).checks[0]["kind"] == result.to_dict()["kind"]
