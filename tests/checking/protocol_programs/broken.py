"""The reference program with one deliberate fault or protocol violation (for the tests).

python broken.py --violate KIND      a protocol violation the conformance test must name
python broken.py --fault KIND --after N [--pidfile PATH]
                                     a fault on request N+1 (after the declaration)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "protocol"))
import reference as ref  # noqa: E402


def _digits(net, args):
    return f"{net.loss(net.theta):.6g}"


def _base(net, args):
    net.theta[int(args[0])] += float(args[1])  # moves the base
    return repr(net.loss(net.theta))


def _zero(net, args):
    return repr(net.loss(net.theta) + 1e-3)


def _along(net, args):
    tv = ref.parse(args, net.theta.size + 1, "loss_along")
    return repr(net.loss(net.theta - tv[0] * tv[1:]))


def _count(net, args):
    return ref.fmt(net.grad(net.theta)[:-1])


def _shape(net, args):
    n, e, *values = ref.r_forward(net, args).split(" ")
    return " ".join([n, e, *values[:-1]])


def _crash(net, args):
    if int(args[0]) >= net.theta.size:
        sys.exit(3)
    return ref.r_loss_at(net, args)


def _float32(net, args):
    ref.r_params(net, args)
    net.theta = net.theta.astype("float32").astype(float)
    return "ok"


def _loss_at32(net, args):
    return ref.r_loss_at(net, [args[0], repr(float(__import__("numpy").float32(args[1])))])


# violation -> (request it replaces, new handler); "header" and "quit" are special
VIOLATIONS = {
    "digits": ("loss", _digits),
    "base": ("loss_at", _base),
    "zero": ("loss_at", _zero),
    "along": ("loss_along", _along),
    "count": ("grad", _count),
    "shape": ("forward", _shape),
    "crash": ("loss_at", _crash),
    "float32": ("params", _float32),
    "float32-steps": ("loss_at", _loss_at32),
}


def fault(kind: str) -> str | None:
    """Do the fault; return the (bad) answer to print, if any."""
    print(f"broken: about to {kind}", file=sys.stderr, flush=True)
    if kind == "exit":
        sys.exit(3)
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "partial":
        sys.stdout.write("0.12")
        sys.stdout.flush()
    if kind in ("hang", "partial"):
        time.sleep(3600)
    return {"junk": "hello there", "count": "1.0 2.0", "error": "error the net blew up"}[kind]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--violate", default=None)
    parser.add_argument("--fault", default=None)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--pidfile", default=None)
    args = parser.parse_args()
    if args.pidfile:
        Path(args.pidfile).write_text(str(os.getpid()))
    net = ref.Net([4, 5, 3], 6, 0)
    if args.violate in VIOLATIONS:
        name, handler = VIOLATIONS[args.violate]
        ref.REQUESTS[name] = handler
    lines = net.declaration()
    if args.violate == "header":
        lines[0] = "gradcheck protocol 1"
    print("\n".join(lines), flush=True)
    for count, raw in enumerate(sys.stdin):
        line = raw.rstrip("\n")
        if line == "quit":
            return 1 if args.violate == "quit" else 0
        answer = ref.answer(net, line)
        if args.fault and count >= args.after:
            answer = fault(args.fault)
        print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
