"""Before any difference: choose the evaluation dtype, vet the user's functions, measure noise.

:func:`prepare` evaluates the loss twice (nondeterminism raises), the gradient twice
(a change means accumulation: a diagnosis, not an error), compares the private copy with
the caller's arrays after each call (mutation raises, naming the paths) and measures the
rounding noise of the loss along a short line. :func:`recheck` repeats the determinism
and mutation checks after the sweep, before any verdict.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradcheck import tree as tr
from gradcheck.diagnose.arrays import accumulation_diagnosis, nondeterministic_diagnosis
from gradcheck.errors import (
    GradcheckError,
    InvalidArgumentError,
    InvalidTypeError,
    MutationError,
    NondeterministicError,
    at_path,
)
from gradcheck.numeric import estimates as est
from gradcheck.numeric import precision as prec
from gradcheck.numeric.differences import Evaluator, support_values
from gradcheck.numeric.directions import directional_difference, random_signs
from gradcheck.numeric.entries import Context, complex_steps, with_scale
from gradcheck.numeric.stencils import STENCILS
from gradcheck.numeric.steps import base_step, dtype_eps

#: Relative steps of the precision probe: large enough to move a float16 or float32 loss.
#: Their ratios are irrational (about 1/5, jittered by multiples of sqrt(2)): a loss that
#: is linear along the probe must not show gaps that are whole multiples of one another.
PRECISION_STEPS = 5e-3 * 0.2 ** np.arange(6) * (1 + 0.3 * ((np.arange(6) * np.sqrt(2)) % 1))
#: How much longer the line is measured again when the loss does not change along it.
NOISE_STRETCH = 64.0
#: Offsets (in units of the central step, or 16 ulps if larger) of the line along which the
#: noise is measured: so short that it crosses no kink in practice (curvature is removed).
#: Centred one step away from x (see _measured_noise) and irregularly spaced (a cubic Weyl
#: jitter of up to 0.35 step: gaps of many lengths), so that quantized rounding of a nearly
#: linear loss does not repeat along the line as it does at equal spacing (a moire).
_K = np.delete(np.arange(-12, 13), 12)
NOISE_LINE = (_K + 0.35 * (2 * ((_K**3 * np.sqrt(2.0)) % 1.0) - 1)) * 1e-6


class Setup(NamedTuple):
    """Everything the sweep needs, and what the report says about the evaluation."""

    copy: tr.PrivateCopy
    leaves: dict
    evaluator: Evaluator
    ctx: Context
    analytic: dict
    accumulation: list
    originals: dict
    dtype: str
    evaluated_dtype: str
    notes: list
    others: list  # further evaluators (trial in float64, complex) for the count
    precision: str = "float64"  # the working precision the error model assumes
    precision_reason: str = ""

    @property
    def n_evaluations(self) -> int:
        """Loss evaluations made so far."""
        return self.evaluator.count + sum(getattr(o, "count", o) for o in self.others)


def _loss_dtype(value: Any) -> np.dtype | None:
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if dtype is not None else None


def _choose_copy(args) -> tuple[tr.PrivateCopy, list[str], int]:
    """Return the private copy (float64 when the loss allows), notes and trial evaluations."""
    native = np.result_type(*[leaf.dtype for leaf in args.leaves.values()])
    if native == np.float64 or not np.issubdtype(native, np.floating):
        return tr.PrivateCopy(args.params), [], 0
    wide = tr.PrivateCopy(args.params, dtype=np.float64)
    try:
        value = args.loss(wide.tree)
    except Exception as exc:  # any failure means: evaluate as the user does
        reason = f"`loss` raised {type(exc).__name__} on float64 parameters"
    else:
        dtype = _loss_dtype(value)
        if dtype is None or dtype == np.float64:
            note = f"{native} parameters were evaluated in float64 (more exact differences)"
            return wide, [note], 1
        reason = f"`loss` returned {dtype} for float64 parameters"
    note = f"evaluated in {native}: {reason}; steps and noise use {native}'s epsilon"
    return tr.PrivateCopy(args.params), [note], 1


def _check_mutation(copy: tr.PrivateCopy, originals: dict, who: str) -> None:
    changed = copy.changed_paths(originals)
    if changed:
        names = ", ".join(at_path(p) for p in changed)
        raise MutationError(
            f"`{who}` changed the parameters it was given: {names}. gradcheck passes a "
            f"private copy, but {who} must not modify its input; copy inside `{who}` "
            "(e.g. `W = W.copy()`) or remove the in-place update."
        )


def _nondeterministic(first: float, second: float, when: str) -> NondeterministicError:
    diagnosis = nondeterministic_diagnosis(first, second)
    error = NondeterministicError(
        f"`loss` returned {first!r} and then {second!r} for the same parameters ({when}). "
        f"{diagnosis.message}"
    )
    error.diagnosis = diagnosis
    error.diagnoses = [diagnosis]
    return error


def _deterministic_f0(ev: Evaluator, originals: dict) -> float:
    first = ev()
    _check_mutation(ev.copy, originals, "loss")
    second = ev()
    if first != second:
        raise _nondeterministic(first, second, "two calls in a row")
    return first


def _grad_leaves(args, copy: tr.PrivateCopy) -> dict[str, np.ndarray]:
    received = tr.check_same_tree(args.params, args.grad(copy.tree), "grad")
    for path, g in received.items():
        if not (np.issubdtype(g.dtype, np.number) or g.dtype == bool):
            raise InvalidTypeError(
                f"`grad` for {at_path(path)} has dtype {g.dtype}; expected a float array "
                f"of shape {g.shape}. Return numbers (e.g. `np.asarray(g, dtype=float)`)."
            )
    return {path: np.array(g, copy=True) for path, g in received.items()}


def _same(first: np.ndarray, second: np.ndarray) -> bool:
    if np.array_equal(first, second, equal_nan=True):
        return True
    rtol = 16 * dtype_eps(np.result_type(first.dtype, np.float32))
    return bool(np.allclose(first, second, rtol=rtol, atol=0.0, equal_nan=True))


def _analytic(args, copy: tr.PrivateCopy) -> tuple[dict, list, np.dtype]:
    first = _grad_leaves(args, copy)
    second = _grad_leaves(args, copy)
    accumulation = [
        accumulation_diagnosis(path, first[path], second[path])
        for path in first
        if not _same(first[path], second[path])
    ]
    floats = [g.dtype for g in first.values() if np.issubdtype(g.dtype, np.inexact)]
    coarsest = max(floats, key=dtype_eps, default=np.dtype(np.float64))
    analytic = {path: np.real(g).astype(np.float64) for path, g in first.items()}
    return analytic, accumulation, np.dtype(coarsest)


def _largest(leaves: dict) -> str:
    return max(leaves, key=lambda path: leaves[path].size)


def _line_values(ev: Evaluator, leaf: np.ndarray, direction, h: float, stretch: float):
    flat = leaf.reshape(-1)
    center = flat + h * direction
    rows = [(center + t * stretch * h * direction).astype(leaf.dtype) for t in NOISE_LINE]
    return np.array(support_values(ev, leaf, np.arange(flat.size), rows))


def _measured_noise(ev: Evaluator, copy: tr.PrivateCopy, eps, rng, dtype) -> float:
    """Measure the loss noise along a short line; lengthen it once if the loss looks flat.

    The line is centred one step away from ``x`` (at ``x + h d``), where the differences
    evaluate the loss: there the terms moved by a step are present, and round, even when
    they vanish at ``x`` itself (a zero input, a dead unit). When most neighbouring values
    are equal, the line moved the loss by less than its rounding quantum (a small loss
    next to large terms that cancel): the noise is invisible, so the line is measured
    again ``NOISE_STRETCH`` times longer.
    """
    leaf = copy.leaves[_largest(copy.leaves)]
    direction = random_signs(rng, leaf.size) * np.maximum(1.0, np.abs(leaf.reshape(-1)))
    h = max(base_step(dtype, 2, eps), 16 * dtype_eps(dtype) / NOISE_LINE[-1])
    for shrink in (1.0, 2.0**-6, 2.0**-12, 2.0**-18):  # near a domain edge: shorter lines
        values = _line_values(ev, leaf, direction, h * shrink, 1.0)
        if np.isfinite(values).all() and not est.resolves_rounding(values):
            values = _line_values(ev, leaf, direction, h * shrink, NOISE_STRETCH)
        if np.isfinite(values).all():
            return est.measure_noise(values, NOISE_LINE), values
    return 0.0, values  # no finite line: the noise model rests on eps * |f| and the floor


def _precision_values(ev: Evaluator, copy: tr.PrivateCopy, rng, analytic: dict):
    """Return the loss along a line at relative steps `PRECISION_STEPS` (NaN outside).

    Also returns the change the gradient predicts at the longest step (0 when the
    direction is one along which the loss is flat, e.g. signs that cancel).
    """
    path = _largest(copy.leaves)
    leaf = copy.leaves[path]
    flat = leaf.reshape(-1)
    direction = random_signs(rng, leaf.size) * np.maximum(1.0, np.abs(flat.real))
    rows = [(flat + s * direction).astype(leaf.dtype) for s in PRECISION_STEPS]
    values = np.array(support_values(ev, leaf, np.arange(flat.size), rows), dtype=float)
    slope = np.nan_to_num(analytic[path].reshape(-1), posinf=0.0, neginf=0.0) @ direction
    return values, PRECISION_STEPS[0] * abs(float(slope))


def _working_precision(args, copy, ev, analytic, analytic_dtype, f0, rng):
    """Return the loss's precision, the gradient's (or the parameters') and values seen.

    The loss's precision sets the steps and the loss's rounding; the coarser of the
    gradient's and the parameters' sets the analytic gradient's rounding (a gradient of
    float32 parameters may have been computed in float32 and cast).
    """
    native = np.result_type(*[leaf.dtype for leaf in args.leaves.values()])
    params = prec.Precision(np.dtype(native), f"the parameters are {prec.dtype_name(native)}")
    evaluated = np.result_type(*[leaf.dtype for leaf in copy.leaves.values()])
    declared = max((np.dtype(evaluated), _loss_dtype_seen(ev)), key=dtype_eps)
    probe, expected = _precision_values(ev, copy, rng, analytic)
    values = np.append(probe, f0)
    loss = prec.of_loss(declared, values)
    flat_x = np.concatenate([np.real(v).reshape(-1) for v in args.leaves.values()])
    flat_g = np.concatenate([g.reshape(-1) for g in analytic.values()])
    gradient = prec.of_gradient(np.dtype(analytic_dtype), flat_g, flat_x.astype(float))
    return loss, prec.coarsest(params, gradient), values, expected


def _finite_max(values: np.ndarray) -> float:
    magnitude = np.abs(values)
    return float(np.max(magnitude[np.isfinite(magnitude)], initial=0.0))


def _quantum(values: np.ndarray, eps: float, expected: float, f0: float) -> float:
    """Return the loss's quantum (0: not rounded; inf: it never moved, though it should).

    `expected` is the change the gradient predicts along the precision probe. A loss
    that takes only a few values is read as rounded only when that change is resolvable
    (a flat region, e.g. a dead ReLU, takes few values too).
    """
    finite = values[np.isfinite(values)]
    moves = expected > 1e3 * eps * max(abs(f0), _finite_max(finite), 1e-300)
    q = prec.quantum(values, eps, few_levels=moves)
    if not q and moves and np.unique(finite).size == 1:
        return float("inf")
    return q


def _quantum_reason(q: float) -> str:
    if np.isinf(q):
        return "its value never changed along probes that should have moved it"
    return f"its values are rounded to multiples of {q:.3g}"


def prepare(args) -> Setup:
    """Vet the user's functions and build the evaluation context (see module docstring)."""
    copy, notes, trial = _choose_copy(args)
    originals = {p: np.array(leaf, dtype=copy.leaves[p].dtype) for p, leaf in args.leaves.items()}
    _check_mutation(copy, originals, "loss")
    ev = Evaluator(args.loss, copy)
    f0 = _deterministic_f0(ev, originals)
    ev.finite_only = False  # beyond the checked point a NaN means: outside the domain
    analytic, accumulation, analytic_dtype = _analytic(args, copy)
    _check_mutation(copy, originals, "grad")
    rng = np.random.default_rng(args.seed)
    ctx, working, note = _noise_model(args, copy, ev, analytic, analytic_dtype, f0, rng)
    notes.extend(note)
    setup = Setup(
        copy=copy,
        leaves=copy.leaves,
        evaluator=ev,
        ctx=ctx,
        analytic=analytic,
        accumulation=accumulation,
        originals=originals,
        dtype=str(np.result_type(*[leaf.dtype for leaf in args.leaves.values()])),
        evaluated_dtype=str(np.result_type(*[leaf.dtype for leaf in copy.leaves.values()])),
        notes=notes,
        others=[trial],
        precision=prec.dtype_name(working.dtype),
        precision_reason=working.reason,
    )
    if STENCILS[args.method].complex_step:
        setup = _complex_setup(args, setup, rng)
    return setup


