"""The report's sections as renderer-neutral blocks (headings, texts, tables, lists).

`SECTIONS` lists the report's sections in order: adding a section is one row there (its
anchor, its navigation label, the function building its blocks from the run dict). Markdown
and HTML render the same blocks, so both show the same tables. Cells are plain,
unescaped strings; a newline inside a cell is a line break.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gradcheck.monitor.findings import finding_row
from gradcheck.report._format import (
    MISSING,
    check_title,
    fmt_evidence,
    fmt_index,
    fmt_num,
    fmt_outcome,
    fmt_steps,
    full_verdict,
    inconclusive_items,
    outcome,
    outcome_style,
    sorted_findings,
)

WORST_ENTRIES = 10


@dataclass(frozen=True)
class Heading:
    """A section heading; `level` 2 is a top section; an outcome `status` adds a badge.

    The outcome statuses are the values of ``OUTCOME_STYLES``: "pass", "fail", "inconclusive".
    """

    level: int
    text: str
    status: str = ""


@dataclass(frozen=True)
class Text:
    """A paragraph; `status` ("pass", "fail", "inconclusive", "note", "raw") styles it."""

    text: str
    status: str = ""


@dataclass(frozen=True)
class Image:
    """A plot image file (Markdown only): its title and relative path."""

    title: str
    path: str


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: list


@dataclass(frozen=True)
class Table:
    """A table; `statuses` styles each row ("error", "warning", "fail", "inconclusive", ""...).

    `stack` marks a text-heavy table that a narrow screen shows as one card per row.
    """

    headers: list
    rows: list
    statuses: list = field(default_factory=list)
    stack: bool = False


def findings_blocks(monitor: dict | None) -> list:
    """Return the findings section: one table, errors first."""
    blocks: list = [Heading(2, "Training findings")]
    if monitor is None:
        return blocks + [Text("No training monitor in this run.", "note")]
    findings = sorted_findings(monitor)
    if not findings:
        return blocks + [Text("The monitor found nothing to report.", "pass")]
    rows = [_finding_row(f) for f in findings]
    headers = ["Severity", "Code", "Step", "Where", "What happened (evidence)", "Suggestion"]
    statuses = [str(f.get("severity", "")) for f in findings]
    return blocks + [Table(headers, rows, statuses, stack=True)]


def _finding_row(finding: dict) -> list[str]:
    row = finding_row(finding)
    message, evidence = str(row.message or ""), fmt_evidence(row.evidence)
    return [
        str(row.severity or MISSING),
        str(row.code or MISSING),
        fmt_steps(finding),
        str(row.name or MISSING),
        f"{message}\n{evidence}" if evidence else message,
        str(row.suggestion or ""),
    ]


def checks_blocks(checks: list) -> list:
    """Return the gradient-check section: one subsection per check."""
    blocks: list = [Heading(2, "Gradient checks")]
    if not checks:
        return blocks + [Text("No gradient checks in this run.", "note")]
    for position, check in enumerate(checks):
        if check.get("kind") == "layer_check":
            blocks += layer_check_blocks(check, position)
        else:
            blocks += gradient_check_blocks(check, position)
    return blocks


def gradient_check_blocks(check: dict, position: int, level: int = 3) -> list:
    """Return the blocks of one ``gradient_check`` dict: summary, params, worst, diagnoses."""
    blocks: list = [
        Heading(level, check_title(check, position), outcome_style(check)),
        Text(_check_summary(check)),
    ]
    params = check.get("params") or []
    if params:
        headers = ["Parameter", "Shape", "Result", "Max rel. error", "Checked", "Failed"]
        rows = [_param_row(p) for p in params]
        blocks.append(Table(headers, rows, [outcome_style(p) for p in params]))
    blocks += inconclusive_blocks(inconclusive_items(check), level + 1)
    blocks += failures_blocks(check.get("failures") or [], check.get("n_failures"), level + 1)
    blocks += diagnoses_blocks(check.get("diagnoses") or [], level + 1)
    blocks += _kinks_blocks(check.get("kinks") or [])
    notes = [str(n) for n in check.get("notes") or []]
    return blocks + ([Items(notes)] if notes else [])


def _check_summary(check: dict) -> str:
    parts = [
        f"max relative error {fmt_num(check.get('max_rel_error'))}",
        f"{fmt_num(check.get('n_evaluations'))} loss evaluations",
        f"method {check.get('method') or MISSING}",
        f"mode {check.get('mode') or MISSING}",
    ]
    dtype, evaluated = check.get("dtype"), check.get("evaluated_dtype")
    if dtype:
        parts.append(f"dtype {dtype}" + (f" (evaluated in {evaluated})" if evaluated else ""))
    return ", ".join(parts) + "."


def _param_row(param: dict) -> list[str]:
    shape = param.get("shape")
    return [
        str(param.get("path") or "(bare array)"),
        fmt_index(shape) if shape is not None else MISSING,
        fmt_outcome(param),
        fmt_num(param.get("max_rel_error")),
        fmt_num(param.get("checked")),
        fmt_num(param.get("failed")),
    ]


def inconclusive_blocks(items: list, level: int, label: str = "") -> list:
    """Return what could not be certified: one row per item, its reason and what to change."""
    if not items:
        return []
    headers = ["Parameter", "Entries", "Why it is inconclusive", "What to change"]
    rows = [_inconclusive_row(item, label) for item in items]
    heading = f"Inconclusive ({len(rows)} could not be certified)"
    return [Heading(level, heading), Table(headers, rows, ["inconclusive"] * len(rows), True)]


def _inconclusive_row(item: dict, label: str) -> list[str]:
    path = item.get("path")
    name = "(whole check)" if path is None else (path or "(bare array)")
    entries = item.get("entries")
    return [
        f"{label} {name}".strip() if label else name,
        fmt_num(entries) if isinstance(entries, int) and entries > 0 else MISSING,
        str(item.get("reason") or MISSING),
        str(item.get("advice") or ""),
    ]


def failures_blocks(failures: list, n_failures: Any, level: int, label: str = "") -> list:
    """Return the worst-entries table (at most ``WORST_ENTRIES`` rows)."""
    if not failures:
        return []
    total = n_failures if isinstance(n_failures, int) else len(failures)
    shown = failures[:WORST_ENTRIES]
    heading = f"Worst entries ({len(shown)} of {total} failing)"
    headers = ["Parameter", "Index", "Analytic", "Numeric", "Error", "Tolerance", "Error / tol."]
    rows = [_failure_row(f, label) for f in shown]
    return [Heading(level, heading), Table(headers, rows, ["fail"] * len(rows))]


def _failure_row(failure: dict, label: str) -> list[str]:
    path = str(failure.get("path") or "")
    name = f"{label} {path}".strip() if label else (path or "(bare array)")
    return [
        name,
        fmt_index(failure.get("index")),
        fmt_num(failure.get("analytic"), 6),
        fmt_num(failure.get("numeric"), 6),
        fmt_num(failure.get("error")),
        fmt_num(failure.get("tolerance")),
        fmt_num(failure.get("ratio")),
    ]


def diagnoses_blocks(diagnoses: list, level: int) -> list:
    """Return the diagnoses table: best hypothesis first."""
    if not diagnoses:
        return []
    headers = ["Diagnosis", "Where", "Confidence", "Hypothesis", "Evidence"]
    rows = [
        [
            str(d.get("kind") or MISSING),
            str(d.get("path") or MISSING),
            fmt_num(d.get("confidence"), 2),
            str(d.get("message") or ""),
            fmt_evidence(d.get("evidence")),
        ]
        for d in diagnoses
    ]
    return [Heading(level, "Diagnoses"), Table(headers, rows, stack=True)]


def _kinks_blocks(kinks: list) -> list:
    if not kinks:
        return []
    shown = ", ".join(
        f"{k.get('path') or '(bare array)'} {fmt_index(k.get('index'))}" for k in kinks[:8]
    )
    more = f" and {len(kinks) - 8} more" if len(kinks) > 8 else ""
    return [
        Text(
            f"{len(kinks)} kink(s) — non-differentiable points, not counted as failures: "
            f"{shown}{more}.",
            "note",
        )
    ]


def layer_check_blocks(check: dict, position: int) -> list:
    """Return the blocks of one ``layer_check`` dict: its table, then the layers not passed."""
    layers = check.get("layers") or []
    title = check_title(check, position)
    blocks: list = [Heading(3, title, outcome_style(check)), Text(_layers_summary(check))]
    headers = [
        "#",
        "Layer",
        "Kind",
        "Result",
        "Max rel. error",
        "Params",
        "Batch-independent",
        "Verdict",
    ]
    rows = [_layer_row(layer) for layer in layers]
    statuses = [outcome_style(layer) for layer in layers]
    blocks.append(Table(headers, rows, statuses, stack=True))
    for layer in layers:
        if outcome(layer) in ("failed", "inconclusive"):
            blocks += _layer_detail_blocks(layer)
    return blocks


def _layers_summary(check: dict) -> str:
    layers = check.get("layers") or []
    outcomes = [outcome(layer) for layer in layers]
    failed = [layer for layer in layers if outcome(layer) == "failed"]
    first, where = (failed[0].get("index"), failed[0].get("name")) if failed else (None, None)
    text = f"{len(layers)} layers checked, {len(failed)} failed"
    if "inconclusive" in outcomes:
        text += f", {outcomes.count('inconclusive')} inconclusive"
    if first is not None:
        text += f"; the first failure is layer {first}" + (f" ({where})" if where else "")
    return text + f"; {fmt_num(check.get('n_evaluations'))} evaluations."


def _layer_row(layer: dict) -> list[str]:
    return [
        fmt_num(layer.get("index")),
        str(layer.get("name") or MISSING),
        str(layer.get("kind") or MISSING),
        fmt_outcome(layer),
        fmt_num(layer.get("max_rel_error")),
        fmt_num(layer.get("n_params")),
        fmt_num(layer.get("batch_independent")),
        full_verdict(layer),
    ]


def _layer_detail_blocks(layer: dict) -> list:
    """Return a failed or inconclusive layer's verdict, what it could not certify, its worst."""
    style = outcome_style(layer)
    title = f"Layer {fmt_num(layer.get('index'))}: {layer.get('name')}"
    blocks: list = [Heading(4, title, style)]
    if layer.get("verdict"):
        blocks.append(Text(full_verdict(layer), style))
    subreports = [("∂input", layer.get("input_gradient")), ("", layer.get("params"))]
    diagnoses = list(layer.get("diagnoses") or [])
    for label, sub in subreports:
        if isinstance(sub, dict):
            blocks += inconclusive_blocks(inconclusive_items(sub), 5, label)
            blocks += failures_blocks(sub.get("failures") or [], sub.get("n_failures"), 5, label)
            diagnoses += [d for d in sub.get("diagnoses") or [] if d not in diagnoses]
    return blocks + diagnoses_blocks(diagnoses, 5)


