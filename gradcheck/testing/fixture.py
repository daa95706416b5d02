"""The object behind the ``gradcheck`` pytest fixture: project-wide settings and counters.

Nothing here imports numpy or pytest at import time: the plugin reads settings while pytest
configures, and the checker loads on the first ``check``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gradcheck._vocab import CHECK_MODES, CHECK_SETTINGS
from gradcheck.errors import GradientMismatch, InvalidArgumentError
from gradcheck.testing.assertions import layers_failure_text

MODES = CHECK_MODES
DEFAULT_SAMPLE = 16  # entries per parameter checked in "sample" mode
DEFAULT_DIRECTIONS = 4  # random directions per parameter in "directional" mode
OVERRIDABLE = CHECK_SETTINGS  # name -> (accepted types, what): see gradcheck._vocab


@dataclass(frozen=True)
class Settings:
    """Project-wide settings of the fixture; ``None`` means the checker's own default."""

    rtol: float | None = None
    atol: float | None = None
    mode: str = "full"
    seed: int = 0
    report_dir: str | None = None
    eps: float | None = None
    method: str | None = None
    sample: float | None = None
    directions: int | None = None
    explicit: bool = False  # set from a command-line option or an ini value

    def merged(self, overrides: Mapping[str, Any]) -> Settings:
        """Return these settings with `overrides` (marker or call keywords) applied."""
        for name, value in overrides.items():
            _check_override(name, value)
        return replace(self, **overrides)

    def describe(self) -> str:
        """Return ``seed=0 mode=full rtol=default atol=default``: what reproduces a run."""
        rtol = "default" if self.rtol is None else f"{self.rtol:g}"
        atol = "default" if self.atol is None else f"{self.atol:g}"
        return f"seed={self.seed} mode={self.mode} rtol={rtol} atol={atol}"

    def reproduce(self) -> str:
        """Return the command-line options that reproduce a check with these settings."""
        parts = [f"--gradcheck-seed={self.seed}", f"--gradcheck-mode={self.mode}"]
        parts += [f"--gradcheck-{k}={v:g}" for k, v in self.tolerances().items()]
        return " ".join(parts)

    def tolerances(self) -> dict[str, float]:
        """Return the tolerances that are set (the checker's defaults are left out)."""
        return {k: v for k, v in (("rtol", self.rtol), ("atol", self.atol)) if v is not None}

    def gradient_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``check_gradient`` for these settings."""
        kwargs: dict[str, Any] = {"seed": self.seed, **self.tolerances()}
        kwargs.update({k: v for k in ("eps", "method") if (v := getattr(self, k)) is not None})
        if self.mode == "sample":
            kwargs["sample"] = DEFAULT_SAMPLE if self.sample is None else self.sample
        elif self.mode == "directional":
            kwargs["directions"] = (
                DEFAULT_DIRECTIONS if self.directions is None else self.directions
            )
        return kwargs

    def layer_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``check_layers`` ("sample" checks every entry)."""
        mode = "directional" if self.mode == "directional" else "full"
        return {"seed": self.seed, "mode": mode, **self.tolerances()}


def _check_override(name: str, value: Any) -> None:
    if name not in OVERRIDABLE:
        raise InvalidArgumentError(
            f"Unknown gradcheck setting `{name}`; valid settings: {', '.join(OVERRIDABLE)}."
        )
    types, what = OVERRIDABLE[name]
    bad_type = not isinstance(value, types) or isinstance(value, bool)
    if value is not None and (bad_type or (name == "mode" and value not in MODES)):
        raise InvalidArgumentError(f"gradcheck setting `{name}` must be {what}; got {value!r}.")
    if name not in ("rtol", "atol", "eps") or value is None:
        return
    if not (value > 0 if name == "eps" else value >= 0):  # rtol=0 is valid, as in the API
        bound = "> 0" if name == "eps" else ">= 0"
        raise InvalidArgumentError(
            f"gradcheck setting `{name}` must be {bound}; got {name}={value!r}."
        )