def _noise_model(args, copy, ev, analytic, analytic_dtype, f0, rng) -> tuple[Context, Any, list]:
    """Measure the working precision and the loss noise; return the context and its note."""
    working, analytic_prec, seen, expected = _working_precision(
        args, copy, ev, analytic, analytic_dtype, f0, rng
    )
    eps_eval = dtype_eps(working.dtype)
    evaluated = np.result_type(*[leaf.dtype for leaf in copy.leaves.values()])
    measured, line = _measured_noise(ev, copy, args.eps, rng, working.dtype)
    q = _quantum(np.concatenate([seen, line]), eps_eval, expected, f0)
    if q:
        working = working._replace(reason=f"{working.reason}; {_quantum_reason(q)}")
    ctx = Context(
        evaluate=ev,
        f0=f0,
        sigma=est.loss_noise(np.array([f0]), eps_eval, max(measured, q / 2), working.dtype),
        eps_analytic=dtype_eps(analytic_prec.dtype),
        eps=args.eps,
        gradient_scale=max(_finite_max(a) for a in analytic.values()),
        eps_eval=eps_eval,
        tiny_analytic=float(np.finfo(analytic_dtype).smallest_subnormal),
        step_dtype=working.dtype,
    )
    working = prec.coarsest(working, analytic_prec)
    note = []
    if working.dtype != np.dtype(evaluated) or q:
        note.append(f"assumed {prec.dtype_name(working.dtype)} precision: {working.reason}")
    return ctx, working, note


