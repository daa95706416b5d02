"""Hypothesis strategies for gradient tests: MLP specs, parameter trees, batches, kinks.

Every strategy is a function with keyword-only ``min_``/``max_`` bounds; every argument
may be a value or a strategy for that value. Bounds are checked when the strategy is
built, with messages such as "Cannot have min_width=5 > max_width=2". Examples shrink
toward the smallest, simplest case (one layer, width 1, the first choice listed, zeros),
so a failure reads as a small counterexample such as
``MLPSpec(sizes=(1, 1), activation='identity', loss='mse', dtype='float64')``.

The array strategies live in `gradcheck.testing.array_strategies` and the argument
helpers in `gradcheck.testing._strategy_args`; all three are the only modules of gradcheck
that import hypothesis, and this one is the place to import every strategy from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from gradcheck._validate import check_choice
from gradcheck.errors import InvalidArgumentError
from gradcheck.testing._strategy_args import (
    DTYPES,
    check_bounds,
    check_int,
    check_positive_number,
    choices_of,
    draw_bounds,
    draw_value,
    finite_floats,
)
from gradcheck.testing.array_strategies import (
    arrays_away_from_kinks,
    arrays_near_kinks,
    smooth_maps,
)
from gradcheck.testing.spec import MLPSpec, SmoothMap

HIDDEN_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softplus", "relu", "leaky_relu")
LOSS_NAMES = ("mse", "cross_entropy", "binary_cross_entropy")
MAX_SEED = 2**16

__all__ = [
    "MLPSpec",
    "arrays_away_from_kinks",
    "arrays_near_kinks",
    "input_batches",
    "layer_stacks",
    "mlp_specs",
    "param_trees",
    "SmoothMap",
    "smooth_maps",
]


# ---------------------------------------------------------------- MLP specs and layers


def mlp_specs(
    *,
    min_layers: Any = 1,
    max_layers: Any = 3,
    min_width: Any = 1,
    max_width: Any = 6,
    activations: Any = HIDDEN_ACTIVATIONS,
    losses: Any = LOSS_NAMES,
    dtypes: Any = ("float64",),
) -> SearchStrategy[MLPSpec]:
    """Return a strategy for :class:`MLPSpec`: layer widths, activation, loss, dtype.

    Parameters
    ----------
    min_layers, max_layers : int or strategy
        Bounds on the number of Dense layers (``len(sizes) - 1``); ``min_layers`` >= 1,
        ``max_layers`` defaults to 3.
    min_width, max_width : int or strategy
        Bounds on every width, input and output included (``max_width`` defaults to 6).
        With ``"cross_entropy"`` the output width is at least 2.
    activations : str, sequence of str or strategy
        The hidden activation, a name from ``gradcheck.nn.activations.ACTIVATIONS``.
    losses : str, sequence of str or strategy
        The loss, a name from ``gradcheck.nn.losses.LOSSES``.
    dtypes : str, sequence of str or strategy
        ``"float64"`` and/or ``"float32"``.

    Returns
    -------
    SearchStrategy[MLPSpec]
        Shrinks toward ``min_layers`` layers of ``min_width`` (2 for cross-entropy outputs)
        and the first activation, loss and dtype listed.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(mlp_specs(activations="tanh"), lambda spec: len(spec.sizes) > 2)
    MLPSpec(sizes=(1, 1, 1), activation='tanh', loss='mse', dtype='float64')
    """
    from gradcheck.nn.activations import ACTIVATIONS
    from gradcheck.nn.losses import LOSSES

    check_bounds(min_layers, max_layers, "min_layers", "max_layers", least=1)
    check_bounds(min_width, max_width, "min_width", "max_width", least=1)
    if losses == "cross_entropy" and isinstance(max_width, int):
        _output_low(1, max_width, "cross_entropy")
    choices = (
        choices_of("activations", activations, list(ACTIVATIONS)),
        choices_of("losses", losses, list(LOSSES)),
        choices_of("dtypes", dtypes, DTYPES),
    )
    return _mlp_specs((min_layers, max_layers), (min_width, max_width), choices)


def _output_low(low: int, high: int, loss: str) -> int:
    out_low = max(low, 2) if loss == "cross_entropy" else low
    if out_low > high:
        raise InvalidArgumentError(
            f"`loss`='cross_entropy' needs an output width >= 2, but max_width={high}. "
            "Raise `max_width` or leave 'cross_entropy' out of `losses`."
        )
    return out_low


@st.composite
def _mlp_specs(draw: Any, layers: tuple, widths: tuple, choices: tuple) -> MLPSpec:
    n_layers = draw(st.integers(*draw_bounds(draw, *layers, ("min_layers", "max_layers"), 1)))
    low, high = draw_bounds(draw, *widths, ("min_width", "max_width"), 1)
    activation, loss, dtype = (draw(choice) for choice in choices)
    sizes = [draw(st.integers(low, high)) for _ in range(n_layers)]
    sizes.append(draw(st.integers(_output_low(low, high, loss), high)))
    return MLPSpec(tuple(sizes), activation, loss, dtype)


def layer_stacks(spec: Any = None, *, seed: Any = None, **spec_bounds: Any) -> SearchStrategy:
    """Return a strategy for the layer list of a reference MLP (Dense and Activation layers).

    Parameters
    ----------
    spec : MLPSpec, strategy or None
        The architecture; None draws one from ``mlp_specs(**spec_bounds)``.
    seed : int, strategy or None
        Seed of the weight initializer; None draws one in ``[0, 2**16)``, shrinking to 0.
    **spec_bounds
        Keyword arguments of :func:`mlp_specs` (``max_layers``, ``activations``...).

    Returns
    -------
    SearchStrategy[list]
        ``MLP(...).layers``: shrinks like :func:`mlp_specs`, with seed 0.

    Examples
    --------
    >>> from hypothesis import find
    >>> layers = find(layer_stacks(activations="tanh"), lambda layers: len(layers) > 1)
    >>> layers[0], [layer.name for layer in layers]
    (Dense(1, 1, name='dense1', dtype=float64), ['dense1', 'tanh1', 'dense2'])
    """
    if spec is not None and spec_bounds:
        raise InvalidArgumentError(
            f"Give either `spec` or bounds for `mlp_specs`, not both; got spec={spec!r} "
            f"and {', '.join(f'{k}=' for k in spec_bounds)}."
        )
    specs = mlp_specs(**spec_bounds) if spec is None else spec
    return _layer_stacks(specs, st.integers(0, MAX_SEED - 1) if seed is None else seed)


@st.composite
def _layer_stacks(draw: Any, spec: Any, seed: Any) -> list:
    return draw_value(draw, spec).build(seed=draw_value(draw, seed)).layers


# ---------------------------------------------------------------- arrays and trees


def param_trees(
    spec: Any = None,
    *,
    min_leaves: Any = 1,
    max_leaves: Any = 4,
    min_side: Any = 1,
    max_side: Any = 4,
    max_ndim: int = 2,
    max_abs: float = 1.0,
    dtype: str = "float64",
) -> SearchStrategy[dict]:
    """Return a strategy for parameter trees: dicts of named float arrays.

    Parameters
    ----------
    spec : MLPSpec, strategy or None
        With a spec, the tree has the MLP's paths and shapes (``"dense1.W"``...) and the
        spec's dtype; the leaf and side bounds are then unused.
    min_leaves, max_leaves : int or strategy
        Bounds on the number of leaves, named ``"a"``, ``"b"``... (``max_leaves`` <= 26).
    min_side, max_side : int or strategy
        Bounds on every axis length.
    max_ndim : int
        Leaves have 0 to `max_ndim` axes.
    max_abs : float
        Entries lie in ``[-max_abs, max_abs]``.
    dtype : str
        Dtype of the leaves without a spec.

    Returns
    -------
    SearchStrategy[dict[str, ndarray]]
        Shrinks toward ``min_leaves`` 0-d zero arrays (a spec's shapes stay fixed; its
        entries shrink toward 0).

    Examples
    --------
    >>> from hypothesis import find
    >>> find(param_trees(MLPSpec(sizes=(2, 1))), lambda tree: True)
    {'dense1.W': array([[0.],
           [0.]]), 'dense1.b': array([0.])}
    """
    check_positive_number("max_abs", max_abs)
    check_choice("dtype", dtype, DTYPES)
    if spec is not None:
        return _spec_trees(spec, max_abs)
    check_bounds(min_leaves, max_leaves, "min_leaves", "max_leaves", least=1)
    if isinstance(max_leaves, int) and max_leaves > 26:
        raise InvalidArgumentError(f"`max_leaves` must be <= 26; got max_leaves={max_leaves}.")
    check_bounds(min_side, max_side, "min_side", "max_side", least=0)
    check_int("max_ndim", max_ndim, 0)
    return _free_trees((min_leaves, max_leaves), (min_side, max_side), max_ndim, max_abs, dtype)


@st.composite
def _spec_trees(draw: Any, spec: Any, max_abs: float) -> dict:
    spec = draw_value(draw, spec)
    elements = finite_floats(max_abs, spec.dtype)
    return {
        path: draw(hnp.arrays(spec.dtype, shape, elements=elements))
        for path, shape in spec.param_shapes().items()
    }


@st.composite
def _free_trees(draw: Any, leaves: tuple, sides: tuple, max_ndim: int, max_abs, dtype) -> dict:
    n = draw(st.integers(*draw_bounds(draw, *leaves, ("min_leaves", "max_leaves"), 1)))
    low, high = draw_bounds(draw, *sides, ("min_side", "max_side"), 0)
    shapes = hnp.array_shapes(min_dims=0, max_dims=max_ndim, min_side=low, max_side=high)
    elements = finite_floats(max_abs, dtype)
    return {
        chr(ord("a") + i): draw(hnp.arrays(dtype, draw(shapes), elements=elements))
        for i in range(n)
    }


def input_batches(
    spec: Any, *, min_batch: Any = 1, max_batch: Any = 4, max_abs: float = 2.0
) -> SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Return a strategy for ``(x, target)`` batches that fit a spec's input and loss.

    Parameters
    ----------
    spec : MLPSpec or strategy
        The architecture: ``x`` is ``(batch, sizes[0])``; the target suits ``spec.loss``
        (float array for mse, int labels for cross_entropy, 0/1 array for
        binary_cross_entropy).
    min_batch, max_batch : int or strategy
        Bounds on the batch size (``max_batch`` defaults to 4).
    max_abs : float
        Inputs lie in ``[-max_abs, max_abs]``.

    Returns
    -------
    SearchStrategy[tuple[ndarray, ndarray]]
        Shrinks toward ``min_batch`` rows of zeros and target 0.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(input_batches(MLPSpec(sizes=(3, 2), loss="cross_entropy")), lambda xy: True)
    (array([[0., 0., 0.]]), array([0]))
    """
    check_positive_number("max_abs", max_abs)
    check_bounds(min_batch, max_batch, "min_batch", "max_batch", least=1)
    return _input_batches(spec, (min_batch, max_batch), max_abs)


@st.composite
def _input_batches(draw: Any, spec: Any, batch: tuple, max_abs: float) -> tuple:
    spec = draw_value(draw, spec)
    n = draw(st.integers(*draw_bounds(draw, *batch, ("min_batch", "max_batch"), 1)))
    k = spec.sizes[-1]
    x = draw(
        hnp.arrays(spec.dtype, (n, spec.sizes[0]), elements=finite_floats(max_abs, spec.dtype))
    )
    targets = {
        "mse": lambda: hnp.arrays(spec.dtype, (n, k), elements=finite_floats(1.0, spec.dtype)),
        "cross_entropy": lambda: hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)),
        "binary_cross_entropy": lambda: hnp.arrays(
            spec.dtype, (n, k), elements=st.sampled_from([0, 1])
        ),
    }
    return x, draw(targets[spec.loss]())
