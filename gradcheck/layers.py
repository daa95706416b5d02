"""Layer-by-layer checking: find the first wrong layer of a stack and say what is wrong.

:func:`check_layers` runs `x` forward through the stack, recording each layer's input, then
checks every layer *in isolation* on its own input with a seeded random upstream gradient
``g``: the input gradient against the scalar ``L(x) = <g, forward(x)>`` and every parameter
gradient against ``L(p) = <g, forward(x; p)>``, both with :func:`gradcheck.check_gradient`;
then a batch-independence check and, for a failing layer, the layer-aware diagnoses of
:mod:`gradcheck.layer_diagnose`, ranked above the array-level ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradcheck import layer_diagnose as ld
from gradcheck._validate import check_batch, check_choice, check_positive, check_type
from gradcheck.batch_independence import batch_mixing
from gradcheck.check import check_gradient
from gradcheck.diagnose import Diagnosis
from gradcheck.errors import (
    InvalidTypeError,
    MutationError,
    NondeterministicError,
)
from gradcheck.layer_results import LayerCheckResult, LayerReport
from gradcheck.results import GradientReport

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

    Returns
    -------
    LayerCheckResult
        ``.passed``, ``.first_failure`` and one :class:`LayerReport` per layer.

    Notes
    -----
    A layer is checked on the input it receives, with ``g`` drawn from a standard normal:
    ``d<g, forward(x)>/dx = backward(g)`` is the whole contract of backward, so two scalar
    checks per layer test it completely. Batch independence perturbs one sample and sends an
    upstream gradient on one sample only; layers with ``mixes_samples = True`` skip it.

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
    if mode == "directional":
        options["directions"] = directions
    reports = []
    for index, (layer, layer_input) in enumerate(
        zip(layers, _forward_inputs(layers, x), strict=True)
    ):
        reports.append(_check_one(index, layer, layer_input, layer_rng(seed, index), options))
    return LayerCheckResult(reports, title)


def _forward_inputs(layers: list, x: np.ndarray) -> list[np.ndarray]:
    inputs, a = [], x
    for layer in layers:
        inputs.append(np.array(a))
        a = layer.forward(a)
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


def _check_one(index: int, layer: Any, x: np.ndarray, rng, options: dict) -> LayerReport:
    name = layer_name(layer, index)
    y = np.asarray(layer.forward(x.copy()))  # copies: a layer may overwrite its input
    g = rng.standard_normal(y.shape)  # float64 even for float32 layers: exact analytic values
    dx = layer.backward(g)
    grads = {k: np.array(v) for k, v in dict(getattr(layer, "grads", {}) or {}).items()}
    problems = ld.shape_problems(name, layer.params, x, g, dx, grads)
    problems = problems or ld.repeat_problems(name, layer, x, y, g, grads)
    checks = _run_checks(name, layer, x, g, problems, options)
    independent = None
    if not getattr(layer, "mixes_samples", False) and len(x) > 1 and not problems:
        mixing = batch_mixing(name, layer, x, g, rng)
        independent = mixing is None
        problems += [mixing] if mixing else []
    failed = bool(problems) or not all(r.passed for r in checks.values() if r is not None)
    kind, specific = _layer_kind_and_diagnoses(name, layer, x, y, g, dx, grads, failed, rng)
    diagnoses = _ranked(problems + specific, checks, name)
    return LayerReport(
        index=index,
        name=name,
        kind=kind,
        passed=not failed,
        verdict=_verdict(not failed, diagnoses, checks),
        diagnoses=diagnoses,
        input_gradient=checks.get("x"),
        param_reports=checks.get("params"),
        batch_independent=independent,
        n_params=sum(int(np.size(p)) for p in layer.params.values()),
    )


def _run_checks(name, layer, x, g, problems, options) -> dict[str, GradientReport | None]:
    """Run the input and parameter checks; a refusal of the checker becomes a problem."""
    bad = {d.path.rsplit(".", 1)[-1] for d in problems}
    checks: dict[str, GradientReport | None] = {"x": None, "params": None}
    todo = {"x": _check_input, "params": _check_params if layer.params else None}
    for key, check in todo.items():
        if check is None or (bad - {"x"} if key == "params" else "x" in bad):
            continue
        try:
            checks[key] = check(layer, x, g, options)
        except (NondeterministicError, MutationError) as exc:
            kind = "nondeterministic" if isinstance(exc, NondeterministicError) else "other"
            problems.append(Diagnosis(kind, f"{name}.{key}", 1.0, f"`{name}`: {exc}", {}))
    return checks


def _inner(g: np.ndarray, y: Any, *dtypes: Any) -> np.floating:
    """``<g, y>`` summed in float64, returned in the least precise dtype of `y` and `dtypes`.

    The checker evaluates in float64 only when the loss answers in float64: a layer that
    computes (or stores its parameters) in float32 must say so, or its steps are lost.
    """
    y = np.asarray(y)
    narrowest = min((np.dtype(d) for d in (y.dtype, *dtypes)), key=lambda d: d.itemsize)
    total = np.sum(g.astype(np.float64) * y.astype(np.float64))
    return total.astype(narrowest if narrowest.kind == "f" else np.float64)


def _check_input(layer, x, g, options) -> GradientReport:
    def loss(tree):
        return _inner(g, layer.forward(tree["x"]))

    def grad(tree):
        layer.forward(tree["x"])
        return {"x": np.array(layer.backward(g))}

    return check_gradient(loss, grad, {"x": np.array(x)}, progress=False, **options)


def _check_params(layer, x, g, options) -> GradientReport:
    live = layer.params
    saved = {key: np.array(value) for key, value in live.items()}

    def load(tree):
        for key, value in live.items():
            value[...] = tree[key]

    def loss(tree):
        load(tree)
        return _inner(g, layer.forward(x.copy()), *(value.dtype for value in live.values()))

    def grad(tree):
        load(tree)
        layer.forward(x.copy())
        layer.backward(g)
        return {key: np.array(layer.grads[key]) for key in live}

    try:
        return check_gradient(
            loss, grad, {k: v.copy() for k, v in saved.items()}, progress=False, **options
        )
    finally:
        for key, value in live.items():
            value[...] = saved[key]


def _layer_kind_and_diagnoses(name, layer, x, y, g, dx, grads, failed, rng) -> tuple[str, list]:
    parts = ld.dense_parts(layer.params, x, y) if layer.params else None
    if parts is not None:
        found = ld.dense_diagnoses(name, parts, layer.params, x, g, dx, grads) if failed else []
        return "dense", found
    if layer.params or x.ndim != 2:
        return "other", []
    coupling = ld.probe_coupling(layer.forward, x, rng)
    if not failed:
        return ("elementwise" if coupling == "elementwise" else "other"), []
    if coupling == "elementwise":
        return "elementwise", ld.elementwise_diagnoses(name, layer.forward, x, g, dx)
    if coupling == "rowwise":
        return "other", ld.rowwise_diagnoses(name, layer.forward, x, g, dx)
    return "other", []


def _ranked(specific: list, checks: dict, name: str) -> list[Diagnosis]:
    arrays = []
    for report in (checks.get("x"), checks.get("params")):
        for d in getattr(report, "diagnoses", None) or []:
            path = f"{name}.{d.path}" if d.path else name
            message = d.message.replace(f"`{d.path}`", f"`{path}`") if d.path else d.message
            arrays.append(dataclasses.replace(d, path=path, message=message))
    ranked, seen = [], set()
    for d in [*specific, *arrays]:
        if (d.kind, d.path) not in seen:
            seen.add((d.kind, d.path))
            ranked.append(d)
    return ranked


def _verdict(passed: bool, diagnoses: list, checks: dict) -> str:
    if passed:
        return "ok"
    if diagnoses:
        top = diagnoses[0]
        words = top.message.removeprefix(f"`{top.path}`: ").removeprefix(f"`{top.path}` ")
        short = words if len(words) <= 90 else words[:90].rsplit(" ", 1)[0] + " ..."
        return f"{top.kind} at {top.path}: {short}"
    wrong = [r for r in checks.values() if r is not None and not r.passed]
    paths = sorted({f.path for r in wrong for f in r.failures})
    return f"wrong gradient for {', '.join(paths) or 'this layer'}"
