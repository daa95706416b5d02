"""Layer-aware diagnoses: what a layer's backward got wrong, from its forward and its arrays.

The array-level diagnoses of :mod:`gradcheck.diagnose.arrays` see two gradients; these see the
layer. Each function probes the layer's ``forward`` (never its name) and compares what
``backward`` returned with models of the usual mistakes:

==========================  ======================  =====================================
layer (detected from)       kind                    pattern
==========================  ======================  =====================================
elementwise (forward)       activation_derivative   derivative at the output ``f'(y)``
elementwise                 activation_derivative   no derivative (``dx == dout``)
elementwise                 activation_derivative   another slope for negative inputs
row-coupled (softmax-like)  activation_derivative   only the Jacobian's diagonal used
row-coupled                 activation_derivative   no derivative (``dx == dout``)
dense (forward == x@W+b)    transpose               ``dW`` transposed; ``dx`` used W, not W.T
dense                       axis                    ``db`` summed over the wrong axis
dense                       other                   ``dx`` forgot the weights (``dx == dout``)
==========================  ======================  =====================================

A dense input gradient that used ``W`` instead of ``W.T`` is a ``transpose``; one that
forgot the weights altogether (``dx == dout``) is ``other``, with the pattern in words.
Batch independence (``batch_mixing``) lives in :mod:`gradcheck.checking.batch_independence`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.diagnose.shapes import shape_diagnosis
from gradcheck.numeric import layer_probes as lp

__all__ = [
    "dense_diagnoses",
    "dense_parts",
    "elementwise_diagnoses",
    "probe_coupling",
    "rowwise_diagnoses",
    "shape_diagnosis",
]

Forward = Callable[[np.ndarray], np.ndarray]
_MATCH = 0.9  # fraction of usable entries a model must explain
_SIGMAS = 4.0  # an explanation may miss by this many estimated errors of the estimates


def _close(a: Any, b: Any, eps: float, terms: int = 1) -> bool:
    """Whether `a` equals the model `b` up to the rounding of sums of `terms` products."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    scale = float(np.max(np.abs(b), initial=0.0))
    allowed = lp.agreement(b, eps, scale, terms)
    return bool(np.all(np.abs(a - b) <= allowed))


def probe_coupling(forward: Forward, x: np.ndarray, rng: np.random.Generator) -> str:
    """Classify how `forward`'s outputs depend on its inputs, by perturbing a few entries.

    Returns ``"elementwise"`` (output entry k depends on input entry k only),
    ``"rowwise"`` (only on the same row, e.g. softmax) or ``"other"``.

    Examples
    --------
    >>> import numpy as np
    >>> probe_coupling(np.tanh, np.ones((3, 4)), np.random.default_rng(0))
    'elementwise'
    """
    x = np.array(x, dtype=np.float64)
    y = np.asarray(forward(x.copy()))
    if y.shape != x.shape or x.ndim != 2:
        return "other"
    eps, steps = lp.working_eps(y.dtype), lp.probe_steps(x, y.dtype)
    kind = "elementwise"
    for flat in rng.choice(x.size, size=min(4, x.size), replace=False):
        index = np.unravel_index(flat, x.shape)
        bumped = x.copy()
        bumped[index] += steps[index]
        moved = lp.moved_beyond_rounding(np.asarray(forward(bumped)), y, eps)
        moved[index] = False
        if moved.any():
            if moved[np.arange(x.shape[0]) != index[0]].any():
                return "other"
            kind = "rowwise"
    return kind