def _loss_dtype_seen(ev: Evaluator) -> np.dtype:
    seen = ev.last_type
    if seen is not None and issubclass(seen, np.floating):
        return np.dtype(seen)
    return np.dtype(np.float64)


def _complex_setup(args, setup: Setup, rng) -> Setup:
    complex_dtype = np.result_type(np.dtype(setup.evaluated_dtype), np.complex64)
    ccopy = tr.PrivateCopy(args.params, dtype=complex_dtype)
    cev = Evaluator(args.loss, ccopy)
    try:
        cev.complex_value()
    except GradcheckError:
        raise
    except Exception as exc:
        raise _not_complex_safe(f"`loss` raised {type(exc).__name__}: {exc}") from exc
    cev.finite_only = False  # beyond the checked point a NaN means: outside the domain
    _check_complex_agrees(setup, ccopy, cev, rng)
    ctx = setup.ctx._replace(imag=cev.imag)
    return setup._replace(leaves=ccopy.leaves, ctx=ctx, others=[*setup.others, cev])


def _not_complex_safe(why: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"`method`='complex' needs a complex-safe loss, and this one is not: {why}. "
        "Complex-step differences are wrong for code that uses abs(), np.maximum, .real, "
        "conj() or casts to float. Use method='richardson' (nearly as exact) or 'central'."
    )


