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

C = course
TRAIN, CONV = {"mode": "train"}, {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
DROPOUT = {"p": 0.8, "mode": "train", "seed": 123}
NORM5, NORM3 = {"gamma": (5,), "beta": (5,)}, {"gamma": (3,), "beta": (3,)}
SBN = (C.spatial_batchnorm_forward, C.spatial_batchnorm_backward)

#: name -> (forward, backward, parameter shapes, settings passed with args=, input shape)
PROBLEMS = {
    "affine": (C.affine_forward, C.affine_backward, {"w": (6, 5), "b": (5,)}, None, (4, 2, 3)),
    "relu": (C.relu_forward, C.relu_backward, {}, None, (4, 5)),
    "batchnorm": (C.batchnorm_forward, C.batchnorm_backward, NORM5, TRAIN, (8, 5)),
    "batchnorm_alt": (C.batchnorm_forward, C.batchnorm_backward_alt, NORM5, TRAIN, (8, 5)),
    "layernorm": (C.layernorm_forward, C.layernorm_backward, NORM5, {}, (6, 5)),
    "dropout": (C.dropout_forward, C.dropout_backward, {}, DROPOUT, (6, 5)),
    "conv": (
        C.conv_forward_naive,
        C.conv_backward_naive,
        {"w": (4, 3, 3, 3), "b": (4,)},
        CONV,
        (2, 3, 5, 5),
    ),
    "maxpool": (C.max_pool_forward_naive, C.max_pool_backward_naive, {}, POOL, (2, 3, 4, 4)),
    "spatial_batchnorm": (*SBN, NORM3, TRAIN, (2, 3, 4, 4)),
}


def course_problems(seed: int = 0) -> dict[str, tuple[list, np.ndarray]]:
    """Return ``{name: ([layer], x)}``: every course layer with an input to check it on."""
    rng = np.random.default_rng(seed)
    problems = {}
    for name, (forward, backward, shapes, settings, x_shape) in PROBLEMS.items():
        params = {key: rng.normal(size=shape) for key, shape in shapes.items()}
        args = () if settings is None else (dict(settings),)
        layer = FunctionPairLayer(forward, backward, params, args=args, name=name)
        problems[name] = ([layer], rng.normal(size=x_shape))
    labels = rng.integers(0, 4, size=8)
    problems["softmax_loss"] = (
        [LossFunctionLayer(C.softmax_loss, args=(labels,))],
        rng.normal(size=(8, 4)),
    )
    return problems


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
