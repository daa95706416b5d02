"""Diagnoses for normalization layers and the factors of a layer's shape.

A normalization forward (batch, layer, spatial batch or group norm) standardizes groups of
entries: ``y = s * (x - mean_G) / std_G`` (times gamma, plus beta). Its Jacobian on a group
is ``diag(s) (I - P)`` with ``P`` the projector onto ``span{1, x_G}``: the terms through the
mean and the variance. :func:`normalization_diagnoses` measures the Jacobian by probing the
forward (never its name), checks that it has this structure, and compares what backward
returned with the usual mistakes:

=====================  =================================================================
pattern                what backward did
=====================  =================================================================
coupling_dropped       ``dx = s * dout``: no terms through the mean and the variance
not_reduced            ``dx = diag(J) * dout``: dmean/dvar not summed over the group
count                  the mean/variance terms divided by the wrong count (N for N·H·W)
one_term               only the dmean or only the dvar term is wrong (its factor given)
eps                    a tiny uniform relative discrepancy: eps used differently
=====================  =================================================================

:func:`name_scales` names a ``scale`` factor in the layer's own terms (``1/(H·W)``, the
keep probability ``p``, ``N``); :func:`forward_suspects` asks "is the forward right?" when
the forward's output does not move with its input.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np

from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.numeric import layer_probes as lp
from gradcheck.numeric.steps import base_step

_LETTERS = {2: "ND", 3: "NTD", 4: "NCHW", 5: "NCDHW"}
_MAX_ENTRIES = 1024  # 2 forward calls per entry


def _letters(shape: tuple) -> str:
    return _LETTERS.get(len(shape), "".join(f"d{i}" for i in range(len(shape))))


def factor_names(shape: tuple, extra: dict | None = None) -> dict[str, float]:
    """Return named factors of a layer's shape: ``"N"``, ``"H·W"``, ``"1/(N·H·W)"``...

    Examples
    --------
    >>> factor_names((4, 3, 2, 2))["1/(H·W)"]
    0.25
    """
    letters = _letters(shape)
    dims = [(letters[i], n) for i, n in enumerate(shape) if n > 1]
    found: dict[str, float] = {}
    for size in range(1, len(dims) + 1):
        for subset in itertools.combinations(dims, size):
            label = "·".join(letter for letter, _ in subset)
            product = float(np.prod([n for _, n in subset]))
            found.setdefault(label, product)
            found.setdefault(f"1/({label})" if size > 1 else f"1/{label}", 1.0 / product)
    return {**found, **(extra or {})}


def _match(value: float, names: dict[str, float]) -> str | None:
    for label, target in names.items():
        if target != 1.0 and abs(value / target - 1.0) < 1e-3:
            return label
    return None


def keep_probability(x: np.ndarray, y: np.ndarray) -> float | None:
    """Return the keep probability p of an inverted dropout ``y = x * mask / p``, or None."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        return None
    kept = (y != 0) & (x != 0)
    if not kept.any() or kept.all():
        return None
    gain = y[kept] / x[kept]
    p = 1.0 / float(np.median(gain))
    return p if 0 < p < 1 and np.allclose(gain, 1.0 / p, rtol=1e-6) else None


def name_scales(diagnoses: list, x: np.ndarray, y: np.ndarray) -> list[Diagnosis]:
    """Name each ``scale`` factor in the layer's terms (``1/(H·W)``, ``p``, ``N``...)."""
    p = keep_probability(x, y)
    names = factor_names(np.shape(x), {"p": p, "1/p": 1 / p} if p else None)
    named = []
    for d in diagnoses:
        factor = d.evidence.get("factor") if d.kind == "scale" else None
        label = _match(float(factor), names) if factor else None
        if label is None:
            named.append(d)
            continue
        why = f" The factor is {label} = {names[label]:.4g} for this layer's input {np.shape(x)}"
        why += _hint(label)
        evidence = {**d.evidence, "named": label}
        named.append(dataclasses.replace(d, message=d.message + why, evidence=evidence))
    return named


def _hint(label: str) -> str:
    if "p" in label:
        return " (p is the keep probability: inverted dropout divides by p in both passes)."
    if label.startswith("1/"):
        return ": a mean where the forward sums (over positions or the batch)?"
    return ": a sum where the forward takes a mean (a missing division by the count)?"


