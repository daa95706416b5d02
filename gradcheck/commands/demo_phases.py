"""The demo's checking, story and report phases (see ``gradcheck.commands.demo``).

Each phase is ``phase(state) -> None`` over the demo's shared state. They check the trained
reference MLP layer by layer and as a whole, check two deliberately broken copies (a ReLU
whose backward forgot its derivative, and a gradient computed for a *summed* cost), train
our first user's network (1000 sigmoid units on raw 0..255 pixels) under the monitor, and
write the stability reports.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

CHECK_BATCH = 32  # samples in the batch the gradients are checked on
STORY_EPOCHS = 3
STORY_HIDDEN = 1000


class MissingDerivative:
    """Wrap an activation layer so that its backward forgets the derivative (``dx = dout``)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.name = layer.name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Forward as the wrapped layer does."""
        return self.layer.forward(x)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """Pass the upstream gradient through unchanged: the planted bug."""
        return np.array(grad_y)

    def __repr__(self) -> str:
        return f"MissingDerivative({self.layer!r})"


def _check_batch(state: Any) -> tuple[np.ndarray, np.ndarray]:
    data = state.dataset
    return data.x_test[:CHECK_BATCH], data.y_test[:CHECK_BATCH]


def _problem(state: Any) -> dict:
    """Return the trained MLP's ``{"loss", "grad", "params"}`` on the check batch (once)."""
    from gradcheck.nn.problem import mlp_problem

    if state.problem is None:
        x, y = _check_batch(state)
        state.problem = mlp_problem(state.model, x, y, loss="cross_entropy")
    return state.problem


# a check's status -> (how the heading says it, how the summary line says it)
SAID = {
    "passed": ("passes", "passed"),
    "failed": ("FAILS", "FAILED"),
    "inconclusive": ("is INCONCLUSIVE", "INCONCLUSIVE"),
}


def _say(state: Any, title: str, result: Any) -> None:
    print(f"\n== {title}: {SAID[result.status][0]}\n{result}")
    state.checks.append(result)


def phase_check_layers(state: Any) -> None:
    """Check the trained MLP layer by layer on a batch of test digits."""
    from gradcheck.checking.layers import check_layers

    x, _ = _check_batch(state)
    result = check_layers(state.model.layers, x, seed=state.args.seed, title="trained MLP, layers")
    _say(state, "layer-by-layer check of the trained MLP", result)
    state.summary.append(f"layer check {SAID[result.status][1]}")


def phase_check_gradient(state: Any) -> None:
    """Check the whole network's gradient entry by entry (cross-entropy, one batch)."""
    from gradcheck.checking.gradient import check_gradient

    problem = _problem(state)
    report = check_gradient(**problem, seed=state.args.seed, batch_size=CHECK_BATCH)
    report = dataclasses.replace(report, title="trained MLP, every entry")
    _say(state, "full gradient check of the trained MLP", report)
    state.summary.append(
        f"gradient check of {sum(p.size for p in problem['params'].values()):,} entries "
        f"{SAID[report.status][1]} ({report.n_evaluations:,} evaluations)"
    )


def phase_check_broken(state: Any) -> None:
    """Check two broken copies: a ReLU without its derivative, and a summed-cost gradient."""
    from gradcheck.checking.gradient import check_gradient
    from gradcheck.checking.layers import check_layers

    x, _ = _check_batch(state)
    layers = copy.deepcopy(state.model.layers)
    index = max(i for i, layer in enumerate(layers) if not layer.params)  # last hidden activation
    layers[index] = MissingDerivative(layers[index])
    result = check_layers(layers, x, seed=state.args.seed, title="broken copy: layers")
    _say(state, f"broken copy, layer {index} `{layers[index].name}` forgot its derivative", result)

    problem = _problem(state)
    mean_grad = problem["grad"]

    def summed_grad(params: dict) -> dict:  # the planted bug: no division by the batch size
        return {path: g * len(x) for path, g in mean_grad(params).items()}

    report = check_gradient(
        problem["loss"], summed_grad, problem["params"], seed=state.args.seed, batch_size=len(x)
    )
    report = dataclasses.replace(report, title="broken copy: gradient of the summed cost")
    _say(state, "broken copy, gradient of a summed cost against a mean loss", report)
    found = [d.kind for d in result.diagnoses[:1] + report.diagnoses[:1]]
    state.summary.append(f"broken copies caught: {', '.join(found) or 'NOTHING (a bug!)'}")


def phase_user_story(state: Any) -> None:
    """Train our first user's net: 1000 sigmoid units on raw 0..255 pixels, monitored."""
    from gradcheck.monitor import Monitor
    from gradcheck.nn.data import load_digits
    from gradcheck.nn.model import MLP
    from gradcheck.nn.training import train

    raw = load_digits(seed=state.args.seed, pixel_range=255)
    model = MLP(
        [raw.n_features, STORY_HIDDEN, raw.n_classes],
        activation="sigmoid",
        init="glorot",
        seed=state.args.seed,
    )
    state.story_monitor = Monitor()
    history = train(
        model,
        raw,
        loss="cross_entropy",
        optimizer="sgd",
        lr=0.5,
        epochs=STORY_EPOCHS,
        batch_size=64,
        seed=state.args.seed,
        observer=state.story_monitor,
        progress=not state.args.no_progress,
    )
    print("\n== our user's network: 1000 sigmoid units on raw 0..255 pixels")
    print(history)
    print_findings(state.story_monitor)
    codes = sorted({f.code for f in state.story_monitor.findings if f.severity != "info"})
    state.summary.append(f"user's sigmoid net: {', '.join(codes) or 'no findings'}")


def print_findings(monitor: Any) -> None:
    """Print the monitor's findings table."""
    from gradcheck.monitor.console import format_summary

    print(format_summary(monitor))


def phase_report(state: Any) -> None:
    """Write the healthy run's report and the user story's report (HTML, Markdown, JSON)."""
    from gradcheck.report import RunReport
    from gradcheck.report.save import save_report_formats

    config = {"dataset": "digits", "hidden": "100,50", "seed": state.args.seed}
    main = RunReport.from_objects(
        checks=state.checks,
        monitor=state.monitor,
        config={**config, "activation": "relu", "optimizer": "adam", "dtype": "float64"},
        title="gradcheck demo: reference MLP on handwritten digits",
        notes=[
            "The two 'broken copy' checks fail on purpose: each has one planted bug, to show "
            "what gradcheck says about it. The trained MLP's own checks are the ones to pass."
        ],
    )
    story = RunReport.from_objects(
        monitor=state.story_monitor,
        config={**config, "hidden": str(STORY_HIDDEN), "activation": "sigmoid", "pixels": "0..255"},
        title="a user's network: 1000 sigmoid units on raw pixels",
    )
    written = []
    for stem, report in (("report", main), ("sigmoid-story", story)):
        written += save_report_formats(report, state.out / stem)  # plots drawn once
    print("\nreports: " + ", ".join(str(p) for p in written if p.suffix == ".html"))
    state.summary.append(f"report: {state.out / 'report.html'}")
