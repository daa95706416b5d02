"""Regenerate the committed example reports in ``reports/`` (seeded, reproducible).

Run from the repository root:  python examples/make_reports.py [--out reports]

It runs ``gradcheck demo`` (the healthy reference run, its checks, two deliberately broken
copies, and our first user's sigmoid network) and each user story of ``examples/`` with
``--report``, then writes ``reports/README.md``, the index. Timings and the environment
section differ between machines; every number a check or the monitor computes is seeded.
"""

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

import story_accumulating_grad
import story_relu_cost_sum
import story_scanr_batch
import story_sigmoid_mnist

from gradcheck.cli import main as gradcheck_main

STORIES = [  # (file stem, module, what the reader sees)
    (
        "story-a-c-sigmoid-mnist",
        story_sigmoid_mnist,
        "Stories (a) and (c): `sigmoid_prime` of the wrong argument and a missing output "
        "derivative found layer by layer; a regularization mismatch found per unpacked parameter.",
    ),
    (
        "story-b-relu-cost-sum",
        story_relu_cost_sum,
        "Story (b): a ReLU net whose cost grows to infinity: the gradient is 64x (the batch size) "
        "too large; the monitor names the exploding update first, and the divergence, the "
        "overflow and the first Inf as its consequences.",
    ),
    (
        "story-d-accumulating-grad",
        story_accumulating_grad,
        "Story (d): gradients that accumulate across calls (a missing `zero_grad()`).",
    ),
    (
        "story-scanr-batch-mixing",
        story_scanr_batch,
        "A batched `scanr`-style backprop ported from Haskell whose backward mixes samples.",
    ),
]
DEMO = [
    (
        "demo/report.html",
        "The healthy run: the reference MLP on the bundled digits, monitored "
        "(no findings), its layer-by-layer and full gradient checks, and two broken copies.",
    ),
    (
        "demo/sigmoid-story.html",
        "Story (a) in training: 1000 sigmoid units on raw 0..255 pixels "
        "under the monitor: saturation first, exploding updates (the loss rises after a large "
        "step), and the underflow that follows from the saturation.",
    ),
    (
        "demo/report.json",
        "The healthy run's data, to re-render: "
        "`gradcheck report reports/demo/report.json -o report.html`.",
    ),
]


def run_demo(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            gradcheck_main(["demo", "--out", tmp, "--no-progress"])
        (out / "demo").mkdir(parents=True, exist_ok=True)
        for name in ("report.html", "report.json", "sigmoid-story.html"):
            shutil.copy(Path(tmp) / name, out / "demo" / name)


def run_stories(out: Path) -> None:
    for stem, module, _ in STORIES:
        with contextlib.redirect_stdout(io.StringIO()):
            module.main(["--report", str(out / f"{stem}.html")])


def write_index(out: Path) -> None:
    lines = [
        "# Example reports",
        "",
        "What gradcheck produces, without installing it. Regenerate them all with",
        "`python examples/make_reports.py` from the repository root (seeded: the same checks",
        "and findings every time; timings and the environment section vary).",
        "",
        "| report | what it shows |",
        "|---|---|",
    ]
    lines += [f"| [{path}]({path}) | {text} |" for path, text in DEMO]
    lines += [f"| [{stem}.html]({stem}.html) | {text} |" for stem, _, text in STORIES]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="folder (default %(default)s)")
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)
    run_demo(out)
    run_stories(out)
    write_index(out)
    for path in sorted(out.rglob("*")):
        if path.is_file():
            print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
