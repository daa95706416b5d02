"""Weight initializers as one table: name -> ``initializer(shape, rng, dtype) -> ndarray``.

For a weight of shape ``(n_in, n_out)``:

============  ===========================================================
name          distribution
============  ===========================================================
glorot        uniform(-l, l), ``l = sqrt(6 / (n_in + n_out))`` (alias xavier)
he            normal(0, ``sqrt(2 / n_in)``), for relu networks
normal        normal(0, ``std``), ``std=0.01`` unless given
uniform       uniform(-a, a), ``a=0.1`` unless given — the naive one users write
zeros         all zeros (biases)
============  ===========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from gradcheck._validate import check_choice, check_positive

Initializer = Callable[[tuple[int, ...], np.random.Generator, np.dtype], np.ndarray]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 2:
        return (shape[0] if shape else 1), (shape[0] if shape else 1)
    return shape[0], shape[1]


def glorot(shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Uniform Glorot/Xavier: ``U(-l, l)`` with ``l = sqrt(6 / (n_in + n_out))``."""
    n_in, n_out = _fans(shape)
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he(shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """He normal: ``N(0, sqrt(2 / n_in))``."""
    n_in, _ = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=shape).astype(dtype)


def normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float64, *, std: float = 0.01
) -> np.ndarray:
    """``N(0, std)``."""
    return rng.normal(0.0, std, size=shape).astype(dtype)


def uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float64, *, a: float = 0.1
) -> np.ndarray:
    """``U(-a, a)``."""
    return rng.uniform(-a, a, size=shape).astype(dtype)


def zeros(shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """All zeros (`rng` unused)."""
    return np.zeros(shape, dtype=dtype)


INIT: dict[str, Initializer] = {
    "glorot": glorot,
    "xavier": glorot,
    "he": he,
    "normal": normal,
    "uniform": uniform,
    "zeros": zeros,
}

_OPTIONS = {"normal": "std", "uniform": "a"}


def get_initializer(name: str | Initializer, **options: float) -> Initializer:
    """Return the initializer `name`, with ``std`` (normal) or ``a`` (uniform) bound.

    Parameters
    ----------
    name : str or callable
        One of ``INIT``; a callable ``(shape, rng, dtype) -> ndarray`` is returned unchanged.
    **options : float
        ``std=`` for "normal", ``a=`` for "uniform".

    Returns
    -------
    callable

    Examples
    --------
    >>> import numpy as np
    >>> init = get_initializer("uniform", a=0.5)
    >>> w = init((3, 2), np.random.default_rng(0), np.float32)
    >>> w.dtype, bool(abs(w).max() <= 0.5)
    (dtype('float32'), True)
    """
    if callable(name):
        return name
    check_choice("init", name, INIT)
    allowed = {_OPTIONS[name]} if name in _OPTIONS else set()
    for key, value in options.items():
        check_choice(f"{name} initializer option", key, sorted(allowed))
        check_positive(key, value, allow_none=False)
    return partial(INIT[name], **options) if options else INIT[name]
