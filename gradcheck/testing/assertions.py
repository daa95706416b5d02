"""Assertions whose failure message reads well in a CI log: tables, not arrays.

``assert_gradient`` is :func:`gradcheck.checking.gradient.assert_gradient` itself (re-exported by
:mod:`gradcheck.testing`); this module adds the layer and stability assertions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gradcheck._table import padded_lines
from gradcheck._vocab import SEVERITIES
from gradcheck.errors import (
    GradientMismatch,
    InvalidArgumentError,
    InvalidTypeError,
    StabilityAssertion,
)


def assert_layers(layers: Sequence[Any], x: Any, **kwargs: Any) -> Any:
    """Check every layer of a stack; raise with the per-layer table if one is wrong.

    Parameters
    ----------
    layers : sequence of layers
        Objects with ``params``, ``forward(x)``, ``backward(grad_y)`` and ``grads``.
    x : ndarray
        The input batch that flows forward through `layers`.
    **kwargs
        Passed to :func:`gradcheck.layers.check_layers` (``seed``, ``rtol``, ``atol``,
        ``mode``...).

    Returns
    -------
    LayerCheckResult
        The result, when every layer passes.

    Raises
    ------
    gradcheck.GradientMismatch
        When a layer fails; the message holds the per-layer table and the diagnoses, and
        ``.report`` the full result.

    Examples
    --------
    >>> from gradcheck.nn.model import MLP
    >>> import numpy as np
    >>> model = MLP([3, 4, 2], activation="tanh", seed=0)
    >>> x = np.random.default_rng(0).normal(size=(5, 3))
    >>> assert_layers(model.layers, x).passed
    True
    """
    __tracebackhide__ = True
    from gradcheck.checking.layers import check_layers

    result = check_layers(layers, x, **kwargs)
    if not result.passed:
        raise GradientMismatch(_layers_message(result), report=result)
    return result


def _layers_message(result: Any) -> str:
    first = result.layers[result.first_failure] if result.first_failure is not None else None
    if getattr(result, "status", "failed") == "inconclusive":
        where = f" (first: layer {first.index} `{first.name}`)" if first is not None else ""
        return f"layer check was inconclusive{where}:\n{layers_failure_text(result)}"
    first = next((la for la in result.layers if getattr(la, "status", "") == "failed"), first)
    where = f" (first failure: layer {first.index} `{first.name}`)" if first is not None else ""
    return f"layer check failed{where}:\n{layers_failure_text(result)}"


def layers_failure_text(result: Any, *, max_diagnoses: int = 3) -> str:
    """Return the per-layer table plus the failing layers' top diagnoses, in full words."""
    lines = [str(result)]
    for layer in result.layers:
        if layer.passed or not layer.diagnoses:
            continue
        lines.append(f"diagnoses of layer {layer.index} `{layer.name}`:")
        lines += [
            f"  [{d.kind} {d.path or '-'}, confidence {d.confidence:.2f}] {d.message}"
            for d in layer.diagnoses[:max_diagnoses]
        ]
    return "\n".join(lines)


def assert_stable(monitor: Any, *, allow: Iterable[str] = ("info",)) -> list:
    """Raise unless every finding of `monitor` is allowed; list the others in a table.

    Parameters
    ----------
    monitor : gradcheck.Monitor
        A monitor that has observed a training run (anything with ``.findings``).
    allow : iterable of str
        Severities (``"info"``, ``"warning"``, ``"error"``) and finding codes
        (``"dead_relu"``...) that do not fail the assertion.

    Returns
    -------
    list of Finding
        The allowed findings.

    Raises
    ------
    gradcheck.errors.StabilityAssertion
        An ``AssertionError`` whose message lists the offending findings (code, severity,
        name, steps, count, message) with their suggestions; ``.findings`` holds them.

    Examples
    --------
    >>> from gradcheck.monitor import Monitor
    >>> monitor = Monitor()
    >>> _ = monitor.observe(0, loss=1.0)
    >>> assert_stable(monitor)
    []
    """
    __tracebackhide__ = True
    allowed = _validate_allow(allow)
    findings = getattr(monitor, "findings", None)
    if findings is None:
        raise InvalidTypeError(
            f"`monitor` must be a gradcheck.Monitor (anything with `.findings`); got "
            f"{type(monitor).__name__}. Pass the Monitor itself, not `monitor.to_dict()`."
        )
    findings = list(findings)
    bad = [f for f in findings if f.severity not in allowed and f.code not in allowed]
    if bad:
        raise StabilityAssertion(_stability_message(bad, allowed), findings=bad)
    return findings


def _validate_allow(allow: Iterable[str]) -> frozenset[str]:
    if isinstance(allow, str):
        raise InvalidArgumentError(
            f"`allow`={allow!r} must be a collection of severities or codes, not one string. "
            f"Try allow=({allow!r},)."
        )
    from gradcheck.monitor.findings import FINDINGS

    allowed = frozenset(allow)
    codes = set(FINDINGS)
    unknown = sorted(allowed - set(SEVERITIES) - codes)
    if unknown:
        raise InvalidArgumentError(
            f"`allow` has unknown entries {unknown}; use severities {', '.join(SEVERITIES)} "
            f"or finding codes ({', '.join(sorted(codes))})."
        )
    return allowed


def _stability_message(bad: list, allowed: frozenset[str]) -> str:
    rows = [("code", "severity", "name", "steps", "count", "message")]
    rows += [_finding_row(f) for f in bad]
    lines = padded_lines(rows, free_last=True)
    tips = [f"- {f.code} at {f.name or '-'}: {f.suggestion}" for f in bad if f.suggestion]
    head = (
        f"training is not stable: {len(bad)} finding(s) not allowed "
        f"(allowed: {', '.join(sorted(allowed)) or 'nothing'})"
    )
    return "\n".join([head, *lines, *(["suggestions:", *tips] if tips else [])])


def _finding_row(finding: Any) -> tuple[str, ...]:
    from gradcheck.monitor.findings import finding_row  # numpy: only when a run is judged

    f = finding_row(finding)
    steps = str(f.first) if f.last in (None, f.first) else f"{f.first}-{f.last}"
    count = 1 if f.count is None else f.count
    return (f.code, f.severity, f.name or "-", steps, str(count), f.message)
