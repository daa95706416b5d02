"""``gradcheck check`` for Jacobian factories, named by the keys of the dict they return.

``{"f", "vjp", "x"}``, ``{"f", "jvp", "x"}``, ``{"grad", "hvp", "params"}`` or
``{"grad", "hessian", "params"}``. The command's ``--method``, ``--rtol``, ``--atol``,
``--eps``, ``--sample``, ``--directions`` and ``--seed`` apply to every row and projection
of the Jacobian.
"""

from __future__ import annotations

import argparse
from typing import Any

#: keys of the factory's dict -> the check that runs on them (their order: its arguments)
JACOBIAN_FACTORIES: dict[tuple[str, str, str], str] = {
    ("f", "vjp", "x"): "check_vjp",
    ("f", "jvp", "x"): "check_jvp",
    ("grad", "hvp", "params"): "check_hvp",
    ("grad", "hessian", "params"): "check_hessian",
}


def jacobian_keys(problem: Any) -> tuple[str, str, str] | None:
    """Return the keys of the Jacobian check `problem` sets up, or None."""
    if not isinstance(problem, dict):
        return None
    return next((keys for keys in JACOBIAN_FACTORIES if set(keys) <= set(problem)), None)


def check_jacobian(problem: dict, args: argparse.Namespace):
    """Run the Jacobian check that the keys of `problem` name; return its report."""
    import gradcheck

    keys = jacobian_keys(problem)
    check = getattr(gradcheck, JACOBIAN_FACTORIES[keys])
    return check(
        *(problem[key] for key in keys),
        method=args.method,
        rtol=args.rtol,
        atol=args.atol,
        eps=args.eps,
        sample=args.sample,
        directions=args.directions,
        seed=args.seed,
    )