def settings_from(values: Mapping[str, Any]) -> Settings:
    """Build :class:`Settings` from the plugin's ``gradcheck_*`` option values (None = unset).

    Raises :class:`~gradcheck.errors.InvalidArgumentError` for a bad value.
    """
    given = {k.removeprefix("gradcheck_"): v for k, v in values.items() if v is not None}
    report_dir = given.pop("report", None)
    settings = Settings(report_dir=report_dir, explicit=bool(given) or report_dir is not None)
    return settings.merged(given)


@dataclass
class CheckStats:
    """Counts of checks, function evaluations and failures, for the terminal summary."""

    checks: int = 0
    evaluations: int = 0
    failures: int = 0
    modes: dict = field(default_factory=dict)  # mode actually used -> number of checks

    def add(self, *, evaluations: int, failed: bool, mode: str | None = None) -> None:
        """Count one check (run in `mode`)."""
        self.checks += 1
        self.evaluations += evaluations
        self.failures += int(failed)
        if mode is not None:
            self.modes[mode] = self.modes.get(mode, 0) + 1

    def describe(self) -> str:
        """Return ``3 checks, 412 evaluations, 1 failed``."""
        plural = "" if self.checks == 1 else "s"
        return (
            f"{self.checks} check{plural}, {self.evaluations} evaluations, {self.failures} failed"
        )


@dataclass(repr=False)
class GradcheckFixture:
    """The ``gradcheck`` fixture: run checks with the project's settings and count them.

    Parameters
    ----------
    settings : Settings
        The resolved settings (ini < command line < marker).
    stats : CheckStats
        Session-wide counters, shared by every test.
    name : str
        The test's id; it names the report files.
    on_failure : callable, optional
        Called with a text block (settings, reproduction, report files) when a check fails;
        the plugin adds it to the test report's sections.

    Examples
    --------
    >>> fixture = GradcheckFixture(Settings(), CheckStats())
    >>> fixture.settings.describe()
    'seed=0 mode=full rtol=default atol=default'
    """

    settings: Settings
    stats: CheckStats
    name: str = "check"
    on_failure: Callable[[str], None] | None = None
    own: CheckStats = field(default_factory=CheckStats)

    def __repr__(self) -> str:
        return f"<gradcheck fixture {self.settings.describe()}: {self.own.describe()}>"

    @property
    def checks(self) -> int:
        """Number of checks this test ran."""
        return self.own.checks

    @property
    def evaluations(self) -> int:
        """Number of function evaluations this test's checks made."""
        return self.own.evaluations

    @property
    def failures(self) -> int:
        """Number of this test's checks that failed."""
        return self.own.failures

    def check(self, loss: Callable, grad: Callable, params: Any, **overrides: Any) -> Any:
        """Check ``grad`` against finite differences of ``loss``; raise if it is wrong.

        `overrides` are settings (``rtol``, ``mode``, ...) for this call, or any other
        keyword of :func:`gradcheck.check_gradient` (``batch_size``...). Returns the
        ``GradientReport``; raises :class:`gradcheck.GradientMismatch` when it fails.
        """
        __tracebackhide__ = True
        from gradcheck.checking.gradient import check_gradient

        settings, extra = self._split(overrides)
        report = check_gradient(loss, grad, params, **settings.gradient_kwargs(), **extra)
        return self._conclude(report, settings, "gradient check")

    def check_layers(self, layers: Any, x: Any, **overrides: Any) -> Any:
        """Check every layer of `layers` on input `x`; raise if one is wrong.

        Returns the ``LayerCheckResult``; raises :class:`gradcheck.GradientMismatch` with the
        per-layer table when a layer fails.
        """
        __tracebackhide__ = True
        from gradcheck.checking.layers import check_layers

        settings, extra = self._split(overrides)
        result = check_layers(layers, x, **settings.layer_kwargs(), **extra)
        return self._conclude(result, settings, "layer check")

    def check_vjp(self, f: Callable, vjp: Callable, x: Any, **overrides: Any) -> Any:
        """Check ``vjp`` with :func:`gradcheck.check_vjp` and these settings; raise if wrong."""
        __tracebackhide__ = True
        return self._jacobian("check_vjp", f, vjp, x, overrides)

    def check_jvp(self, f: Callable, jvp: Callable, x: Any, **overrides: Any) -> Any:
        """Check ``jvp`` with :func:`gradcheck.check_jvp` and these settings; raise if wrong."""
        __tracebackhide__ = True
        return self._jacobian("check_jvp", f, jvp, x, overrides)

    def check_hvp(self, grad: Callable, hvp: Callable, params: Any, **overrides: Any) -> Any:
        """Check ``hvp`` with :func:`gradcheck.check_hvp` and these settings; raise if wrong."""
        __tracebackhide__ = True
        return self._jacobian("check_hvp", grad, hvp, params, overrides)

    def check_hessian(
        self, grad: Callable, hessian: Callable, params: Any, **overrides: Any
    ) -> Any:
        """Check ``hessian`` with :func:`gradcheck.check_hessian`; raise if wrong."""
        __tracebackhide__ = True
        return self._jacobian("check_hessian", grad, hessian, params, overrides)

    def _jacobian(self, name: str, f: Callable, linear: Callable, x: Any, overrides) -> Any:
        __tracebackhide__ = True
        import gradcheck

        settings, extra = self._split(overrides)
        report = getattr(gradcheck, name)(f, linear, x, **settings.gradient_kwargs(), **extra)
        return self._conclude(report, settings, name.removeprefix("check_") + " check")

    def _split(self, overrides: Mapping[str, Any]) -> tuple[Settings, dict[str, Any]]:
        names = {f.name for f in fields(Settings)} & set(overrides)
        settings = self.settings.merged({k: overrides[k] for k in names})
        return settings, {k: v for k, v in overrides.items() if k not in names}

    def _conclude(self, result: Any, settings: Settings, what: str) -> Any:
        __tracebackhide__ = True
        failed = not result.passed
        evaluations = _n_evaluations(result)
        self.stats.add(evaluations=evaluations, failed=failed, mode=settings.mode)
        self.own.add(evaluations=evaluations, failed=failed)
        if not failed:
            return result
        written = self._write_reports(result, settings)
        if self.on_failure is not None:
            self.on_failure(_failure_section(settings, written))
        text = layers_failure_text(result) if what == "layer check" else _gradient_text(result)
        outcome = "was inconclusive" if _status(result) == "inconclusive" else "failed"
        raise GradientMismatch(f"{what} {outcome} ({settings.describe()}):\n{text}", report=result)

    def _write_reports(self, result: Any, settings: Settings) -> list[str]:
        if settings.report_dir is None:
            return []
        stem = Path(settings.report_dir) / f"{_slug(self.name)}-{self.own.failures}"
        config = {k: v for k, v in asdict(settings).items() if k != "explicit"}
        return [str(p) for p in save_reports(result, stem, title=self.name, config=config)]


