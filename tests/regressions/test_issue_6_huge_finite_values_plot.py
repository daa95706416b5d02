"""Issue 6: a diverging run whose loss and gradient norms reach ~1e306 (finite) crashed the
HTML report: matplotlib's log axis overflowed while formatting ticks
(``OverflowError: cannot convert float infinity to integer``), so `gradcheck train --monitor
--report` lost the whole report at the end of training. Such values are now drawn as
off-scale markers, and any plot that still cannot be drawn becomes a note."""

import pytest

from gradcheck.monitor import Monitor
from gradcheck.report import save_report

pytest.importorskip("matplotlib")


def diverging_monitor():
    """The reported run: `gradcheck train --dataset blobs --optimizer sgd --lr 30 --monitor`."""
    from gradcheck.nn.data import make_blobs
    from gradcheck.nn.model import MLP
    from gradcheck.nn.training import train

    mon = Monitor()
    train(
        MLP([2, 100, 50, 3], seed=0),
        make_blobs(seed=0),
        optimizer="sgd",
        lr=30.0,
        epochs=1,
        batch_size=64,
        observer=mon,
        progress=False,
    )
    return mon


@pytest.mark.slow  # trains a diverging MLP and draws every plot
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # it diverges
def test_huge_finite_series_render_with_every_plot(tmp_path):
    path = save_report(diverging_monitor(), tmp_path / "run.html")
    html = path.read_text()
    assert "could not be drawn" not in html
    assert html.count("data:image/png;base64") >= 3
    assert "loss_divergence" in html
