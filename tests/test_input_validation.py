"""Issue 12: every bad input of the list raises a GradcheckError naming the argument and the fix.

One table per family (output paths, trees and callables, numbers, data); each row is
``(id, call, error class, message fragments)``. Output paths are refused *before* any work:
the rows that would render or train check that nothing was written.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

import gradcheck
import gradcheck.errors as E
from gradcheck import Monitor, check_gradient
from gradcheck.report import save_report
from gradcheck.report.serialize import read_json


def _loss(p):
    return float(np.sum(p["w"] ** 2))


def _grad(p):
    return {"w": 2 * p["w"]}


W = {"w": np.arange(3.0)}


def _deep(depth):
    tree = {"w": np.ones(2)}
    for _ in range(depth):
        tree = {"a": tree}
    return tree


def _self_dict():
    tree = {"w": np.ones(2)}
    tree["self"] = tree
    return tree


def _self_list():
    tree = [np.ones(2)]
    tree.append(tree)
    return tree


def _plots_taken(tmp):
    (tmp / "run_plots").write_text("not a folder")
    return tmp / "run.md"


def _under_file(tmp):
    (tmp / "afile").write_text("x")
    return tmp / "afile" / "run.html"


PATHS = [
    ("directory", lambda tmp: tmp, E.InvalidArgumentError, ["is a folder", "report.html"]),
    ("under-a-file", _under_file, E.InvalidArgumentError, ["which is a file, not a folder"]),
    (
        "unwritable",
        lambda tmp: Path("/proc/gradcheck-x/run.html"),
        E.InvalidArgumentError,
        ["cannot write in '/proc'"],
    ),
    ("none", lambda tmp: None, E.InvalidTypeError, ["`path` must be a path", "NoneType"]),
    ("int", lambda tmp: 3, E.InvalidTypeError, ["`path` must be a path", "(int)"]),
    ("bytes", lambda tmp: b"run.md", E.InvalidTypeError, ["`path` must be a path", "bytes"]),
    ("nul", lambda tmp: str(tmp / "r\0.md"), E.InvalidArgumentError, ["NUL character"]),
    (
        "too-long",
        lambda tmp: str(tmp / ("x" * 300 + ".md")),
        E.InvalidArgumentError,
        ["too long", "shorter path"],
    ),
    ("empty", lambda tmp: "", E.InvalidArgumentError, ["`path` is empty"]),
    (
        "bad-suffix",
        lambda tmp: tmp / "run.txt",
        E.InvalidArgumentError,
        ["suffix '.txt'", "'.html'"],
    ),
    ("md-plots-name-taken", _plots_taken, E.InvalidArgumentError, ["run_plots", "which is a file"]),
]


@pytest.mark.parametrize("save", ["monitor-report", "save-report"])
@pytest.mark.parametrize(
    "make, error, fragments", [row[1:] for row in PATHS], ids=[row[0] for row in PATHS]
)
def test_output_paths_are_refused_before_any_work(tmp_path, save, make, error, fragments):
    path = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    monitor = Monitor()
    monitor.observe(0, loss=1.0)
    with pytest.raises(error) as info:
        monitor.report(path) if save == "monitor-report" else save_report(monitor.to_dict(), path)
    assert isinstance(info.value, gradcheck.GradcheckError)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert sorted(tmp_path.rglob("*")) == before  # nothing rendered, nothing written


CALLS = [
    (
        "tree-2000-deep",
        lambda: check_gradient(_loss, _grad, _deep(2000)),
        E.InvalidTypeError,
        ["`params` nests deeper than 100 levels", "flatten the nesting"],
    ),
    (
        "tree-self-dict",
        lambda: check_gradient(_loss, _grad, _self_dict()),
        E.InvalidTypeError,
        ["`params` contains itself", "`self`", "without cycles"],
    ),
    (
        "tree-self-list",
        lambda: check_gradient(_loss, _grad, _self_list()),
        E.InvalidTypeError,
        ["`params` contains itself", "`[1]`"],
    ),
    (
        "loss-no-argument",
        lambda: check_gradient(lambda: 0.0, _grad, W),
        E.InvalidTypeError,
        ["`loss` is called as `loss(params)`", "signature is loss()", "def loss(params)"],
    ),
    (
        "grad-two-arguments",
        lambda: check_gradient(_loss, lambda p, q: p, W),
        E.InvalidTypeError,
        ["`grad` is called as `grad(params)`", "grad(p, q)"],
    ),
    (
        "bool-params",
        lambda: check_gradient(_loss, _grad, {"w": np.array([True, False])}),
        E.InvalidTypeError,
        ["dtype bool", "cannot perturb booleans"],
    ),
    (
        "object-params",
        lambda: check_gradient(_loss, _grad, {"w": np.array([1.0], object)}),
        E.InvalidTypeError,
        ["dtype object", "cannot perturb Python objects"],
    ),
    (
        "rtol-huge-int",
        lambda: check_gradient(_loss, _grad, W, rtol=10**400),
        E.InvalidArgumentError,
        ["`rtol` must be finite", "an int of 401 digits"],
    ),
    (
        "monitor-seed-negative",
        lambda: Monitor(seed=-1),
        E.InvalidArgumentError,
        ["`seed` must be >= 0", "Try seed=0"],
    ),
]


@pytest.mark.parametrize(
    "call, error, fragments", [row[1:] for row in CALLS], ids=[row[0] for row in CALLS]
)
def test_bad_arguments_name_the_argument_and_the_fix(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value)


def test_a_huge_int_tolerance_is_a_number_like_any_other():
    assert check_gradient(_loss, _grad, W, atol=10**30).passed


def test_rtol_zero_is_accepted():
    assert check_gradient(_loss, _grad, W, rtol=0).passed in (True, False)


@pytest.mark.parametrize("depth", [900, 100_000], ids=["parses-but-too-deep", "100000-deep"])
def test_json_nested_too_deep_is_a_data_error(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_text('{"kind": "run", "config": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(E.DataFileError, match="nests its JSON"):
        read_json(path)


def _idx(shape, dtype_code=0x08, data=b""):
    header = bytes([0, 0, dtype_code, len(shape)])
    header += b"".join(int(d).to_bytes(4, "big") for d in shape)
    return header + data


def _write_mnist(folder: Path, n_train: int, x_train=None) -> None:
    images = x_train if x_train is not None else np.zeros((n_train, 28, 28), np.uint8)
    files = {
        "train-images-idx3-ubyte": _idx(images.shape, data=images.tobytes()),
        "train-labels-idx1-ubyte": _idx((n_train,), data=bytes(n_train)),
        "t10k-images-idx3-ubyte": _idx((1, 28, 28), data=bytes(784)),
        "t10k-labels-idx1-ubyte": _idx((1,), data=bytes(1)),
    }
    for name, raw in files.items():
        (folder / name).write_bytes(raw)


def test_mnist_with_no_samples_is_refused(tmp_path):
    from gradcheck.nn.mnist import read_mnist

    _write_mnist(tmp_path, 0)
    with pytest.raises(E.DataFileError, match="holds no train samples"):
        read_mnist(tmp_path)


def test_npz_with_no_samples_is_refused(tmp_path):
    from gradcheck.nn.mnist import read_mnist

    path = tmp_path / "mnist.npz"
    empty = {"x_train": np.zeros((0, 28, 28)), "y_train": np.zeros(0, int)}
    np.savez(path, **empty, x_test=np.zeros((1, 28, 28)), y_test=np.zeros(1, int))
    with pytest.raises(E.DataFileError, match="holds no train samples"):
        read_mnist(path)


def test_npz_with_nan_pixels_is_refused(tmp_path):
    from gradcheck.nn.mnist import read_mnist

    x = np.zeros((2, 28, 28))
    x[1, 3, 4] = np.nan
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=np.zeros(2, int), x_test=x[:1] * 0, y_test=np.zeros(1, int))
    with pytest.raises(E.DataFileError, match="1 train pixel values are NaN or infinite"):
        read_mnist(path)


def test_idx_header_whose_size_overflows_int64_is_a_data_error(tmp_path):
    from gradcheck.nn.mnist import read_idx

    path = tmp_path / "huge-idx3-ubyte.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(_idx((2**32 - 1, 2**32 - 1, 2**32 - 1), dtype_code=0x0E))
    with pytest.raises(E.DataFileError, match="is truncated"):
        read_idx(path)


def test_training_on_nan_inputs_is_refused_before_it_starts():
    from gradcheck.nn.data import Dataset
    from gradcheck.nn.model import MLP
    from gradcheck.nn.training import train

    x = np.zeros((4, 2))
    x[0, 0] = np.nan
    data = Dataset(x, np.array([0, 1, 0, 1]), x[:2] * 0, np.array([0, 1]), 2, "toy")
    with pytest.raises(E.InvalidArgumentError, match="`data.x_train` .* 1 NaN or infinite"):
        train(MLP([2, 2]), data, epochs=1)


@pytest.mark.parametrize(
    "x, fragments",
    [
        (np.zeros((0, 3)), ["`x` has shape (0, 3)", "empty batch", "at least one sample"]),
        (np.array([[np.nan, 0, 0]]), ["`x` holds 1 NaN or infinite", "index (0, 0)"]),
    ],
    ids=["empty-batch", "nan-input"],
)
def test_check_layers_names_a_bad_batch(x, fragments):
    from gradcheck.layers import check_layers
    from gradcheck.nn.layers import Dense

    with pytest.raises(E.InvalidArgumentError) as info:
        check_layers([Dense(3, 2, rng=np.random.default_rng(0))], x)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "`params` has no entries" not in str(info.value) and "loss" not in str(info.value)