def _status(result: Any) -> str:
    return getattr(result, "status", "passed" if result.passed else "failed")


def _gradient_text(report: Any) -> str:
    """Return the report's table, led by what could not be certified and what to change."""
    from gradcheck.checking.gradient_verdicts import describe

    head = describe(report) if hasattr(report, "inconclusive") else ""
    return f"{head}\n{report}" if head else str(report)


def _n_evaluations(result: Any) -> int:
    count = getattr(result, "n_evaluations", None)
    if count is None:
        count = result.to_dict().get("n_evaluations", 0)
    return int(count)


def _failure_section(settings: Settings, written: list[str]) -> str:
    lines = [f"settings: {settings.describe()}", f"reproduce with: {settings.reproduce()}"]
    lines += [f"report written to {path}" for path in written]
    return "\n".join(lines)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "check"


def save_reports(
    result: Any, stem: Path, *, title: str | None = None, config: dict | None = None
) -> list[Path]:
    """Write `result` as ``<stem>.json`` and ``<stem>.html``; return the paths written.

    Uses :func:`gradcheck.report.save_check_report` (with `title` and the settings as
    `config`).
    """
    from gradcheck.report import save_check_report

    paths = [stem.parent / f"{stem.name}.json", stem.parent / f"{stem.name}.html"]
    for path in paths:
        save_check_report(result, path, title=title, config=config)
    return paths