def _check_complex_agrees(setup: Setup, ccopy, cev: Evaluator, rng) -> None:
    """Compare one complex-step directional derivative with real differences.

    The real differences' noise follows the parameter's gradient scale (a symmetric point
    where the loss is 0 still rounds its terms); where they left the domain at every
    step the probe cannot judge, and the per-entry checks decide.
    """
    path = _largest(setup.copy.leaves)
    leaf, cleaf = setup.copy.leaves[path], ccopy.leaves[path]
    support = np.arange(leaf.size)
    signs = random_signs(rng, leaf.size)
    ctx = with_scale(setup.ctx, setup.analytic[path])
    real, allowed = directional_difference(ctx, leaf, support, signs)
    if not np.isfinite(real):
        return
    x = cleaf.reshape(-1).copy()
    t = float(np.min(complex_steps(x, None)))
    row = x + 1j * t * signs * np.maximum(1.0, np.abs(x.real))
    complex_value = support_values(cev.imag, cleaf, support, [row])[0] / t
    # derivatives (and terms) that cancel to ~0 at a symmetric point round like their
    # terms, which are not observable: a gap below sqrt(eps) of the scales is no evidence
    scale = abs(real) + ctx.param_scale * np.sqrt(leaf.size) + abs(ctx.f0) + 1.0
    allowed += float(np.sqrt(ctx.eps_eval)) * scale
    if not abs(complex_value - real) <= allowed:
        raise _not_complex_safe(
            f"along a random direction of {at_path(path)} the complex step gives "
            f"{complex_value:.6g} but real differences give {real:.6g}"
        )


def recheck(args, setup: Setup) -> None:
    """After the sweep: the loss is still the same at x, and nobody changed the copy."""
    _check_mutation(setup.copy, setup.originals, "loss")
    last = setup.evaluator()
    if last != setup.ctx.f0:
        raise _nondeterministic(setup.ctx.f0, last, "at the start and at the end of the check")
