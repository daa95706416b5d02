"""Reading MNIST from your own files: the four IDX files (plain or .gz) or ``mnist.npz``.

The IDX format (LeCun et al.): two zero bytes, a type code, the number of dimensions,
then each dimension as a big-endian uint32, then the data in big-endian order. Every way
a file can be wrong (missing, bad magic number, truncated, trailing bytes, image and label
counts that disagree) raises :class:`~gradcheck.errors.DataFileError` naming the file.
"""

from __future__ import annotations

import gzip
import math
import zipfile
from pathlib import Path

import numpy as np

from gradcheck.errors import DataFileError

# IDX type code -> big-endian numpy dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# part -> (file stem, expected number of dimensions)
MNIST_FILES = {
    "x_train": ("train-images-idx3-ubyte", 3),
    "y_train": ("train-labels-idx1-ubyte", 1),
    "x_test": ("t10k-images-idx3-ubyte", 3),
    "y_test": ("t10k-labels-idx1-ubyte", 1),
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_idx(path: str | Path, *, ndim: int | None = None) -> np.ndarray:
    """Return the array stored in the IDX file `path` (gzip-compressed if it ends in .gz).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> f = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> _ = open(f, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]))
    >>> read_idx(f)
    array([7, 3], dtype=uint8)
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise DataFileError(
            f"`{path}` is not an IDX file: bad magic number {raw[:4].hex() or '(empty)'}; "
            "expected 0000 followed by a type code such as 08 (ubyte). Is it an MNIST file?"
        )
    dims_found = raw[3]
    if ndim is not None and dims_found != ndim:
        raise DataFileError(
            f"`{path}` holds a {dims_found}-dimensional array; expected {ndim} dimensions "
            f"({'images' if ndim == 3 else 'labels'}). Are the image and label files swapped?"
        )
    header = 4 + 4 * dims_found
    if len(raw) < header:
        raise DataFileError(
            f"`{path}` is truncated: its header needs {header} bytes for {dims_found} "
            f"dimensions but the file has {len(raw)}. Re-download it."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", dims_found, offset=4))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a forged header cannot overflow
    if len(raw) - header != expected:
        problem = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise DataFileError(
            f"`{path}` is {problem}: the header gives shape {shape} ({expected} data bytes) "
            f"but the file has {len(raw) - header}. Re-download it."
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataFileError(f"`{path}` does not exist or is not a file.")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                return stream.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataFileError(f"`{path}` cannot be read: {exc}.") from exc


def find_idx_file(directory: Path, stem: str) -> Path:
    """Return the file for `stem` in `directory`: plain, ``.gz``, or with ``.idx`` dotted."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataFileError(
        f"`{directory / stem}` is missing: expected `{stem}` or `{stem}.gz` in `{directory}` "
        "(the four MNIST IDX files), or pass the path of an `mnist.npz` file."
    )


def read_mnist_idx(directory: str | Path) -> dict[str, np.ndarray]:
    """Return ``{"x_train", "y_train", "x_test", "y_test"}`` from the four IDX files."""
    directory = Path(directory)
    arrays, files = {}, {}
    for part, (stem, ndim) in MNIST_FILES.items():
        files[part] = find_idx_file(directory, stem)
        arrays[part] = read_idx(files[part], ndim=ndim)
    for split in ("train", "test"):
        _check_counts(arrays, files, split)
    return arrays


def read_mnist_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Return the four arrays stored in an ``mnist.npz`` (keys x_train, y_train, ...)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"`{path}` does not exist or is not a file.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataFileError(
                    f"`{path}` lacks the keys {missing}; an mnist.npz must hold "
                    f"{list(NPZ_KEYS)} (it has {archive.files})."
                )
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DataFileError):
            raise
        raise DataFileError(f"`{path}` is not a readable .npz file: {exc}.") from exc
    files = dict.fromkeys(NPZ_KEYS, path)
    for split in ("train", "test"):
        _check_counts(arrays, files, split)
    return arrays


def _check_counts(arrays: dict, files: dict, split: str) -> None:
    x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
    if x.ndim not in (2, 3) or y.ndim != 1 or len(x) != len(y):
        raise DataFileError(
            f"`{files[f'x_{split}']}` and `{files[f'y_{split}']}` disagree: {split} images have "
            f"shape {x.shape} and labels {y.shape}; expected (n, 28, 28) or (n, 784) and (n,)."
        )
    if len(y) == 0:
        raise DataFileError(
            f"`{files[f'x_{split}']}` holds no {split} samples (0 images); a data set needs "
            "at least one image per split. Is it an empty or placeholder file?"
        )
    _check_pixels(x, files[f"x_{split}"], split)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9):
        raise DataFileError(
            f"`{files[f'y_{split}']}` holds labels outside the digits 0..9: {split} labels "
            f"have dtype {y.dtype}, min {y.min()}, max {y.max()}; expected integers 0..9. "
            "Are the image and label files swapped, or is this not MNIST?"
        )


def _check_pixels(x: np.ndarray, path: Path, split: str) -> None:
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataFileError(f"`{path}`: {split} images have dtype {x.dtype}; expected numbers.")
    if np.issubdtype(x.dtype, np.inexact):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise DataFileError(
                f"`{path}`: {bad} {split} pixel values are NaN or infinite; training on them "
                "gives NaN. Fix or drop those images (e.g. `np.nan_to_num`) and save again."
            )


def read_mnist(path: str | Path) -> dict[str, np.ndarray]:
    """Return the raw MNIST arrays from a directory of IDX files or an ``.npz`` file."""
    path = Path(path)
    if path.is_dir():
        return read_mnist_idx(path)
    if path.suffix == ".npz" or path.is_file():
        return read_mnist_npz(path)
    raise DataFileError(
        f"`{path}` does not exist; pass a directory holding the four MNIST IDX files "
        "(train-images-idx3-ubyte[.gz], ...) or the path of an `mnist.npz` file."
    )
