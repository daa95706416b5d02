"""Datasets: the bundled real handwritten digits, MNIST from your files, synthetic sets.

Every loader returns a :class:`Dataset` with a seeded train/test split. Inputs are float64
arrays of shape ``(n, n_features)``; class labels are int64 of shape ``(n,)``; regression
targets are float64 of shape ``(n, 1)`` with ``n_classes == 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck._validate import check_positive, check_type
from gradcheck.errors import InvalidArgumentError
from gradcheck.nn.mnist import read_mnist

__all__ = [
    "Dataset",
    "load_digits",
    "load_mnist",
    "make_blobs",
    "make_regression",
    "make_spirals",
    "split",
]


@dataclass(frozen=True, repr=False)
class Dataset:
    """A train/test split: ``x_train, y_train, x_test, y_test``, ``n_classes`` and ``name``.

    ``n_classes == 0`` marks a regression task.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str

    @property
    def n_features(self) -> int:
        """Width of one input row."""
        return int(self.x_train.shape[1])

    @property
    def is_classification(self) -> bool:
        """True when the targets are class labels."""
        return self.n_classes > 0

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.n_classes else "regression"
        return (
            f"Dataset({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, {kind})"
        )


def split(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    name: str,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> Dataset:
    """Split `x`, `y` into a :class:`Dataset`, stratified by class when ``n_classes > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> data = split(np.zeros((10, 2)), np.arange(10) % 2, n_classes=2, name="toy")
    >>> data.x_train.shape, data.x_test.shape
    ((8, 2), (2, 2))
    """
    if not 0 < test_fraction < 1:
        raise InvalidArgumentError(
            f"`test_fraction` must lie strictly between 0 and 1; got {test_fraction!r}."
        )
    rng = np.random.default_rng(seed)
    groups = (
        [np.flatnonzero(y == c) for c in range(n_classes)] if n_classes else [np.arange(len(y))]
    )
    # Rank each sample within its class on [0, 1); the lowest ranks overall form the test set,
    # so every class gives its share (to within one sample) and the total is exact.
    rank = np.empty(len(y))
    for group in groups:
        rank[rng.permutation(group)] = (np.arange(len(group)) + rng.random()) / max(len(group), 1)
    order = np.argsort(rank, kind="stable")
    n_test = int(round(test_fraction * len(y)))
    test_idx, train_idx = rng.permutation(order[:n_test]), rng.permutation(order[n_test:])
    return Dataset(x[train_idx], y[train_idx], x[test_idx], y[test_idx], n_classes, name)


def load_digits(*, seed: int = 0, test_fraction: float = 0.2, pixel_range: float = 1.0) -> Dataset:
    """Return scikit-learn's bundled 8x8 handwritten digits (1797 samples, 10 classes).

    Parameters
    ----------
    seed : int
        Seed of the stratified train/test split.
    test_fraction : float
        Share of each class held out for testing.
    pixel_range : float
        Pixels are scaled from 0..16 to ``[0, pixel_range]``: 1.0 (default) for
        ``[0, 1]``, 255 for raw-image-like 0..255 values (to reproduce unscaled-input bugs).

    Returns
    -------
    Dataset
        64 features, no download needed (requires scikit-learn).

    Examples
    --------
    >>> data = load_digits()
    >>> data.x_train.shape, data.x_test.shape, float(data.x_train.max())
    ((1438, 64), (359, 64), 1.0)
    """
    check_positive("pixel_range", pixel_range, allow_none=False)
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = bunch.data.astype(np.float64) * (pixel_range / 16.0)
    y = bunch.target.astype(np.int64)
    return split(x, y, n_classes=10, name="digits", seed=seed, test_fraction=test_fraction)


def load_mnist(path, *, pixel_range: float = 1.0) -> Dataset:
    """Return MNIST from your files: a directory with the four IDX files, or an ``.npz``.

    Parameters
    ----------
    path : str or Path
        A directory holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each plain or ``.gz``),
        or an ``mnist.npz`` with keys ``x_train, y_train, x_test, y_test``.
    pixel_range : float
        Pixels are scaled from 0..255 to ``[0, pixel_range]`` (255 keeps them raw).

    Returns
    -------
    Dataset
        Images flattened to ``(n, 784)``; the files' own train/test split.

    Raises
    ------
    DataFileError
        A file is missing or malformed (the message names it).

    Examples
    --------
    >>> load_mnist("no/such/dir")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gradcheck.errors.DataFileError: `no/such/dir` does not exist; ...
    """
    check_positive("pixel_range", pixel_range, allow_none=False)
    raw = read_mnist(path)
    scale = pixel_range / 255.0
    x_train, x_test = (_flat(raw[key], scale) for key in ("x_train", "x_test"))
    y_train, y_test = (raw[key].astype(np.int64) for key in ("y_train", "y_test"))
    return Dataset(x_train, y_train, x_test, y_test, n_classes=10, name="mnist")


def _flat(images: np.ndarray, scale: float) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float64) * scale