def dense_parts(params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict | None:
    """Find the weight and bias of an affine layer and check ``y == x @ W + b`` (or ``W.T``).

    Returns ``{"W": name, "b": name or None, "transposed": bool}`` or None.

    Examples
    --------
    >>> import numpy as np
    >>> W, b, x = np.ones((3, 2)), np.zeros(2), np.ones((4, 3))
    >>> dense_parts({"W": W, "b": b}, x, x @ W + b)
    {'W': 'W', 'b': 'b', 'transposed': False}
    """
    if np.ndim(x) < 2 or np.ndim(y) != 2 or len(y) != len(x):
        return None
    x = np.reshape(x, (len(x), -1))  # affine_forward flattens (N, d1, d2...) inputs
    n_in, n_out = x.shape[1], y.shape[1]
    bias = next((k for k, v in params.items() if np.shape(v) == (n_out,)), None)
    offset = params[bias] if bias else 0.0
    eps = lp.working_eps(np.asarray(y).dtype)
    for name, value in params.items():
        for transposed, shape in ((False, (n_in, n_out)), (True, (n_out, n_in))):
            if np.shape(value) == shape:
                weight = value.T if transposed else value
                if _close(y, x @ weight + offset, eps, n_in + 1):
                    return {"W": name, "b": bias, "transposed": transposed}
    return None


def _diag(kind: str, path: str, confidence: float, message: str, **evidence: Any) -> Diagnosis:
    return Diagnosis(kind, path, float(confidence), message, evidence)


def dense_diagnoses(
    name: str, parts: dict, params: Mapping, x: np.ndarray, g: np.ndarray, dx: Any, grads: Mapping
) -> list[Diagnosis]:
    """Compare a dense layer's ``dW``, ``db`` and ``dx`` with the usual mistakes.

    `parts` comes from :func:`dense_parts`; `g` is the upstream gradient, `dx` and `grads`
    what backward returned for it.
    """
    x = np.reshape(x, (len(x), -1))
    weight = params[parts["W"]]
    eps = lp.working_eps(*(np.asarray(a).dtype for a in (x, g, weight)))
    terms = len(x)
    dweight = x.T @ g if not parts["transposed"] else g.T @ x
    matrix = weight.T if parts["transposed"] else weight
    found = []
    dw = np.asarray(grads.get(parts["W"]))
    square = dw.ndim == 2 and dw.shape[0] == dw.shape[1]
    if square and _close(dw, dweight.T, eps, terms) and not _close(dw, dweight, eps, terms):
        path = f"{name}.{parts['W']}"
        why = "is the transpose of the true weight gradient: compute it as `x.T @ dout`"
        found.append(_diag("transpose", path, 0.95, f"`{path}` {why}.", pattern="dW.T"))
    if parts["b"] is not None:
        db = np.asarray(grads.get(parts["b"]))
        found += _bias_diagnoses(f"{name}.{parts['b']}", db, g, eps, g.size)
    dx = np.asarray(dx)
    if dx.size == x.size:
        found += _dense_input_diagnoses(f"{name}.x", dx.reshape(x.shape), g, matrix, eps)
    return found


def _bias_diagnoses(path: str, db: np.ndarray, g: np.ndarray, eps: float, terms: int) -> list:
    if _close(db, g.sum(axis=0), eps, terms):
        return []
    wrong = {"features (axis=1)": g.sum(axis=1), "every axis": np.full(db.shape, g.sum())}
    for words, model in wrong.items():
        if _close(db, model, eps, terms):
            why = f"is dout summed over {words}; sum over the batch axis: `dout.sum(axis=0)`"
            return [_diag("axis", path, 0.9, f"`{path}` {why}.", pattern=f"sum over {words}")]
    return []


def _dense_input_diagnoses(
    path: str, dx: np.ndarray, g: np.ndarray, matrix: np.ndarray, eps: float
) -> list[Diagnosis]:
    terms = matrix.shape[1]
    if _close(dx, g @ matrix.T, eps, terms):
        return []
    square = matrix.shape[0] == matrix.shape[1]
    wrong = [  # (applies, model, kind, pattern, what it did)
        (square, lambda: g @ matrix, "transpose", "dout @ W", "is `dout @ W`"),
        (True, lambda: g, "other", "dx == dout", "equals dout: it forgot the weights"),
    ]
    for applies, model, kind, pattern, did in wrong:
        if applies and _close(dx, model(), eps, terms):
            message = f"`{path}` (the input gradient) {did}; it must be `dout @ W.T`."
            return [_diag(kind, path, 0.9, message, pattern=pattern)]
    return []


def _implied(x: np.ndarray, g: np.ndarray, dx: np.ndarray, kink: np.ndarray) -> tuple:
    """Return ``dx / dout`` (the derivative backward used) and where it can be trusted."""
    usable = (np.abs(g) > 1e-6 * np.max(np.abs(g), initial=0.0)) & ~kink
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = np.where(usable, dx / np.where(usable, g, 1.0), 0.0)
    return implied, usable & np.isfinite(implied)


def _score(implied, model, truth, tol, usable) -> tuple[float, float] | None:
    """Return (fraction of usable, of informative entries) `model` explains, or None.

    An entry is explained when ``dx / dout`` sits within a tenth of the model's distance
    from the true derivative plus `tol` (the estimates' own error): scale-aware, so a
    derivative at the output that differs from the true one by 1e-6 still decides.
    Informative entries are those where the model differs from the truth by > 4 tol.
    """
    with np.errstate(invalid="ignore"):
        gap = np.abs(model - truth)
        explained = usable & (np.abs(implied - model) <= 0.1 * gap + tol)
        informative = usable & (gap > 4 * tol)
    if not informative.any():
        return None
    return float(np.mean(explained[usable])), float(np.mean(explained[informative]))


def elementwise_diagnoses(
    name: str, forward: Forward, x: np.ndarray, g: np.ndarray, dx: Any
) -> list[Diagnosis]:
    """Test whether an elementwise layer's backward used the wrong derivative.

    The local derivative backward used, ``dx / dout``, is compared per entry with the
    forward's derivative at the input ``f'(x)``, at the output ``f'(y)``, with 1 (no
    derivative) and, for negative inputs, with a constant slope. The hypothesis that
    explains the most entries wins, each entry judged against the estimates' own error
    (:func:`_score`), never a fixed relative tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> x, g = np.linspace(-2, 2, 12).reshape(3, 4), np.ones((3, 4))
    >>> wrong = 1 - np.tanh(np.tanh(x)) ** 2   # the derivative taken at the output
    >>> elementwise_diagnoses("tanh1", np.tanh, x, g, g * wrong)[0].evidence["pattern"]
    'at_output'
    """
    dx_eps = float(np.finfo(np.result_type(np.asarray(dx).dtype, np.float32)).eps)
    x, dx = np.asarray(x, dtype=np.float64), np.asarray(dx, dtype=np.float64)
    if dx.shape != x.shape:
        return []
    d_in = lp.simultaneous_derivative(forward, x)
    implied, usable = _implied(x, g, dx, d_in.kink)
    noise = _SIGMAS * (d_in.error + 8 * dx_eps * np.abs(implied))
    exact = usable & (np.abs(implied - d_in.value) <= noise)
    if not usable.any() or np.mean(exact[usable]) >= 0.99:
        return []
    d_out = lp.simultaneous_derivative(forward, np.asarray(forward(x.copy()), dtype=np.float64))
    models = {
        "at_output": (d_out.value, _SIGMAS * d_out.error),
        "missing": (np.ones_like(x), 0.0),
        **_negative_model(implied, x, d_in.value, usable, exact),
        **_scaled_model(implied, d_in.value, usable & (np.abs(d_in.value) > noise)),
    }
    best, explained = None, float(np.mean(exact[usable]))
    for pattern, (model, error, *_) in models.items():
        score = _score(implied, model, d_in.value, noise + error, usable)
        if score is not None and min(score) >= _MATCH and score[0] > explained:
            best, explained = pattern, score[0]
    if best == "negative_slope":
        return _negative_slope(name, implied, d_in.value, usable & (x < 0), explained)
    if best == "scaled":
        return [_scaled(name, float(models["scaled"][2]), explained)]
    return [] if best is None else [_activation(name, best, explained)]


def _scaled_model(implied: np.ndarray, d_in: np.ndarray, nonzero: np.ndarray) -> dict:
    """Return the model "backward's derivative is a constant c times the forward's"."""
    if not nonzero.any():
        return {}
    c = float(np.median(implied[nonzero] / d_in[nonzero]))
    if not np.isfinite(c) or abs(c - 1.0) < 1e-3:
        return {}
    return {"scaled": (c * d_in, 0.0, c)}


def _scaled(name: str, factor: float, explained: float) -> Diagnosis:
    message = (
        f"`{name}`: backward's local derivative is {factor:.4g}x the forward's at every "
        "entry: a constant factor the backward has and the forward lacks (or the reverse)."
    )
    return _diag("scale", name, explained, message, factor=factor, pattern="scaled")


_PATTERNS = {
    "at_output": "backward multiplies dout by the derivative evaluated at the layer's OUTPUT "
    "f'(a) instead of its input f'(z) (e.g. `sigmoid_prime(a)` where `a = sigmoid(z)`): pass "
    "z, or write the derivative in terms of a (a * (1 - a))",
    "missing": "backward returns dout unchanged: the activation's derivative is missing "
    "(multiply by f'(z))",
    "diagonal": "backward used the diagonal of the softmax Jacobian (s * (1 - s), an "
    "elementwise derivative), but softmax couples every output of a row: use "
    "dx = s * (dout - sum(dout * s, axis=1, keepdims=True))",
}


def _activation(name: str, pattern: str, explained: float, **extra: Any) -> Diagnosis:
    message = f"`{name}`: {_PATTERNS[pattern]}."
    return _diag(
        "activation_derivative",
        name,
        explained,
        message,
        pattern=pattern,
        explained=explained,
        **extra,
    )


def _negative_model(implied, x, d_in, usable, exact) -> dict:
    """Return the constant-slope-for-negative-inputs model, when the positive side is right."""
    neg, pos = usable & (x < 0), usable & (x > 0)
    if not neg.any() or (pos.any() and np.mean(exact[pos]) < 0.99):
        return {}
    used = float(np.median(implied[neg]))
    return {"negative_slope": (np.where(x < 0, used, d_in), 0.0)}


def _negative_slope(
    name: str, implied: np.ndarray, d_in: np.ndarray, neg: np.ndarray, explained: float
) -> list[Diagnosis]:
    used, true = float(np.median(implied[neg])), float(np.median(d_in[neg]))
    message = (
        f"`{name}`: for negative inputs backward uses slope {used:.4g}, but the forward's "
        f"slope there is {true:.4g} (e.g. a leaky ReLU whose backward uses another alpha "
        "or the plain ReLU's 0); positive inputs are right."
    )
    return [
        _diag(
            "activation_derivative",
            name,
            explained,
            message,
            pattern="negative_slope",
            used=used,
            expected=true,
            explained=explained,
        )
    ]


def rowwise_diagnoses(
    name: str, forward: Forward, x: np.ndarray, g: np.ndarray, dx: Any, *, max_columns: int = 256
) -> list[Diagnosis]:
    """Test a row-coupled layer (softmax-like) for an elementwise-only derivative.

    The diagonal of each row's Jacobian is estimated column by column (2 forward calls per
    column); backward's ``dx`` is compared with ``dout * diag(J)`` and with ``dout``.
    """
    x = np.asarray(x, dtype=np.float64)
    dx = np.asarray(dx, dtype=np.float64)
    if dx.shape != x.shape or x.ndim != 2 or x.shape[1] > max_columns:
        return []
    diagonal = lp.row_diagonal(forward, x)
    eps = lp.working_eps(g.dtype, dx.dtype)
    for pattern, model in (("diagonal", g * diagonal.value), ("missing", g)):
        allowed = np.abs(g) * diagonal.error + lp.agreement(model, eps, np.max(np.abs(model)))
        if np.all(np.abs(dx - model) <= _SIGMAS * allowed):
            return [_activation(name, pattern, 1.0)]
    return []


def unused_inputs(name: str, report: Any) -> list[Diagnosis]:
    """Explain an input gradient sent to entries the forward's output does not depend on.

    `report` is the layer's input-gradient check: when (nearly) every failing entry has a
    numeric derivative of exactly 0, backward routed ``dout`` where the forward did not
    look (max pooling's non-max entries, dropped units, a cropped border).
    """
    failures = getattr(report, "failures", None) or []
    unused = [f for f in failures if f.numeric == 0 and f.analytic != 0]
    if not failures or len(unused) < 0.9 * len(failures):
        return []
    path = f"{name}.x"
    message = (
        f"`{path}`: backward gives a gradient to {len(unused)} input entries that the "
        "forward's output does not depend on (their numeric derivative is 0): route dout "
        "only to the entries that produced each output (the max of a pooling window, the "
        "kept units)."
    )
    return [_diag("other", path, 0.9, message, pattern="unused_inputs", n_unused=len(unused))]
