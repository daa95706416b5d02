"""Data loaders: digits, MNIST from tiny IDX/gz/npz files written here, synthetic sets."""

import gzip
import struct

import numpy as np
import pytest

from gradcheck.errors import DataFileError, InvalidArgumentError, InvalidTypeError
from gradcheck.nn.data import load_digits, load_mnist, make_blobs, make_regression, make_spirals
from gradcheck.nn.mnist import read_idx

STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def tiny_mnist(n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def write_idx_dir(directory, arrays, *, gz=False, override=None):
    directory.mkdir(exist_ok=True)
    for part, stem in STEMS.items():
        raw = (override or {}).get(part, idx_bytes(arrays[part]))
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)
    return directory


def check_matches(data, arrays, pixel_range=1.0):
    assert data.x_train.shape == (len(arrays["x_train"]), 784)
    expected = arrays["x_train"].reshape(-1, 784).astype(float) * pixel_range / 255
    np.testing.assert_allclose(data.x_train, expected)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.y_train.dtype == np.int64 and data.n_classes == 10 and data.name == "mnist"


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_mnist_idx_files(tmp_path, gz):
    arrays = tiny_mnist()
    data = load_mnist(write_idx_dir(tmp_path / "mnist", arrays, gz=gz))
    check_matches(data, arrays)


def test_mnist_npz_and_raw_pixels(tmp_path):
    arrays = tiny_mnist()
    np.savez(tmp_path / "mnist.npz", **arrays)
    check_matches(load_mnist(tmp_path / "mnist.npz", pixel_range=255), arrays, pixel_range=255)
    assert load_mnist(str(tmp_path / "mnist.npz"), pixel_range=255).x_train.max() > 250


def test_read_idx_other_dtypes(tmp_path):
    values = np.array([[1.5, -2.0]], dtype=">f4")
    path = tmp_path / "floats-idx2"
    path.write_bytes(bytes([0, 0, 0x0D, 2]) + struct.pack(">2I", 1, 2) + values.tobytes())
    out = read_idx(path)
    np.testing.assert_array_equal(out, [[1.5, -2.0]])
    assert out.dtype.isnative


def truncated(arrays):
    return idx_bytes(arrays["x_train"])[:-10]


MALFORMED = {  # case -> (file part, bytes for it, message fragment)
    "bad-magic": (
        "x_train",
        lambda a: b"\x12\x34\x08\x03" + idx_bytes(a["x_train"])[4:],
        "bad magic number",
    ),
    "truncated": ("x_train", truncated, "is truncated"),
    "trailing": ("y_test", lambda a: idx_bytes(a["y_test"]) + b"\x00", "longer than its header"),
    "swapped": ("y_train", lambda a: idx_bytes(a["x_train"]), "expected 1 dimensions"),
    "count-mismatch": ("y_train", lambda a: idx_bytes(a["y_train"][:-1]), "disagree"),
    "empty": ("x_test", lambda a: b"", "bad magic number"),
    "short-header": (
        "x_test",
        lambda a: bytes([0, 0, 8, 3, 0, 0]),
        "truncated: its header needs 16 bytes for 3 dimensions but the file has 6",
    ),
    "bad-labels": (
        "y_test",
        lambda a: idx_bytes(np.full(len(a["y_test"]), 12)),
        "outside the digits 0..9: test labels have dtype uint8, min 12, max 12",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED), ids=sorted(MALFORMED))
def test_malformed_idx_names_the_file(tmp_path, case):
    part, make, fragment = MALFORMED[case]
    arrays = tiny_mnist()
    directory = write_idx_dir(tmp_path / "m", arrays, override={part: make(arrays)})
    with pytest.raises(DataFileError, match=fragment) as info:
        load_mnist(directory)
    assert STEMS[part if case != "count-mismatch" else "y_train"] in str(info.value)


def test_truncated_gzip_names_the_file(tmp_path):
    directory = write_idx_dir(tmp_path / "m", tiny_mnist(), gz=True)
    path = directory / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(directory)


def test_missing_files_and_paths(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    arrays = tiny_mnist()
    directory = write_idx_dir(tmp_path / "m", arrays)
    (directory / STEMS["y_test"]).unlink()
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte` is missing"):
        load_mnist(directory)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (lambda p, a: np.savez(p, x_train=a["x_train"]), "lacks the keys"),
        (lambda p, a: p.write_bytes(b"not a zip file at all"), "not a readable .npz"),
        (lambda p, a: np.savez(p, **{**a, "y_train": a["y_train"][:2]}), "disagree"),
    ],
    ids=["missing-keys", "not-a-zip", "count-mismatch"],
)
def test_malformed_npz_names_the_file(tmp_path, content, fragment):
    path = tmp_path / "mnist.npz"
    content(path, tiny_mnist())
    with pytest.raises(DataFileError, match=fragment) as info:
        load_mnist(path)
    assert "mnist.npz" in str(info.value)


def test_digits_shape_range_and_stratified_split():
    data = load_digits()
    assert data.x_train.shape[1] == 64 and len(data.x_train) + len(data.x_test) == 1797
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    counts = np.bincount(data.y_test, minlength=10)
    assert counts.min() >= 34 and counts.max() <= 37  # ~20% of each class of ~180
    raw = load_digits(pixel_range=255)
    assert raw.x_train.max() == 255.0
    np.testing.assert_allclose(raw.x_train, data.x_train * 255)
    assert not np.array_equal(load_digits(seed=1).y_train, data.y_train)


@pytest.mark.parametrize(
    "make", [make_blobs, make_spirals, make_regression], ids=lambda f: f.__name__
)
def test_synthetic_sets_are_seeded(make):
    a, b, c = make(seed=0), make(seed=0), make(seed=1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert len(a.x_train) + len(a.x_test) == len(np.concatenate([a.y_train, a.y_test]))
    assert repr(a).startswith("Dataset(")


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_blobs(100, 0), InvalidArgumentError, "`n_classes` must be finite and > 0"),
        (lambda: make_blobs(-5), InvalidArgumentError, "`n_samples` must be finite and >= 0"),
        (lambda: make_blobs(100, 2.5), InvalidTypeError, "`n_classes` must be an integer"),
        (lambda: make_spirals(100, 0), InvalidArgumentError, "got n_classes=0"),
        (lambda: make_regression(50, 0), InvalidArgumentError, "got n_features=0"),
    ],
    ids=["blobs-no-class", "blobs-negative", "blobs-float", "spirals-no-class", "no-feature"],
)
def test_synthetic_sets_reject_bad_sizes_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()