def forward_suspects(name: str, run: Any, x: np.ndarray, g: np.ndarray, dx: Any) -> list:
    """Ask "is the forward right?" when its output does not move with its input.

    Along a few random directions the numeric derivative of ``<g, forward(x)>`` is zero
    (up to rounding) while backward's is not: the forward is piecewise constant.
    """
    if dx is None or np.shape(dx) != np.shape(x):
        return []
    signs = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, *np.shape(x)))
    numeric, noise, moves = lp.directional(run.forward, x, g, signs)
    analytic = np.array([float(np.sum(np.asarray(dx) * d)) for d in moves])
    if np.any(np.abs(numeric) > noise) or not np.all(np.abs(analytic) > 4 * noise):
        return []
    message = (
        f"Is the forward right? The output of {run.label('forward')} does not change when "
        "its input moves (numeric derivative 0 along every probed direction) while backward "
        "returns a nonzero gradient: the forward is piecewise constant (e.g. it returns the "
        "ReLU mask `x > 0` instead of `x * (x > 0)`)."
    )
    return [Diagnosis("other", f"{name}.forward", 0.9, message, {"pattern": "piecewise_constant"})]


@dataclasses.dataclass
class _Group:
    u: np.ndarray  # s * dout on the group
    mean: np.ndarray  # P1 u: the term through the mean
    var: np.ndarray  # P2 u: the term through the variance
    diag: np.ndarray  # diag(J) * dout


def _groups(columns: np.ndarray, eps: float) -> list[np.ndarray]:
    """Entries whose outputs move together: connected components of the Jacobian's support."""
    support = np.abs(columns) > np.sqrt(eps) * np.max(np.abs(columns), initial=0.0)
    label = np.arange(len(columns))
    for k in range(len(columns)):
        linked = np.flatnonzero(support[k] | support[:, k])
        root = label[linked].min(initial=label[k])
        label[np.isin(label, label[linked])] = root
    return [np.flatnonzero(label == root) for root in np.unique(label)]


def _group_model(jac: np.ndarray, xg: np.ndarray, g: np.ndarray, tol: float) -> _Group | None:
    """Fit ``J = diag(s) (I - P1 - a P2)`` on one group; None when the forward is not of it.

    ``P1`` projects on the constant, ``P2`` on the centred input; ``a = var / (var + eps)``
    is measured rather than assumed 1, so a small variance does not bias the fit.
    """
    centered = xg - xg.mean()
    if xg.size < 3 or not np.any(centered):
        return None
    ones = np.full(xg.size, 1.0 / np.sqrt(xg.size))
    e = centered / np.linalg.norm(centered)
    p1, p2 = np.outer(ones, ones), np.outer(e, e)
    residual = np.eye(xg.size) - p1 - p2
    s = np.diag(jac @ residual) / np.maximum(np.diag(residual), 1e-300)
    along = s[:, None] * p2
    a = 1.0 - float(np.sum(jac * along) / max(np.sum(along * along), 1e-300))
    if np.max(np.abs(jac - s[:, None] * (residual + (1 - a) * p2))) > tol * np.max(np.abs(jac)):
        return None
    u = s * g
    return _Group(u, p1 @ u, a * (p2 @ u), np.diag(jac) * g)


def _stacked(columns: np.ndarray, x: np.ndarray, g: np.ndarray) -> dict | None:
    """Fit every group; return the model terms as flat arrays, or None when one does not fit."""
    flat_x, flat_g = x.reshape(-1), g.reshape(-1)
    terms = {k: np.zeros(x.size) for k in ("u", "mean", "var", "diag")}
    sizes, extent = np.zeros(x.size), ""
    for index in _groups(columns, lp.working_eps(g.dtype)):
        extent = extent or group_extent(index, x.shape)
        jac = columns[np.ix_(index, index)].T  # J[j, k] = dy_j / dx_k
        fit = _group_model(jac, flat_x[index], flat_g[index], 1e-2)
        if fit is None:
            return None
        for key in terms:
            terms[key][index] = getattr(fit, key)
        sizes[index] = index.size
    return {**terms, "size": sizes, "extent": extent}


def group_extent(index: np.ndarray, shape: tuple) -> str:
    """Name the axes a group of flat indices spans: "N", "N·H·W", "2·H·W" (part of an axis).

    Examples
    --------
    >>> import numpy as np
    >>> group_extent(np.array([0, 3, 6, 9]), (4, 3))
    'N'
    """
    letters = _letters(shape)
    spans = [np.unique(axis).size for axis in np.unravel_index(index, shape)]
    parts = [letters[i] if n == shape[i] else str(n) for i, n in enumerate(spans) if n > 1]
    return "·".join(parts)


