"""The check of one layer: contract, gradients, batch mixing measured, diagnoses ranked.

:func:`run_layer_check` is the body of :func:`gradcheck.check_layers` for one layer. Every
call into the layer goes through a :class:`gradcheck.checking.layer_contract.LayerRunner` (private
copies, validated returns). The input gradient and the parameter gradients are checked
against ``<g, forward(x)>`` with :func:`gradcheck.check_gradient`. Whether the forward mixes
samples is measured (:mod:`gradcheck.checking.batch_independence`): a mixing forward is information
(its full vector-Jacobian product was checked), mixing in the backward alone is the bug.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from gradcheck._vocab import worst_status
from gradcheck.checking import batch_independence as bi
from gradcheck.checking.gradient import check_gradient
from gradcheck.checking.gradient_results import GradientReport
from gradcheck.checking.layer_contract import LayerBroken, LayerRunner, broken, check_params
from gradcheck.checking.layer_results import LayerReport
from gradcheck.checking.parallel import PARALLEL_ERRORS
from gradcheck.diagnose import layers as ld
from gradcheck.diagnose import normalization as nd
from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.diagnose.shapes import repeat_problems, shape_problems
from gradcheck.errors import GradcheckError, NondeterministicError


@dataclasses.dataclass
class _Run:
    """What one layer's first forward/backward gave, and what its checks found."""

    name: str
    run: LayerRunner
    x: np.ndarray
    y: np.ndarray
    g: np.ndarray
    dx: np.ndarray | None
    grads: dict
    problems: list
    notes: list = dataclasses.field(default_factory=list)
    independent: bool | None = None
    forward_mixing: bi.Mixing | None = None


def run_layer_check(
    index: int, name: str, run: LayerRunner, x: np.ndarray, rng, options: dict
) -> LayerReport:
    """Check one layer on its input `x` (see the module docstring); raises LayerBroken."""
    layer = run.layer
    check_params(layer, name)
    y = _finite(run.forward(x), run.label("forward"), f"{name}.forward")
    g = rng.standard_normal(y.shape)  # float64 even for float32 layers: exact analytic values
    dx = run.backward(g, x.shape)
    dx = None if dx is None else _finite(dx, run.label("backward"), f"{name}.x")
    grads = run.grads()
    problems = shape_problems(name, layer.params, x, g, dx, grads, run.label("backward"))
    problems = problems or repeat_problems(name, run, x, y, g, grads)
    state = _Run(name, run, x, y, g, dx, grads, problems)
    if not problems:
        _measure_mixing(state, rng)
    checks = _run_checks(state, options)
    status = _layer_status(state.problems, checks)
    failed = status != "passed"
    # an inconclusive layer is diagnosed too: a flat forward is why its check cannot decide
    kind, specific = _kind_and_diagnoses(state, failed, checks, rng)
    diagnoses = nd.name_scales(_ranked(state.problems + specific, checks, name), x, y)
    return LayerReport(
        index=index,
        name=name,
        kind=kind,
        passed=not failed,
        verdict=verdict_line(not failed, diagnoses, checks),
        status=status,
        diagnoses=diagnoses,
        input_gradient=checks.get("x"),
        param_reports=checks.get("params"),
        batch_independent=state.independent,
        n_params=sum(int(np.size(p)) for p in layer.params.values()),
        notes=state.notes,
    )


def _layer_status(problems: list, checks: dict) -> str:
    """Return the layer's outcome: failed, inconclusive or passed.

    A broken contract or a wrong gradient fails the layer; a check that cannot decide (and
    nothing wrong) leaves it inconclusive.
    """
    statuses = [r.status for r in checks.values() if r is not None]
    return "failed" if problems else worst_status(statuses)


def _finite(array: np.ndarray, label: str, path: str) -> np.ndarray:
    """Return `array`, or raise LayerBroken when it holds NaN/Inf (nothing to compare)."""
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise broken(path, f"{label} returned {bad} NaN/Inf value(s) on this input.")
    return array


