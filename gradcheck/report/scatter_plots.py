"""Analytic-vs-numeric scatter plots: one per failing gradient check (or layer part).

Inconclusive checks are not failing: they get no scatter, and the note of a run without a
failing check says how many were inconclusive. Drawn by `gradcheck.report.plots`.
"""

from __future__ import annotations

import math
from typing import Any

from gradcheck.report._format import check_title, outcome
from gradcheck.report.model import has_data, series_values

MAX_SCATTERS = 4


def failing_scatters(data: dict) -> list[tuple[str, dict]]:
    """Return ``(title, scatter)`` for each failing gradient check that carries a scatter.

    Failing layers of a layer check contribute their input and parameter sub-reports.
    """
    found = []
    for position, check in enumerate(data.get("checks") or []):
        title = check_title(check, position)
        if check.get("kind") == "layer_check":
            for layer in check.get("layers") or []:
                for label in ("input_gradient", "params"):
                    sub = layer.get(label) or {}
                    if outcome(sub) == "failed" and has_data(sub.get("scatter")):
                        found.append((f"{title}: layer {layer.get('name')} ({label})", sub))
        elif outcome(check) == "failed" and has_data(check.get("scatter")):
            found.append((title, check))
    return found


def draw_scatter(fig: Any, check: dict) -> None:
    """Draw analytic against numeric for up to four parameters of `check`, failing first."""
    scatter = check["scatter"]
    failing = {p.get("path") for p in check.get("params") or [] if outcome(p) == "failed"}
    paths = sorted(scatter, key=lambda p: (p not in failing, p))[:4]
    fig.set_size_inches(3.2 * len(paths), 3.2)
    for i, path in enumerate(paths):
        ax = fig.add_subplot(1, len(paths), i + 1)
        pairs = [
            (n, a)
            for n, a in zip(
                series_values(scatter[path]["numeric"]),
                series_values(scatter[path]["analytic"]),
                strict=False,
            )
            if n is not None and a is not None and math.isfinite(n) and math.isfinite(a)
        ]
        xs, ys = [n for n, _ in pairs], [a for _, a in pairs]
        ax.scatter(xs, ys, s=8, color="C3" if path in failing else "C0")
        if pairs:
            low, high = min(xs + ys), max(xs + ys)
            ax.plot([low, high], [low, high], color="0.5", linewidth=0.8, linestyle="--")
        verdict = " — FAIL" if path in failing else ""
        ax.set_title(
            f"{path or '(bare array)'}{verdict}",
            fontsize=8,
            color="C3" if path in failing else "black",
        )
        ax.set_xlabel("numeric", fontsize=8)
        ax.set_ylabel("analytic", fontsize=8)
        ax.tick_params(labelsize=6)


def no_scatter_note(data: dict) -> str:
    """Return why no scatter is drawn: no checks, no failing check, or no scatter data."""
    checks = data.get("checks") or []
    if not checks:
        return "Not drawn: this run has no gradient checks."
    outcomes = [outcome(check) for check in checks]
    if "failed" in outcomes:
        return "Not drawn: the failing checks carry no `scatter` data."
    if all(o == "passed" for o in outcomes):
        return "Drawn for failing gradient checks only: every check passed."
    unsure = outcomes.count("inconclusive")
    if unsure:
        return (
            "Drawn for failing gradient checks only: no check failed, "
            f"{unsure} of {len(checks)} inconclusive (see the gradient checks)."
        )
    return "Drawn for failing gradient checks only: no check failed."