def normalization_diagnoses(
    name: str, forward: Any, x: np.ndarray, g: np.ndarray, dx: Any
) -> list[Diagnosis]:
    """Compare a normalization layer's ``dx`` with the usual mistakes (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> def bn(x):
    ...     return (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    >>> x, g = np.random.default_rng(0).normal(size=(2, 6, 3))
    >>> dx = g / np.sqrt(x.var(0) + 1e-5)           # the terms through mean and var dropped
    >>> normalization_diagnoses("bn", bn, x, g, dx)[0].evidence["pattern"]
    'coupling_dropped'
    """
    x, dx = np.asarray(x, dtype=np.float64), np.asarray(dx, dtype=np.float64)
    if dx.shape != x.shape or x.size > _MAX_ENTRIES:
        return []
    columns = lp.jacobian_columns(forward, x, np.arange(x.size))
    if columns.shape[1] != x.size:
        return []
    model = _stacked(columns, x, np.asarray(g, dtype=np.float64))
    if model is None:
        return []
    true, user = columns @ np.asarray(g, dtype=np.float64).reshape(-1), dx.reshape(-1)
    fit_noise = 1e3 * base_step(np.result_type(g, np.float32), 2) ** 2
    for test in (_eps_mismatch, _not_reduced, _coupling_terms):
        found = test(name, user, true, model, fit_noise, x.shape)
        if found is not None:
            return [found]
    return []


def _explains(user: np.ndarray, model: np.ndarray, tol: float) -> bool:
    return bool(np.linalg.norm(user - model) <= tol * np.linalg.norm(user))


def _eps_mismatch(name, user, true, model, noise, shape) -> Diagnosis | None:
    relative = float(np.linalg.norm(user - true) / max(np.linalg.norm(true), 1e-300))
    if not noise < relative < 1e-3:
        return None
    scale = relative * np.sign(np.dot(user - true, true))
    message = (
        f"`{name}`: the input gradient is off by a tiny relative {scale:+.2e}: the "
        "forward and the backward use `eps` differently (e.g. `sqrt(var + eps)` in one and "
        "`sqrt(var)` or another eps in the other): cache the forward's `std` and reuse it."
    )
    return _norm(name, message, "eps", relative=float(scale))


def _not_reduced(name, user, true, model, noise, shape) -> Diagnosis | None:
    if not _explains(user, model["diag"], 1e-3) or _explains(true, model["diag"], 1e-3):
        return None
    message = (
        f"`{name}`: each entry's input gradient uses only its own term (`dout * dy_i/dx_i`): "
        "dvar and dmean were not reduced over the entries normalized together (sum them "
        "over the batch axis, e.g. `np.sum(..., axis=0)`)."
    )
    return _norm(name, message, "not_reduced")


def _coupling_terms(name, user, true, model, noise, shape) -> Diagnosis | None:
    basis = np.stack([model["mean"], model["var"]], axis=1)
    coeffs, *_ = np.linalg.lstsq(basis, model["u"] - user, rcond=None)
    c_mean, c_var = (float(c) for c in coeffs)
    if not _explains(user, model["u"] - basis @ coeffs, 1e-3):
        return None
    if abs(c_mean) < 0.05 and abs(c_var) < 0.05:
        message = (
            f"`{name}`: the input gradient is `dout * gamma / std` alone: the backward dropped "
            "the terms through the mean and the variance (the batch coupling)."
        )
        return _norm(name, message, "coupling_dropped")
    if abs(c_mean / c_var - 1.0) < 0.02:
        if abs(c_mean - 1.0) < 1e-3 and abs(c_var - 1.0) < 1e-3:
            return None
        return _count(name, (c_mean + c_var) / 2, int(model["size"][0]), model["extent"], shape)
    message = (
        f"`{name}`: the term through the mean is {c_mean:.4g}x and the term through the "
        f"variance {c_var:.4g}x what they should be: look at dmean and dvar (a missing "
        "factor, sign or count in one of them)."
    )
    return _norm(name, message, "one_term", mean_factor=c_mean, var_factor=c_var)


def _count(name: str, factor: float, size: int, extent: str, shape: tuple) -> Diagnosis:
    names = factor_names(shape)
    true_label = extent or str(size)
    used = size / factor
    used_label = _match(used, names) or f"{used:.4g}"
    message = (
        f"`{name}`: the terms through the mean and the variance are {factor:.4g}x too large: "
        f"the backward divides by {used_label} = {used:.4g} where the forward's statistics "
        f"run over {true_label} = {size} entries: use the same count as the forward."
    )
    return _norm(name, message, "count", factor=factor, used=used_label, expected=true_label)


#: The pattern a normalization diagnosis found -> the contract kind it is reported as.
_PATTERN_KIND = {
    "coupling_dropped": "batch_mixing",
    "not_reduced": "axis",
    "count": "scale",
    "one_term": "other",
    "eps": "other",
}


def _norm(name: str, message: str, pattern: str, **evidence: Any) -> Diagnosis:
    return Diagnosis(_PATTERN_KIND[pattern], name, 0.9, message, {"pattern": pattern, **evidence})
