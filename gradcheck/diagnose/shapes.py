"""What a layer returned, before any number is compared: shapes, missing gradients, repeats.

:func:`shape_problems` explains an input gradient or parameter gradients of the wrong shape
(transposed, ``keepdims``, reduced over the wrong axis, the shape of ``dout``) or missing;
:func:`repeat_problems` runs the layer again on the same input: a changed output is
``nondeterministic``, changed parameter gradients an ``accumulation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradcheck.diagnose.arrays import Diagnosis, accumulation_diagnosis


def _diag(kind: str, path: str, confidence: float, message: str, **evidence: Any) -> Diagnosis:
    return Diagnosis(kind, path, float(confidence), message, evidence)


def _keepdims(got: tuple, want: tuple) -> bool:
    """Return whether a reduction kept its axes: (1, D) or (1, C, 1, 1) for (D,) or (C,)."""
    return len(got) > len(want) and tuple(n for n in got if n != 1) == tuple(
        n for n in want if n != 1
    )


def _padded(got: tuple, want: tuple) -> bool:
    """Return whether `got` is `want` grown by the same even amount in its last two axes."""
    if len(got) != len(want) or len(got) < 3 or got[:-2] != want[:-2]:
        return False
    grown = {g - w for g, w in zip(got[-2:], want[-2:], strict=True)}
    return len(grown) == 1 and min(grown) > 0 and min(grown) % 2 == 0


def shape_diagnosis(path: str, got: tuple, want: tuple, dout_shape: tuple) -> Diagnosis:
    """Explain a gradient of the wrong shape (transposed, keepdims, the wrong axis...).

    Examples
    --------
    >>> "drop keepdims" in shape_diagnosis("fc.b", (1, 3), (3,), (4, 3)).message
    True
    """
    got, want, dout_shape = tuple(got), tuple(want), tuple(dout_shape)
    head, evidence = f"`{path}` has shape {got}; expected {want}", {"shape": got, "expected": want}
    if len(want) == 2 and got == want[::-1]:
        why = "the transpose: compute it as `x.T @ dout`, not `dout.T @ x`"
        return _diag("transpose", path, 0.95, f"{head}, {why}.", **evidence)
    if _keepdims(got, want):
        why = "drop keepdims (sum with `keepdims=False`, e.g. `dout.sum(axis=0)`)"
        return _diag("axis", path, 0.9, f"{head}: {why}.", pattern="keepdims", **evidence)
    if len(want) == 1 and len(dout_shape) == 2 and got == (dout_shape[0],):
        why = "the bias gradient must sum dout over the batch axis (`dout.sum(axis=0)`)"
        return _diag("axis", path, 0.9, f"{head}: {why}.", **evidence)
    if _padded(got, want):
        pad = (got[-1] - want[-1]) // 2
        crop = f"{pad}:-{pad}"
        why = f"it keeps the padding ({pad} on each side): crop it, `dx[..., {crop}, {crop}]`"
        return _diag("other", path, 0.9, f"{head}: {why}.", pattern="padded", **evidence)
    if got == dout_shape:
        why = "the shape of dout: the input gradient forgot the weights (`dout @ W.T`)"
        return _diag("other", path, 0.8, f"{head}, {why}.", **evidence)
    why = "backward must give a gradient of the same shape as what it differentiates"
    return _diag("other", path, 0.5, f"{head}: {why}.", **evidence)


def shape_problems(
    name: str, params: Mapping, x, g, dx, grads: Mapping, backward: str | None = None
) -> list[Diagnosis]:
    """Explain an input gradient or parameter gradients of the wrong shape, or missing.

    `backward` names the user's backward function in messages (default ``name.backward``).
    """
    label = backward or f"`{name}.backward`"
    problems = []
    if dx is None:
        message = (
            f"{label} returned None; it must return dx, the gradient for its input, of shape "
            f"{x.shape} (is it finished? `return dx`)."
        )
        problems.append(Diagnosis("other", f"{name}.x", 1.0, message, {"expected": x.shape}))
    elif np.shape(dx) != x.shape:
        problems.append(shape_diagnosis(f"{name}.x", np.shape(dx), x.shape, g.shape))
    for key, value in params.items():
        path = f"{name}.{key}"
        if grads.get(key) is None:
            what = f"no `grads['{key}']`" if key not in grads else f"`grads['{key}']` to None"
            message = (
                f"{label} set {what}; it must set one gradient array per parameter "
                f"(keys {list(params)})."
            )
            problems.append(Diagnosis("zero", path, 1.0, message, {"contract": True}))
        elif grads[key].shape != np.shape(value):
            problems.append(shape_diagnosis(path, grads[key].shape, np.shape(value), g.shape))
    return problems


def repeat_problems(name: str, run: Any, x, y, g, first: Mapping) -> list[Diagnosis]:
    """Run forward and backward again: outputs and gradients must not change.

    `run` is the layer's :class:`gradcheck.checking.layer_contract.LayerRunner`. A changed output is
    ``nondeterministic`` (dropout, noise); changed gradients are an ``accumulation``
    (``+=`` into stored gradients: a missing zero_grad).
    """
    before = {key: np.array(value, copy=True) for key, value in run.layer.params.items()}
    again = run.forward(x)
    changed = [
        key
        for key, value in run.layer.params.items()
        if not np.array_equal(before[key], value, equal_nan=True)
    ]
    if changed:
        names = ", ".join(f"`{key}`" for key in changed)
        message = (
            f"{run.label('forward')} changed its parameters {names} in place, so every call "
            "sees other weights: a forward must not modify `params` (update them in the "
            "optimizer step, or write into a copy)."
        )
        return [Diagnosis("other", name, 1.0, message, {"mutated": changed, "contract": True})]
    if not np.array_equal(again, y, equal_nan=True):
        message = (
            f"{run.label('forward')} returned different outputs for the same input (dropout, "
            "noise?): make it deterministic (e.g. an eval mode or a fixed seed) to check it."
        )
        return [Diagnosis("nondeterministic", name, 1.0, message, {})]
    if not run.layer.params:
        return []
    run.backward(g, x.shape)
    second = run.grads()
    return [
        accumulation_diagnosis(f"{name}.{key}", first[key], second.get(key))
        for key in run.layer.params
        if second.get(key) is not None
        and not np.array_equal(first[key], second[key], equal_nan=True)
    ]
