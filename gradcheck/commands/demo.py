"""``gradcheck demo``: the main job on the embedded real handwritten digits.

The demo runs as a sequence of phases over one :class:`DemoState`. Each phase is a
function ``phase(state) -> None`` listed in ``PHASES``; later work adds phases (gradient
checks of the trained net and of a broken copy, the stability report) by appending to
that tuple. Phases print what they find and write files under ``state.out``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from gradcheck._validate import check_output_dir
from gradcheck.commands.demo_phases import (
    phase_check_broken,
    phase_check_gradient,
    phase_check_layers,
    phase_report,
    phase_user_story,
    print_findings,
)

HELP = (
    "train the reference MLP on handwritten digits under the monitor, check its gradients "
    "and broken copies, and write the reports"
)

EPOCHS = 20  # about 97% test accuracy on digits in a second or two


@dataclass
class DemoState:
    """What the phases share: the flags, the output folder and each phase's results."""

    args: argparse.Namespace
    out: Path
    dataset: object = None
    model: object = None
    history: object = None
    monitor: object = None  # the healthy run's training monitor
    story_monitor: object = None  # the monitor of our user's broken sigmoid network
    checks: list = field(default_factory=list)  # gradient-check results, in order
    problem: dict | None = None  # the trained MLP's function-style problem on the check batch
    summary: list[str] = field(default_factory=list)  # one line per phase for the end


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo flags to `parser`."""
    parser.add_argument(
        "--out",
        default="gradcheck-report",
        help="folder for the results, created if missing (default ./%(default)s/)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of everything (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def phase_data(state: DemoState) -> None:
    """Load the bundled digits."""
    from gradcheck.nn.data import load_digits

    state.dataset = load_digits(seed=state.args.seed)
    print(f"data: {state.dataset!r}")


def phase_train(state: DemoState) -> None:
    """Train the reference MLP under the monitor; print the table; save ``training.json``."""
    from gradcheck.monitor import Monitor
    from gradcheck.nn.model import MLP
    from gradcheck.nn.training import train

    data = state.dataset
    state.model = MLP([data.n_features, 100, 50, data.n_classes], seed=state.args.seed)
    print(f"model: {state.model!r}")
    state.monitor = Monitor()
    state.history = train(
        state.model,
        data,
        loss="cross_entropy",
        optimizer="adam",
        lr=1e-3,
        epochs=EPOCHS,
        batch_size=64,
        seed=state.args.seed,
        observer=state.monitor,
        progress=not state.args.no_progress,
    )
    print(state.history)
    print_findings(state.monitor)
    (state.out / "training.json").write_text(json.dumps(state.history.to_dict(), indent=1))
    final = state.history.final
    state.summary.append(
        f"trained {data.name} to {final['test_acc']:.2%} test accuracy in "
        f"{state.history.seconds:.1f} s"
    )


PHASES = (
    ("data", phase_data),
    ("train", phase_train),
    ("check layers", phase_check_layers),
    ("check gradient", phase_check_gradient),
    ("check broken copies", phase_check_broken),
    ("user story", phase_user_story),
    ("report", phase_report),
)


def run(args: argparse.Namespace) -> int:
    """Run every phase in order; print a one-line summary; return 0."""
    out = check_output_dir("--out", args.out, "Pass a folder, e.g. --out gradcheck-demo.")
    out.mkdir(parents=True, exist_ok=True)
    state = DemoState(args=args, out=out)
    for _, phase in PHASES:
        phase(state)
    print(f"gradcheck demo: {'; '.join(state.summary)}; results in {out}/")
    return 0
