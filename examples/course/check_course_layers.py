"""Check every layer of a course assignment (CS231n-style), one call each.

Each layer of ``layers.py`` is wrapped as it is -- ``FunctionPairLayer(forward, backward,
params, args=(settings,))``, ``LossFunctionLayer(softmax_loss, args=(y,))`` -- and checked
with ``check_layers``. Plant a typical bug with ``--bug NAME`` (see ``--list``); with no
bug every layer passes, batch norm included (no flag: gradcheck measures that its forward
mixes samples and checks the full vector-Jacobian product).

Run:  python examples/course/check_course_layers.py [--bug NAME ...] [--list]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import layers as course  # noqa: E402  (the course's own module, next to this file)

from gradcheck.adapters import FunctionPairLayer, LossFunctionLayer  # noqa: E402
from gradcheck.layers import check_layers  # noqa: E402


def course_problems(seed: int = 0) -> dict[str, tuple[list, np.ndarray]]:
    """Return ``{name: ([layer], x)}``: every course layer with an input to check it on."""
    rng = np.random.default_rng(seed)
    normal = rng.normal
    conv_param, pool_param = (
        {"stride": 1, "pad": 1},
        {"pool_height": 2, "pool_width": 2, "stride": 2},
    )
    pair = FunctionPairLayer
    return {
        "affine": (
            [
                pair(
                    course.affine_forward,
                    course.affine_backward,
                    {"w": normal(size=(6, 5)), "b": normal(size=5)},
                    name="affine",
                )
            ],
            normal(size=(4, 2, 3)),
        ),
        "relu": (
            [pair(course.relu_forward, course.relu_backward, name="relu")],
            normal(size=(4, 5)),
        ),
        "batchnorm": (
            [
                pair(
                    course.batchnorm_forward,
                    course.batchnorm_backward,
                    {"gamma": normal(size=5), "beta": normal(size=5)},
                    args=({"mode": "train"},),
                    name="batchnorm",
                )
            ],
            normal(2.0, 3.0, size=(8, 5)),
        ),
        "batchnorm_alt": (
            [
                pair(
                    course.batchnorm_forward,
                    course.batchnorm_backward_alt,
                    {"gamma": normal(size=5), "beta": normal(size=5)},
                    args=({"mode": "train"},),
                    name="batchnorm_alt",
                )
            ],
            normal(size=(8, 5)),
        ),
        "layernorm": (
            [
                pair(
                    course.layernorm_forward,
                    course.layernorm_backward,
                    {"gamma": normal(size=5), "beta": normal(size=5)},
                    args=({},),
                    name="layernorm",
                )
            ],
            normal(size=(6, 5)),
        ),
        "dropout": (
            [
                pair(
                    course.dropout_forward,
                    course.dropout_backward,
                    args=({"p": 0.8, "mode": "train", "seed": 123},),
                    name="dropout",
                )
            ],
            normal(size=(6, 5)),
        ),
        "conv": (
            [
                pair(
                    course.conv_forward_naive,
                    course.conv_backward_naive,
                    {"w": normal(size=(4, 3, 3, 3)), "b": normal(size=4)},
                    args=(conv_param,),
                    name="conv",
                )
            ],
            normal(size=(2, 3, 5, 5)),
        ),
        "maxpool": (
            [
                pair(
                    course.max_pool_forward_naive,
                    course.max_pool_backward_naive,
                    args=(pool_param,),
                    name="maxpool",
                )
            ],
            normal(size=(2, 3, 4, 4)),
        ),
        "spatial_batchnorm": (
            [
                pair(
                    course.spatial_batchnorm_forward,
                    course.spatial_batchnorm_backward,
                    {"gamma": normal(size=3), "beta": normal(size=3)},
                    args=({"mode": "train"},),
                    name="spatial_batchnorm",
                )
            ],
            normal(size=(2, 3, 4, 4)),
        ),
        "softmax_loss": (
            [LossFunctionLayer(course.softmax_loss, args=(rng.integers(0, 4, size=8),))],
            normal(size=(8, 4)),
        ),
    }


def check_all(seed: int = 0) -> dict:
    """Check every course layer (with the bugs switched on now); return name -> result."""
    return {name: check_layers(layers, x) for name, (layers, x) in course_problems(seed).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bug",
        action="append",
        default=[],
        choices=sorted(course.BUG_NAMES),
        help="plant this bug (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="list the bugs and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, what in course.BUG_NAMES.items():
            print(f"{name:28s} {what}")
        return 0
    with course.bugs(*args.bug):
        results = check_all()
    for name, result in results.items():
        report = result.layers[0]
        print(f"{name:18s} {'PASSED' if report.passed else 'FAILED'}  {report.verdict}")
        for note in report.notes:
            print(f"{'':18s} note: {note}")
    return 0 if all(r.passed for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
