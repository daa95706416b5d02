"""A Jacobian as gradients: each row checked by :func:`check_gradient`, the reports merged.

Row ``k`` of the Jacobian of ``f`` is the gradient of the scalar ``f(x)[k]``, so the one
gradient checker (its error model, kinks, precision, diagnoses of the user's code) checks
every row; :class:`~gradcheck.checking.vectors.Memo` makes the rows share the evaluations
of ``f``. Random projections are checked the same way (the gradient of ``<g, f(x)>``, or
the derivative of ``t -> <u, f(x + t v)>``). :func:`merge` turns the per-row or per-probe
reports into one :class:`~gradcheck.GradientReport` whose failures carry the
output entry (``output_path``, ``output_index``) next to the input entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from gradcheck._vocab import worst_status
from gradcheck.checking.gradient import check_gradient
from gradcheck.checking.gradient_results import Failure, GradientReport, Inconclusive, ParamSummary
from gradcheck.checking.gradient_verdicts import part_of
from gradcheck.checking.vectors import Layout, Memo, entry_name


class Part(NamedTuple):
    """One gradient check that a Jacobian check is made of.

    ``output`` is the ``(path, index)`` of the Jacobian row it checked (None for a random
    projection); ``rename`` replaces the checked parameter's path (a probe along a
    direction checks a scalar ``t`` that people know as "direction j").
    """

    report: GradientReport
    output: tuple[str, tuple] | None = None
    rename: str | None = None


def input_scales(analytic: np.ndarray, inputs: Layout) -> dict[str, float]:
    """Return each input leaf's scale in the Jacobian `analytic`: its largest ``|J[k, i]|``.

    Examples
    --------
    >>> import numpy as np
    >>> input_scales(np.array([[1.0, -4.0], [3e-194, 2.0]]), Layout({"a": 0.0, "b": 0.0}))
    {'a': 1.0, 'b': 4.0}
    """
    magnitude = np.abs(np.nan_to_num(np.asarray(analytic, dtype=float), posinf=0.0, neginf=0.0))
    return {
        path: float(np.max(magnitude[:, start:stop], initial=0.0))
        for path, start, stop in zip(
            inputs.paths, inputs.starts[:-1], inputs.starts[1:], strict=True
        )
    }


def check_rows(
    memo: Memo,
    x: Any,
    row_grad: Callable[[int], Callable],
    options: dict,
    rows: Iterable[int],
    scales: dict[str, float],
) -> list[Part]:
    """Check each row ``k`` in `rows`: ``row_grad(k)`` against differences of ``f(x)[k]``.

    Each entry is judged against the Jacobian's scale per input leaf (`scales`, see
    :func:`input_scales`), as an entry of a parameter is against its parameter's: a row
    whose derivatives are ~0 next to the rest of the Jacobian is not on its own scale.
    """
    parts = []
    with part_of(scales):
        for k in rows:
            report = check_gradient(lambda p, k=k: memo(p)[k], row_grad(k), x, **options)
            memo.serving = True
            parts.append(Part(report, memo.outputs.locate(k)))
    return parts


def numeric_matrix(parts: list[Part], analytic: np.ndarray, inputs: Layout, outputs: Layout):
    """Return the numeric Jacobian as the checker saw it, and the mask of failed entries.

    Entries that passed agree with `analytic` within their tolerance, so `analytic` stands
    for them; failed entries take the checker's numeric value.
    """
    numeric, failed = analytic.astype(float), np.zeros(analytic.shape, dtype=bool)
    for part in parts:
        k = outputs.entry(*part.output)
        for failure in part.report.failures:
            i = inputs.entry(failure.path, failure.index)
            numeric[k, i], failed[k, i] = failure.numeric, True
    return numeric, failed


def _tag(failure: Failure, part: Part) -> Failure:
    changes: dict[str, Any] = {}
    if part.rename is not None:
        changes["path"] = part.rename
    if part.output is not None:
        changes["output_path"], changes["output_index"] = part.output
    return dataclasses.replace(failure, **changes)


def _for_output(item: Inconclusive, part: Part) -> Inconclusive:
    """Name the output entry (a row's "loss") in the reason of a row's inconclusive item."""
    if part.output is None:
        return item
    return dataclasses.replace(item, reason=f"for output {entry_name(*part.output)}, {item.reason}")


def _summary(old: ParamSummary | None, new: ParamSummary, path: str) -> ParamSummary:
    if old is None:
        return dataclasses.replace(new, path=path)
    return dataclasses.replace(
        old,
        passed=old.passed and new.passed,
        max_rel_error=max(old.max_rel_error, new.max_rel_error),
        checked=old.checked + new.checked,
        failed=old.failed + new.failed,
        status=worst_status([old.status, new.status]),  # a merged parameter: its rows' worst
        detection_floor=float(np.fmax(old.detection_floor, new.detection_floor)),
    )


def _scatter(old: dict | None, new: dict, limit: int = 200) -> dict:
    if old is None:
        return {key: list(values) for key, values in new.items()}
    room = max(limit - len(old.get("analytic", [])), 0)
    return {key: old.get(key, []) + list(values)[:room] for key, values in new.items()}


class _Merged(NamedTuple):
    failures: list
    params: dict
    kinks: list
    notes: list
    scatter: dict
    inconclusive: list


def _collect(parts: list[Part]) -> _Merged:
    merged = _Merged([], {}, [], [], {}, [])
    for part in parts:
        report = part.report
        merged.failures.extend(_tag(f, part) for f in report.failures)
        for path, summary in report.params.items():
            name = part.rename if part.rename is not None else path
            merged.params[name] = _summary(merged.params.get(name), summary, name)
            merged.scatter[name] = _scatter(merged.scatter.get(name), report.scatter.get(path, {}))
        for path, index in report.kinks:
            kink = (part.rename if part.rename is not None else path, index)
            if kink not in merged.kinks:
                merged.kinks.append(kink)
        merged.notes.extend(n for n in report.notes if n not in merged.notes)
        merged.inconclusive.extend(_for_output(item, part) for item in report.inconclusive)
    merged.failures.sort(key=lambda f: -f.ratio if np.isfinite(f.ratio) else -np.inf)
    return merged


def merge(
    parts: list[Part],
    *,
    mode: str,
    title: str,
    diagnoses: list,
    n_evaluations: int,
    passed: bool = True,
    notes: Iterable[str] = (),
) -> GradientReport:
    """Return one report for the checks in `parts`; `passed` adds a verdict of the caller's.

    Fields that :class:`GradientReport` may carry beyond those set here (an
    ``inconclusive`` list, for instance) come from the parts: lists are concatenated.
    """
    merged = _collect(parts)
    fields = {
        "passed": passed and all(part.report.passed for part in parts),
        "max_rel_error": max(part.report.max_rel_error for part in parts),
        "n_evaluations": int(n_evaluations),
        "failures": merged.failures,
        "params": merged.params,
        "kinks": merged.kinks,
        "diagnoses": list(diagnoses),
        "mode": mode,
        "notes": merged.notes + [n for n in notes if n not in merged.notes],
        "scatter": merged.scatter,
        "title": title,
        "inconclusive": merged.inconclusive,
    }
    return dataclasses.replace(parts[0].report, **fields)


def pairs_note(what: str, pairs: list[str], limit: int = 8) -> str | None:
    """Return ``"<what> (output <- input): a <- b, ..."``, or None without pairs."""
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return None
    more = f" and {len(pairs) - limit} more" if len(pairs) > limit else ""
    return f"{what} (output <- input): " + ", ".join(pairs[:limit]) + more


def wrong_entries_note(failures: list) -> str | None:
    """Return a note naming the wrong Jacobian entries as ``output <- input``, or None."""
    pairs = [
        f"{entry_name(f.output_path, f.output_index)} <- {entry_name(f.path, f.index)}"
        for f in failures
        if f.output_path is not None
    ]
    return pairs_note("wrong Jacobian entries", pairs)


def kinks_note(rows: list[Part]) -> str | None:
    """Return a note naming the Jacobian entries at kinks as ``output <- input``, or None."""
    pairs = [
        f"{entry_name(*part.output)} <- {entry_name(path, index)}"
        for part in rows
        for path, index in part.report.kinks
    ]
    return pairs_note("Jacobian entries at kinks, not failures", pairs)