def make_blobs(
    n_samples: int = 600,
    n_classes: int = 3,
    n_features: int = 2,
    *,
    spread: float = 1.0,
    seed: int = 0,
    test_fraction: float = 0.25,
) -> Dataset:
    """Return Gaussian blobs of std `spread`, one per class, centres at distance 3 from 0.

    Centres lie on a circle in 2-D (evenly spaced) and in random directions otherwise.

    Examples
    --------
    >>> make_blobs(100, 2).x_train.shape
    (75, 2)
    """
    _check_sizes(n_samples, n_classes=n_classes, n_features=n_features)
    rng = np.random.default_rng(seed)
    centres = 3.0 * _directions(n_classes, n_features, rng)
    y = np.arange(n_samples) % n_classes
    x = centres[y] + rng.normal(0.0, spread, size=(n_samples, n_features))
    return split(x, y, n_classes=n_classes, name="blobs", seed=seed, test_fraction=test_fraction)


def _check_sizes(n_samples: int, **counts: int) -> None:
    """Raise unless `n_samples` is an integer >= 0 and every count an integer > 0."""
    for name, value in {"n_samples": n_samples, **counts}.items():
        check_type(name, value, (int, np.integer), "an integer such as 100")
        check_positive(name, value, allow_none=False, strict=name != "n_samples")


def _directions(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if d == 2:
        angle = 2 * np.pi * np.arange(k) / k + rng.uniform(0, 2 * np.pi)
        return np.column_stack([np.cos(angle), np.sin(angle)])
    u = rng.normal(size=(k, d))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def make_spirals(
    n_samples: int = 600,
    n_classes: int = 3,
    *,
    noise: float = 0.2,
    seed: int = 0,
    test_fraction: float = 0.25,
) -> Dataset:
    """Return interleaved 2-D spirals, one arm per class (not linearly separable).

    Examples
    --------
    >>> make_spirals(90, 3).n_classes
    3
    """
    _check_sizes(n_samples, n_classes=n_classes)
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    r = rng.uniform(0.05, 1.0, size=n_samples)
    theta = 4.0 * r + 2 * np.pi * y / n_classes + rng.normal(0.0, noise, size=n_samples)
    x = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return split(x, y, n_classes=n_classes, name="spirals", seed=seed, test_fraction=test_fraction)


def make_regression(
    n_samples: int = 500,
    n_features: int = 5,
    *,
    noise: float = 0.1,
    seed: int = 0,
    test_fraction: float = 0.25,
) -> Dataset:
    """Return a smooth nonlinear regression task ``y = sin(x @ u) + 0.5 (x @ v)**2 + noise``.

    Examples
    --------
    >>> data = make_regression(40, 3)
    >>> data.y_train.shape, data.n_classes
    ((30, 1), 0)
    """
    _check_sizes(n_samples, n_features=n_features)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_samples, n_features))
    u, v = rng.normal(size=(2, n_features)) / np.sqrt(n_features)
    y = np.sin(x @ u) + 0.5 * (x @ v) ** 2 + rng.normal(0.0, noise, size=n_samples)
    return split(
        x, y[:, None], n_classes=0, name="regression", seed=seed, test_fraction=test_fraction
    )
