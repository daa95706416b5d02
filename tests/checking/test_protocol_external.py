"""`Program`: params by declared names, O(1) `loss_at` requests kept in flight, fallbacks."""

import sys

import numpy as np
import pytest

from gradcheck.checking import protocol
from gradcheck.checking.external import Program
from gradcheck.checking.gradient import check_gradient
from gradcheck.errors import InvalidArgumentError, InvalidTypeError, TreeMismatchError
from tests.checking.protocol_helpers import REFERENCE, gone

SHAPES = {"W1": (4, 5), "b1": (5,), "W2": (5, 3), "b2": (3,)}


@pytest.fixture
def program():
    with Program(REFERENCE, timeout=10.0) as p:
        yield p


@pytest.fixture
def written(monkeypatch):
    """Every write to a child, as (number of request lines, their text)."""
    log = []
    original = protocol.Child.write

    def write(self, text, request):
        log.append(text)
        return original(self, text, request)

    monkeypatch.setattr(protocol.Child, "write", write)
    return log


def test_params_follow_the_declaration(program):
    assert {n: v.shape for n, v in program.params.items()} == SHAPES
    assert program.size == 43 and program.offsets == {"W1": 0, "b1": 20, "W2": 25, "b2": 40}
    assert [layer.name for layer in program.layers] == ["dense1", "tanh1", "dense2"]
    assert program.input().shape == (6, 4)


def test_per_entry_evaluations_are_pipelined_loss_at_requests(written):
    with Program(REFERENCE) as program:
        report = check_gradient(program.loss, program.grad, program.params, progress=False)
    assert report.passed
    lines = [line for text in written for line in text.splitlines()]
    loss_at = [line for line in lines if line.startswith("loss_at ")]
    assert len(loss_at) >= 2 * program.size  # central differences: two per entry
    assert all(len(line.split(" ")) == 3 for line in loss_at)  # O(1) text each
    assert sum(line.startswith("params ") for line in lines) == 1  # the base is set once
    batches = [text.splitlines() for text in written if text.startswith("loss_at ")]
    # a window in flight: each parameter's sweep goes out in one write (both sides of every
    # entry), and the writes do not grow with the entries (a few step trials per parameter)
    largest = max(value.size for value in program.params.values())
    assert max(len(batch) for batch in batches) >= 2 * largest
    assert len(batches) <= 8 * len(program.params) < len(loss_at) / 3


@pytest.mark.slow  # two whole checks over the protocol
def test_the_window_changes_nothing_but_speed():
    reports = []
    for window in (1, 64):
        with Program(REFERENCE, window=window) as program:
            r = check_gradient(program.loss, program.grad, program.params, progress=False)
            reports.append(r.to_dict())
    assert reports[0] == reports[1]


def test_loss_of_any_point_moves_the_base_only_through_the_protocol(program):
    x = program.flat(program.params)
    direct = []
    for moved in ([], [3], [3, 30]):
        point = program.unflatten(x.copy())
        for i in moved:
            point["W1" if i < 20 else "W2"].reshape(-1)[i if i < 20 else i - 25] += 1e-3
        direct.append(program.loss(point))
    assert np.array_equal(program.base, x)  # loss_at / loss_along leave the base alone
    for value, moved in zip(direct, ([], [3], [3, 30]), strict=True):
        y = x.copy()
        y[moved] += 1e-3
        program.ensure_base(y)
        assert program.loss(program.unflatten(y)) == pytest.approx(value, rel=1e-13)


def test_given_params_are_checked_against_the_declaration():
    good = {n: np.zeros(s) for n, s in SHAPES.items()}
    with Program(REFERENCE, params=good) as program:
        assert np.array_equal(program.base, np.zeros(43))
    with pytest.raises(TreeMismatchError, match=r"`params\['b2'\]` has shape \(4,\)"):
        Program(REFERENCE, params={**good, "b2": np.zeros(4)})
    with pytest.raises(TreeMismatchError, match="declared names"):
        Program(REFERENCE, params={"W1": good["W1"]})


def test_complex_step_is_refused_with_a_reason(program):
    with pytest.raises(InvalidTypeError, match="real numbers only"):
        check_gradient(program.loss, program.grad, program.params, method="complex")


@pytest.mark.parametrize(
    ("kw", "message"), [({"timeout": 0}, "timeout"), ({"window": 0}, "window")]
)
def test_input_validation(kw, message):
    with pytest.raises(InvalidArgumentError, match=message):
        Program(REFERENCE, **kw)


SCALAR = r"""
import sys
print("gradcheck-protocol 1\nparam s\nparam v 2\nend", flush=True)
x = [0.0, 0.0, 0.0]
f = lambda x: x[0] ** 3 + x[0] * x[1] - x[2] ** 2
for line in sys.stdin:
    name, *a = line.split()
    if name == "quit":
        break
    if name == "params":
        x = [float(t) for t in a]; out = "ok"
    elif name == "loss":
        out = repr(f(x))
    elif name == "grad":
        out = " ".join(map(repr, [3 * x[0] ** 2 + x[1], x[0], -2 * x[2]]))
    elif name == "loss_at":
        y = list(x); y[int(a[0])] += float(a[1]); out = repr(f(y))
    elif name == "loss_along":
        t, *v = map(float, a); out = repr(f([p + t * d for p, d in zip(x, v)]))
    else:
        out = "error unknown"
    print(out, flush=True)
"""


def test_a_scalar_parameter_and_a_program_without_layers():
    with Program([sys.executable, "-c", SCALAR]) as program:
        assert program.params["s"].shape == () and program.layers == []
        report = check_gradient(program.loss, program.grad, program.params, progress=False)
        pid = program.child.proc.pid
    assert report.passed and set(report.params) == {"s", "v"}
    assert gone(pid)


def test_command_line_usage_errors_exit_2(capsys):
    import shlex

    from gradcheck.cli import main

    scalar = shlex.join([sys.executable, "-c", SCALAR])
    assert main(["check", "--cmd", scalar]) == 0
    assert main(["check", "--cmd", scalar, "--layers"]) == 2
    assert "declares no layer" in capsys.readouterr().err
    assert main(["check"]) == 2
    assert main(["check", "x.py:f", "--cmd", scalar]) == 2
    assert "exactly one of them" in capsys.readouterr().err