def context_blocks(data: dict) -> list:
    """Return the configuration, environment and notes section."""
    blocks: list = [Heading(2, "Run configuration and environment")]
    config, env = data.get("config") or {}, data.get("environment") or {}
    if config:
        blocks += [Heading(3, "Configuration"), _key_value_table(config)]
    if env:
        blocks += [Heading(3, "Environment"), _key_value_table(env)]
    notes = [str(n) for n in data.get("notes") or []]
    if notes:
        blocks += [Heading(3, "Notes"), Items(notes)]
    return blocks


def _key_value_table(mapping: dict) -> Table:
    rows = [[str(k), _plain_value(v)] for k, v in mapping.items()]
    return Table(["Key", "Value"], rows)


def _plain_value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "))
    return fmt_num(value, 6)


def _findings_section(data: dict) -> list:
    return findings_blocks(data.get("monitor"))


def _checks_section(data: dict) -> list:
    return checks_blocks(data.get("checks") or [])


class Section(NamedTuple):
    """One section of the report, in `SECTIONS` order."""

    anchor: str  # the HTML id (and the navigation link's target)
    label: str  # the navigation label
    blocks: Callable[[dict], list] | None  # run dict -> blocks; None: the renderer's plots


SECTIONS = (
    Section("findings", "Findings", _findings_section),
    Section("checks", "Gradient checks", _checks_section),
    Section("plots", "Plots", None),
    Section("environment", "Environment", context_blocks),
)
