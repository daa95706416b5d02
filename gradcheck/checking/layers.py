"""Layer-by-layer checking: find the first wrong layer of a stack and say what is wrong.

:func:`check_layers` runs `x` forward through the stack, recording each layer's input, then
checks every layer *in isolation* on its own input with a seeded random upstream gradient
``g``: the input gradient against the scalar ``L(x) = <g, forward(x)>`` and every parameter
gradient against ``L(p) = <g, forward(x; p)>``, both with :func:`gradcheck.check_gradient`;
then a batch-independence check and, for a failing layer, the layer-aware diagnoses of
:mod:`gradcheck.diagnose.layers` and :mod:`gradcheck.diagnose.normalization`, ranked above the
array-level ones. Every call into a layer goes through
:class:`gradcheck.checking.layer_contract.LayerRunner`: a layer that breaks the contract (None, a
tuple where an array belongs, missing ``grads``, an exception in its code) gets a FAILED
verdict naming what it broke, never an exception. The per-layer work is
:func:`gradcheck.checking.layer_check.run_layer_check`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradcheck._validate import check_batch, check_choice, check_positive, check_type
from gradcheck.checking.function_pair import FunctionPairLayer, LossFunctionLayer
from gradcheck.checking.layer_check import run_layer_check, verdict_line
from gradcheck.checking.layer_contract import LayerBroken, LayerRunner
from gradcheck.checking.layer_results import LayerCheckResult, LayerReport
from gradcheck.checking.parallel import check_executor
from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.errors import InvalidTypeError

_COURSE = (FunctionPairLayer, LossFunctionLayer)

MODES = ("full", "directional")
__all__ = ["LayerCheckResult", "LayerReport", "check_layers", "layer_name", "layer_rng"]


def _validate_check_layers(layers: Any, x: Any, mode: str, seed: Any) -> tuple[list, np.ndarray]:
    check_choice("mode", mode, MODES)
    check_type("seed", seed, (int, np.integer), "an int")
    check_positive("seed", seed, allow_none=False, strict=False)
    if not isinstance(layers, Sequence) or not layers:
        raise InvalidTypeError(
            f"`layers` must be a non-empty list of layers; got {type(layers).__name__}. "
            "For an MLP pass `model.layers`."
        )
    for index, layer in enumerate(layers):
        missing = [a for a in ("params", "forward", "backward") if not hasattr(layer, a)]
        if missing:
            raise InvalidTypeError(
                f"`layers[{index}]` ({type(layer).__name__}) lacks {missing}: a layer needs "
                "`params` (dict), `forward(x)` and `backward(dout)`. Wrap other styles with "
                "gradcheck.adapters.FunctionPairLayer or MethodMappingLayer."
            )
        if not isinstance(layer.params, Mapping):
            raise InvalidTypeError(
                f"`layers[{index}].params` must be a dict name -> ndarray; got "
                f"{type(layer.params).__name__}. Wrap the layer with "
                "gradcheck.adapters.MethodMappingLayer, which names list entries '0', '1'..."
            )
    return list(layers), check_batch("x", x)


def check_layers(
    layers: Sequence[Any],
    x: np.ndarray,
    *,
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    mode: str = "full",
    directions: int = 2,
    batch_size: int | None = None,
    title: str | None = None,
    executor: Any = None,
) -> LayerCheckResult:
    """Check a stack of layers one by one; find the first wrong one and say why.

    Parameters
    ----------
    layers : sequence of layers
        Objects with ``params`` (dict name -> ndarray, may be empty; perturbed in place and
        restored exactly), ``forward(x) -> y`` and ``backward(dout) -> dx`` (which sets
        ``grads`` with the keys of ``params``), in forward order.
    x : ndarray
        A batch of inputs ``(batch, features)``; it flows forward to give each layer its input.
    seed : int
        Seeds the upstream gradients and the checker's random choices (>= 0). Each layer
        draws from its own stream (:func:`layer_rng`), independent of ``default_rng(seed)``.
    rtol, atol : float, optional
        Tolerance overrides for :func:`gradcheck.check_gradient` (default: its error model).
    mode : {"full", "directional"}
        "full" checks every entry; "directional" certifies each parameter with `directions`
        random directions and localizes wrong entries by bisection (far fewer evaluations).
    directions : int
        Random directions per parameter in "directional" mode.
    batch_size : int, optional
        Passed to the array-level diagnoses (recognizes a factor of the batch size).
    title : str, optional
        A title for the printed table and saved reports.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Spread each layer's per-entry evaluations (see :func:`gradcheck.check_gradient`).

    Returns
    -------
    LayerCheckResult
        ``.passed``, ``.first_failure`` and one :class:`LayerReport` per layer.

    Notes
    -----
    A layer is checked on the input it receives, with ``g`` drawn from a standard normal:
    ``d<g, forward(x)>/dx = backward(g)`` is the whole contract of backward, so two scalar
    checks per layer test it completely. Whether the forward mixes samples is measured by
    perturbing one sample: a mixing forward (batch norm) is reported as a note, its full
    vector-Jacobian product having been checked; otherwise an upstream gradient on one sample
    only must leave the other samples' input gradients zero. ``mixes_samples = True``
    skips the measurement, ``mixes_samples = False`` makes a mixing forward a failure.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.nn.model import MLP
    >>> model = MLP([4, 5, 3], activation="tanh")
    >>> result = check_layers(model.layers, np.random.default_rng(0).normal(size=(6, 4)))
    >>> result.passed, result.first_failure
    (True, None)
    """
    layers, x = _validate_check_layers(layers, x, mode, seed)
    options = {"rtol": rtol, "atol": atol, "seed": seed, "batch_size": batch_size}
    options["executor"] = check_executor(executor)
    if mode == "directional":
        options["directions"] = directions
    reports = []
    for index, (layer, layer_input) in enumerate(
        zip(layers, _forward_inputs(layers, x), strict=True)
    ):
        reports.append(_check_one(index, layer, layer_input, layer_rng(seed, index), options))
    return LayerCheckResult(reports, title)


def _forward_inputs(layers: list, x: np.ndarray) -> list[np.ndarray | None]:
    """Each layer's input as `x` flows forward; None after a layer whose forward broke."""
    inputs, a = [], x
    for index, layer in enumerate(layers):
        inputs.append(a)
        if a is not None:
            try:
                a = LayerRunner(layer, layer_name(layer, index)).forward(a)
            except LayerBroken:
                a = None
    return inputs