def _measure_mixing(state: _Run, rng) -> None:
    """Measure whether the forward mixes samples; mixing only in the backward is a problem."""
    declared = getattr(state.run.layer, "mixes_samples", None)
    if declared is True or min(np.ndim(state.y), np.ndim(state.x)) < 1 or len(state.x) < 2:
        return
    found = bi.forward_mixing(state.run.forward, state.x, rng)
    if found is not None:
        state.independent = False
        if declared is False:
            state.problems.append(bi.mixing_diagnosis(state.name, found))
            return
        state.forward_mixing = found
        state.notes.append(
            f"`{state.name}` mixes samples in its forward pass (batch statistics): its "
            "backward was checked with the full vector-Jacobian product, cross-sample terms "
            "included."
        )
        return
    found = bi.backward_mixing(_vjp(state), state.x, state.g, rng)
    state.independent = found is None
    if found is not None:
        state.problems.append(bi.mixing_diagnosis(state.name, found))


def _vjp(state: _Run):
    def vjp(g):
        state.run.forward(state.x)
        return state.run.backward(g, state.x.shape)

    return vjp


def _run_checks(state: _Run, options: dict) -> dict[str, GradientReport | None]:
    """Run the input and parameter checks; a refusal of the checker becomes a problem."""
    bad = {d.path.rsplit(".", 1)[-1] for d in state.problems}
    checks: dict[str, GradientReport | None] = {"x": None, "params": None}
    todo = {"x": _check_input, "params": _check_params if state.run.layer.params else None}
    for key, check in todo.items():
        if check is None or (bad - {"x"} if key == "params" else "x" in bad):
            continue
        try:
            checks[key] = check(state, options)
            if state.run.fault is not None:  # swallowed by the checker: not the layer's fault
                raise state.run.fault
        except (LayerBroken, *PARALLEL_ERRORS):  # the machinery's failures, not the layer's
            raise
        except NondeterministicError as exc:
            message = f"{state.run.label('forward')}: {_in_user_terms(exc, state)}"
            state.problems.append(Diagnosis("nondeterministic", state.name, 1.0, message, {}))
        except GradcheckError as exc:
            message = f"`{state.name}`: the {key} check stopped: {_in_user_terms(exc, state)}"
            state.problems.append(Diagnosis("other", f"{state.name}.{key}", 1.0, message, {}))
    return checks


def _in_user_terms(exc: Exception, state: _Run) -> str:
    """Reword a checker message about its internal `loss`/`grad` in terms of the layer."""
    forward = f"{state.run.label('forward')} (through <g, forward(x)>)"
    text = str(exc)
    for internal, user in (
        ("`loss(params)`", forward),
        ("`grad(params)`", state.run.label("backward")),
        ("`loss`", forward),
        ("`grad`", state.run.label("backward")),
        ("the bare parameter", "the layer's input"),
    ):
        text = text.replace(internal, user)
    return text


def _inner(g: np.ndarray, y: Any, *dtypes: Any) -> np.floating:
    """``<g, y>`` summed in float64, returned in the least precise dtype of `y` and `dtypes`.

    The checker evaluates in float64 only when the loss answers in float64: a layer that
    computes (or stores its parameters) in float32 must say so, or its steps are lost.
    """
    y = np.asarray(y)
    narrowest = min((np.dtype(d) for d in (y.dtype, *dtypes)), key=lambda d: d.itemsize)
    total = np.sum(g.astype(np.float64) * y.astype(np.float64))
    return total.astype(narrowest if narrowest.kind == "f" else np.float64)


def _check_input(state: _Run, options: dict) -> GradientReport:
    run, g = state.run, state.g

    def loss(tree):
        return _inner(g, run.forward(tree["x"]))

    def grad(tree):
        run.forward(tree["x"])
        return {"x": run.backward(g, state.x.shape)}

    return check_gradient(loss, grad, {"x": np.array(state.x)}, progress=False, **options)


