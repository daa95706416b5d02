"""`Monitor`: watch a training run and report the first step and layer that went unhealthy."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradcheck._jsonsafe import to_jsonable
from gradcheck._validate import check_callable, check_positive, check_seed, check_type
from gradcheck.errors import InvalidArgumentError, InvalidTypeError
from gradcheck.monitor import layout
from gradcheck.monitor import stats as st
from gradcheck.monitor.causes import link_causes
from gradcheck.monitor.codes import CODES, LEVELS
from gradcheck.monitor.derive import collect, derive, record_loss
from gradcheck.monitor.detectors import INTEGER_THRESHOLDS, THRESHOLDS
from gradcheck.monitor.findings import Finding, make_finding, update_finding
from gradcheck.monitor.observation import DetectorMemory, Observation
from gradcheck.monitor.scan import ARRAY_ARGS, Scan, all_finite
from gradcheck.monitor.series import Series
from gradcheck.monitor.updates import snapshot, updates

# The origin is what matters for these: later sightings (under other names) update it.


class Monitor:
    """Keep compact statistics of a training run and report numerical problems.

    Call :meth:`observe` once per step, after backward and before the optimizer update;
    read :attr:`findings` (in the order raised). A finding is raised once and then updated
    (``last_step``, ``count``, worst ``evidence``); ``step`` is its onset and
    ``reported_step`` the step it was raised at. See `gradcheck.monitor.findings.FINDINGS`
    for the codes and `gradcheck.monitor.detectors` for the rules.

    Parameters
    ----------
    schedule : callable or None
        ``step -> bool``: the steps with full statistics. Default: the first
        ``detail_dense`` calls, then every 10 steps up to step 200, 20 up to 400, and so on
        up to every ``detail_every`` steps. At every step, whatever the schedule, every array
        is scanned for NaN / Inf and the loss rules run.
    seed : int
        Seed of the fixed sample of entries used for the sample statistics.
    max_points : int
        The series in :meth:`to_dict` are downsampled to at most this many rows.
    **thresholds
        Overrides of `gradcheck.monitor.detectors.THRESHOLDS` (e.g. ``window=10``).

    Notes
    -----
    Protocol: ``observe`` is called after backward and before the optimizer update, so
    the parameters at step t minus those at step t-1 are the update made from the gradient
    of step t-1; `ascent` compares the two. Called after the update instead, the rule still
    works, more weakly (consecutive gradients are correlated).

    NaN / Inf origin (one finding per run, named by the first array holding one): the
    parameters, then the forward pass (each pre-activation just before its activation),
    then the loss (name ``"loss"``), then the gradients in backward order (reverse of the
    order given). See `gradcheck.monitor.observation`.

    Cost: at every step, one pass over each array (its squared norm, one BLAS dot product,
    which is also its NaN / Inf test) and the loss rules. At the scheduled steps, the
    statistics of small arrays are computed together, in one buffer; larger ones through a
    fixed sample of ``sample_size`` entries. Statistics are kept, never the arrays: memory
    stays bounded (the series are thinned past ``2 * max_points``).
    ``benchmarks/bench_monitor.py`` measures the cost against the bare training step.

    Cause before consequence: see `gradcheck.monitor.causes`.

    Examples
    --------
    >>> import numpy as np
    >>> mon = Monitor()
    >>> a = np.ones((4, 3))
    >>> a[0, 1] = np.nan
    >>> _ = mon.observe(0, loss=1.0, activations={"h1": a})
    >>> [(f.code, f.name, f.step) for f in mon.findings]
    [('nan', 'h1', 0)]
    """

    def __init__(
        self,
        *,
        schedule: Callable[[int], bool] | None = None,
        seed: int = 0,
        max_points: int = 5000,
        **thresholds: float,
    ) -> None:
        self.thresholds = _validate_thresholds(thresholds)
        self.schedule = None if schedule is None else check_callable("schedule", schedule)
        self.seed = check_seed("seed", seed)
        check_type("max_points", max_points, (int, np.integer), "an int >= 1")
        self.max_points = int(check_positive("max_points", max_points, allow_none=False))
        self.findings: list[Finding] = []
        self.batch_axis: int | None = None  # 1: activations stored (units, batch)
        self._names: dict[str, None] = {}  # every array name observed, in order
        self._n_arrays = -1
        self._by_key: dict[tuple, Finding] = {}
        self._history = DetectorMemory()
        self._series = Series(capacity=max(2 * self.max_points, 2))
        self._first_histograms: dict | None = None
        self._last: tuple[int, dict, dict] | None = None
        self._warned_layout = False
        self._planned: tuple[int, bool] | None = None  # (next step, whether it is detailed)
        # the observation of every ordinary step, refilled in place (detectors keep no obs)
        self._ordinary_obs = Observation(step=0, loss=None, level="loss")

    def __repr__(self) -> str:
        names = ", ".join(self._names) or "none yet"
        found = ", ".join(f"{f.code}({f.name})@{f.step}" for f in self.findings) or "none"
        return f"Monitor({self._history.n} steps observed; arrays: {names}; findings: {found})"

    def observe(
        self,
        step: int,
        *,
        loss: Any = None,
        activations: Mapping[str, Any] | None = None,
        preactivations: Mapping[str, Any] | None = None,
        gradients: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[Finding]:
        """Record one step; return the findings raised at it.

        Parameters
        ----------
        step : int
            The step number (increasing).
        loss : float or None
            The loss of this step.
        activations, preactivations, gradients, params : mapping or None
            Names -> arrays, in forward order (batch along axis 0 for activations, or along
            axis 1 for every one of them). The arrays are not kept: the monitor copies the
            few entries it needs.

        Returns
        -------
        list of Finding
            The findings that are new at this step (already appended to `findings`).
        """
        arrays = _validate_observe(step, loss, activations, preactivations, gradients, params)
        value, step, hist = _as_loss(loss), int(step), self._history
        record_loss(hist, step, value, self.thresholds)
        planned, self._planned = self._planned, None
        if not (planned[1] if planned is not None and planned[0] == step else self._selects(step)):
            finite, gradients = all_finite(arrays)
            if finite and (value is None or math.isfinite(value)):  # the loss and the scan
                return self._detect(self._ordinary(step, value, gradients, arrays))
        loss_bad = value is not None and not math.isfinite(value)
        with np.errstate(all="ignore"):
            return self._detect(self._detailed(step, value, Scan(arrays, loss_bad=loss_bad)))

    def _ordinary(
        self, step: int, value: float | None, gradients: float, arrays: dict[str, Mapping]
    ) -> Observation:
        """Return the observation of a step without full statistics (every array finite)."""
        self._series.append(step, value)
        following = self._selects(step + 1, ahead=1)
        self._planned = (step + 1, following)
        if following:  # the next step is detailed: keep this one's parameters for its update
            hist = self._history
            with np.errstate(all="ignore"):
                hist.previous = snapshot(arrays, int(self.thresholds["sample_size"]), self.seed)
            hist.sampled_step = step
        obs = self._ordinary_obs
        obs.step, obs.loss = step, value
        obs.derived.grad_total = math.sqrt(gradients) if arrays["gradients"] else None
        return obs

    def _selects(self, step: int, ahead: int = 0) -> bool:
        if self.schedule is not None:
            return bool(self.schedule(step))
        th = self.thresholds
        if self._history.n + ahead <= th["detail_dense"]:
            return True
        # 10 steps apart up to step 200, then 20, 40... up to `detail_every`: a long run's
        # statistics cost little, a short run's problems are seen early.
        stride = 10 << max(0, (step // 100).bit_length() - 1)
        return step % min(stride, th["detail_every"]) == 0

    def _detailed(self, step: int, value: float | None, scan: Scan) -> Observation:
        if len(scan.arrays) != self._n_arrays:  # names change rarely: note new ones
            self._n_arrays = len(scan.arrays)
            self._names.update(dict.fromkeys(scan.names()))
        shapes = [
            a.shape for kind in ("activations", "preactivations") for a in scan.named(kind).values()
        ]
        scan.axis = layout.batch_axis(shapes)
        if scan.axis is None and not self._warned_layout:
            self._warned_layout = True
            warnings.warn(
                "The activations of one step share neither their first nor their second "
                f"dimension (shapes {shapes}); the monitor assumes the batch is along axis 0. "
                "Pass every activation as (batch, units) or every one as (units, batch).",
                stacklevel=3,
            )
        self.batch_axis = scan.axis if scan.axis is not None else 0
        obs = Observation(step=step, loss=value)
        collect(scan, obs, self.thresholds, self.seed, self._history)
        derive(obs, self._history, self.thresholds)
        named = {kind: scan.named(kind) for kind in ("params", "gradients")}
        updates(obs, named, self._history, self.thresholds, self.seed)
        self._record(obs)
        return obs

    def _detect(self, obs: Observation) -> list[Finding]:
        new, hist, th = [], self._history, self.thresholds
        for detector in LEVELS[obs.level]:
            hits = detector(obs, hist, th)
            if not hits:
                continue
            code = detector.__name__.removeprefix("detect_")
            row = CODES[code]
            for name, evidence, score, severity, start in hits:
                key = (code,) if row.one_per_run else (code, name)
                found = self._by_key.get(key)
                if found is None:
                    found = make_finding(
                        code, name, start, evidence, severity=severity, score=score
                    )
                    found.last_step = found.reported_step = obs.step
                    self._series.pin(found.step)
                    self._series.pin(found.last_step)
                    self._by_key[key] = found
                    link_causes(found, self.findings)
                    self.findings.append(found)
                    new.append(found)
                else:
                    score = -math.inf if row.first_evidence else score
                    self._series.unpin(found.last_step)
                    self._series.pin(obs.step)
                    update_finding(found, obs.step, evidence, severity=severity, score=score)
        return new

    def _record(self, obs: Observation) -> None:
        self._series.append(obs.step, obs.loss, obs.metrics)
        samples = (
            {n: s.sample for n, s in obs.activations.items()},
            {n: s.sample for n, s in obs.gradients.items()},
        )
        self._last = (obs.step, *samples)
        if self._first_histograms is None:
            self._first_histograms = self._histograms(self._last)

    def _histograms(self, last: tuple[int, dict, dict]) -> dict:
        step, activations, gradients = last
        bins = int(self.thresholds["histogram_bins"])
        return {
            "step": step,
            "activations": {n: st.histogram(s, bins) for n, s in activations.items()},
            "gradients": {n: st.histogram(s, bins) for n, s in gradients.items()},
        }

    def to_dict(self) -> dict:
        """Return the JSON-safe record of the run: findings, thresholds and series."""
        series = self._series.to_dict(self.max_points)
        histograms = {}
        if self._last is not None:
            with np.errstate(all="ignore"):
                histograms = {"first": self._first_histograms, "last": self._histograms(self._last)}
        series["histograms"] = histograms
        return {
            "kind": "monitor",
            "findings": [f.to_dict() for f in self.findings],
            "thresholds": to_jsonable(self.thresholds),
            "series": series,
        }

    def report(self, path: str) -> Any:
        """Write the report to `path` (.md, .html or .json by suffix) with gradcheck.report."""
        from gradcheck.report import save_monitor_report

        return save_monitor_report(self, path)


def _validate_thresholds(thresholds: dict[str, Any]) -> dict[str, float]:
    unknown = sorted(set(thresholds) - set(THRESHOLDS))
    if unknown:
        valid = ", ".join(THRESHOLDS)
        raise InvalidArgumentError(
            f"Unknown monitor threshold(s) {', '.join(map(repr, unknown))}; valid names: {valid}."
        )
    merged = dict(THRESHOLDS)
    for name, value in thresholds.items():
        number = isinstance(value, int | float | np.integer | np.floating)
        if not number or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            raise InvalidArgumentError(
                f"Monitor threshold `{name}` must be a finite number > 0; got {name}={value!r}."
            )
        if name in INTEGER_THRESHOLDS and value != int(value):
            raise InvalidArgumentError(
                f"Monitor threshold `{name}` counts observations or entries and must be a whole "
                f"number; got {name}={value!r}. Pass an int such as {name}={max(1, round(value))}."
            )
        merged[name] = int(value) if name in INTEGER_THRESHOLDS else float(value)
    return merged


def _validate_observe(step: Any, loss: Any, *mappings: Any) -> dict[str, Mapping]:
    if step.__class__ is not int and (
        isinstance(step, bool) or not isinstance(step, int | np.integer)
    ):
        raise InvalidTypeError(
            f"`step` must be an int; got {step!r} ({type(step).__name__}). Pass the training "
            "step number, e.g. the loop counter."
        )
    if loss is not None and not isinstance(loss, float):
        _validate_loss(loss)
    activations, preactivations, gradients, params = mappings
    if (  # the usual case, without the ABC checks
        activations.__class__ is preactivations.__class__ is gradients.__class__ is dict
        and params.__class__ is dict
    ):
        return {
            "activations": activations,
            "preactivations": preactivations,
            "gradients": gradients,
            "params": params,
        }
    return {name: _mapping(name, m) for name, m in zip(ARRAY_ARGS, mappings, strict=True)}


def _mapping(name: str, mapping: Any) -> Mapping:
    if mapping is not None and not isinstance(mapping, Mapping):
        raise InvalidTypeError(
            f"`{name}` must be a dict of name -> array in forward order; got "
            f"{type(mapping).__name__}. Try `{name}={{'layer1': a1, 'layer2': a2}}`."
        )
    return mapping or {}


def _validate_loss(loss: Any) -> None:
    if np.size(loss) != 1:
        raise InvalidArgumentError(
            f"`loss` must be one number; got an array of shape {np.shape(loss)}. Pass the mean "
            "(or the sum) of the per-sample losses."
        )
    try:
        _as_loss(loss)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"`loss` must be a number; got {loss!r} ({type(loss).__name__}). Pass the loss "
            "value as a float, e.g. `loss=float(loss)`."
        ) from None


def _as_loss(loss: Any) -> float | None:
    if loss is None or isinstance(loss, float):  # np.float64 is a float too
        return None if loss is None else float(loss)
    value = np.asarray(loss).reshape(-1)[0]
    return float(value.real) if np.iscomplexobj(value) else float(value)