def layer_rng(seed: int, index: int) -> np.random.Generator:
    """Return the random stream of layer `index`: independent of ``default_rng(seed)``.

    A user's inputs are often ``default_rng(seed).normal(...)``; an upstream gradient drawn
    from the same stream would equal them, making ``dW = x.T @ x`` symmetric and a
    transposed ``dW`` invisible. The salt ``0x6C61`` ("la") keeps the streams apart.

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.all(layer_rng(0, 0).normal(size=3) != np.random.default_rng(0).normal(size=3)))
    True
    """
    return np.random.default_rng([seed, 0x6C61, index])


def layer_name(layer: Any, index: int) -> str:
    """Return the name reports use for `layer`: its ``name`` or ``"<Class><index>"``."""
    return str(getattr(layer, "name", None) or f"{type(layer).__name__}{index}")


def _check_one(index: int, layer: Any, x: np.ndarray | None, rng, options: dict) -> LayerReport:
    """Check one layer; a broken contract or an exception in its code is its FAILED verdict."""
    name = layer_name(layer, index)
    if x is None:
        return _report(index, name, None, _unreached(name, index))
    run = LayerRunner(layer, name)
    own_notes = getattr(layer, "notes", None) if isinstance(layer, _COURSE) else None
    if own_notes is not None:
        own_notes.clear()
    try:
        report = run_layer_check(index, name, run, x, rng, options)
    except LayerBroken as exc:
        report = _report(index, name, layer, [exc.diagnosis])
    if run.fault is not None:  # gradcheck's machinery failed (a dead program), not the layer
        raise run.fault
    notes = [*report.notes, *run.notes, *(own_notes or [])]
    return dataclasses.replace(report, notes=notes)


def _unreached(name: str, index: int) -> list[Diagnosis]:
    message = (
        f"`{name}` was not checked: a layer before it (up to #{index - 1}) broke in its "
        "forward pass, so this layer received no input. Fix that layer first."
    )
    return [Diagnosis("other", name, 1.0, message, {"unchecked": True})]


def _report(index: int, name: str, layer: Any, diagnoses: list) -> LayerReport:
    """Return the FAILED report of a layer that could not be checked numerically."""
    params = getattr(layer, "params", None) or {}
    return LayerReport(
        index=index,
        name=name,
        kind="other",
        passed=False,
        verdict=verdict_line(False, diagnoses, {}),
        diagnoses=diagnoses,
        n_params=sum(int(np.size(p)) for p in params.values()),
    )