def _check_params(state: _Run, options: dict) -> GradientReport:
    run, live = state.run, state.run.layer.params
    saved = {key: np.array(value) for key, value in live.items()}

    def load(tree):
        for key, value in live.items():
            value[...] = tree[key]

    def loss(tree):
        load(tree)
        return _inner(state.g, run.forward(state.x), *(value.dtype for value in live.values()))

    def grad(tree):
        load(tree)
        run.forward(state.x)
        run.backward(state.g, state.x.shape)
        return {key: np.array(run.grads()[key]) for key in live}

    try:
        return check_gradient(
            loss, grad, {k: v.copy() for k, v in saved.items()}, progress=False, **options
        )
    finally:
        for key, value in live.items():
            value[...] = saved[key]


def _kind_and_diagnoses(state: _Run, failed: bool, checks: dict, rng) -> tuple[str, list]:
    """Return the layer's kind and its layer-aware diagnoses (best effort)."""
    try:
        kind, found = _layer_kind(state, failed, rng)
        if failed:
            suspects = nd.forward_suspects(state.name, state.run, state.x, state.g, state.dx)
            found = suspects + found + ld.unused_inputs(state.name, checks.get("x"))
        return kind, found
    except Exception:  # noqa: BLE001 -- a probe that does not apply to this layer
        if state.run.fault is not None:
            raise state.run.fault from None
        return "other", []


def _layer_kind(state: _Run, failed: bool, rng) -> tuple[str, list]:
    params, x, y, forward = state.run.layer.params, state.x, state.y, state.run.forward
    parts = ld.dense_parts(params, x, y) if params else None
    if parts is not None:
        found = ld.dense_diagnoses(state.name, parts, params, x, state.g, state.dx, state.grads)
        return "dense", found if failed else []
    if state.forward_mixing is not None:
        return "batch-mixing", _mixing_diagnoses(state, rng) if failed else []
    if params or x.ndim != 2:
        return "other", []
    coupling = ld.probe_coupling(forward, x, rng)
    kind = "elementwise" if coupling == "elementwise" else "other"
    if not failed:
        return kind, []
    if coupling == "elementwise":
        return kind, ld.elementwise_diagnoses(state.name, forward, x, state.g, state.dx)
    if coupling == "rowwise":
        return kind, ld.rowwise_diagnoses(state.name, forward, x, state.g, state.dx)
    return kind, []


def _mixing_diagnoses(state: _Run, rng) -> list[Diagnosis]:
    """Diagnose a mixing forward whose backward failed: dropped coupling, normalization."""
    found = nd.normalization_diagnoses(state.name, state.run.forward, state.x, state.g, state.dx)
    if found or bi.backward_mixing(_vjp(state), state.x, state.g, rng) is not None:
        return found
    return [bi.coupling_dropped(state.name, state.forward_mixing)]


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


def verdict_line(passed: bool, diagnoses: list, checks: dict) -> str:
    """Return the one-line verdict of a layer: "ok" or the top diagnosis, shortened."""
    if passed:
        return "ok"
    statuses = {r.status for r in checks.values() if r is not None}
    if "failed" not in statuses and "inconclusive" in statuses and not diagnoses:
        items = [item for r in checks.values() if r is not None for item in r.inconclusive]
        return f"inconclusive at {items[0].path}: {items[0].reason}" if items else "inconclusive"
    if diagnoses:
        top = diagnoses[0]
        words = top.message.removeprefix(f"`{top.path}`: ").removeprefix(f"`{top.path}` ")
        short = words if len(words) <= 90 else words[:90].rsplit(" ", 1)[0] + " ..."
        return f"{top.kind} at {top.path}: {short}"
    wrong = [r for r in checks.values() if r is not None and not r.passed]
    paths = sorted({f.path for r in wrong for f in r.failures})
    return f"wrong gradient for {', '.join(paths) or 'this layer'}"
