"""Benchmark the line protocol's cost per evaluation over an in-process loss of the same cost.

Run: ``python benchmarks/bench_protocol.py`` (about a minute; needs a C compiler ``cc``).

The C example (``examples/protocol/mlp.c``, batch 4) at P ~ 10k and ~ 80k parameters,
and at P = 117, where the compute is next to nothing and the protocol's cost shows bare.
For each size it prints, in microseconds per loss evaluation:

- ``in-process``: the program's own compute, timed inside the program (``--bench-loss``:
  the same perturb-evaluate-restore loop that serves ``loss_at``, with no I/O);
- ``loss_at, window 64`` and ``lockstep`` (window 1): the same evaluations requested over
  the protocol from Python (``Program.loss_at``), per evaluation: the session's time less
  that of a session without requests (start-up, declaration, ``params``, ``quit``);
- ``check``: a whole ``check_gradient`` over the protocol, time / evaluations (every entry
  at 10k; a 5% sample at 80k, where the O(P) requests of any check -- ``params``, ``grad``
  twice, the ~24-48 ``loss_along`` of the noise measurement -- weigh on few evaluations);
- ``overhead``: each minus ``in-process``. Goal (issue 15): <= 30 us per ``loss_at``
  evaluation beyond the program's own compute.

Both wall time and CPU time (gradcheck's process plus the program's) are shown: on a
loaded machine the wall time of two cooperating processes includes waits for a core that
the in-process loop never has, while the CPU time counts only the work done. Each is the
best of three runs (other work on the machine only ever adds).
"""

from __future__ import annotations

import functools
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradcheck import check_gradient  # noqa: E402
from gradcheck.checking.external import Program  # noqa: E402

SIZES = {
    "117": ("8,6,3", 40_000, None),  # next to no compute: the protocol's own cost
    "~10k": ("64,70,10", 20_000, None),
    "~80k": ("196,200,10", 4_000, 0.05),
}
REPEATS = 3


def build(directory: Path) -> str:
    """Compile the C example; return the executable's path."""
    compiler = shutil.which("cc")
    if compiler is None:
        sys.exit("bench_protocol: no C compiler `cc` on PATH")
    exe = directory / "mlp"
    flags = ["-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L"]
    source = str(ROOT / "examples" / "protocol" / "mlp.c")
    subprocess.run([compiler, *flags, "-o", str(exe), source, "-lm"], check=True)
    return str(exe)


def in_process(cmd: list[str], m: int) -> tuple[float, float]:
    """The program's own (wall, CPU) microseconds per loss evaluation, with no I/O."""
    out = subprocess.run([*cmd, "--bench-loss", str(m)], capture_output=True, text=True)
    wall, cpu, _ = out.stdout.split()
    return float(wall), float(cpu)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measured(run, m: int | None = None) -> tuple[float, float]:
    """(wall, CPU of gradcheck and the program) microseconds per evaluation of `run()`.

    `run` starts and reaps the program, so its CPU time counts in RUSAGE_CHILDREN.
    """
    wall, cpu = time.perf_counter(), _cpu()
    n = run()
    n = m if m is not None else n
    return (time.perf_counter() - wall) / n * 1e6, (_cpu() - cpu) / n * 1e6


def marginal(cmd: list[str], m: int, window: int) -> tuple[float, float]:
    """Per-evaluation cost of `m` requests, less a session that sends none (start-up, params)."""
    wall, cpu = measured(functools.partial(over_protocol, cmd, m, window), 1)
    wall0, cpu0 = measured(functools.partial(over_protocol, cmd, 0, window), 1)
    return (wall - wall0) / m, (cpu - cpu0) / m


def over_protocol(cmd: list[str], m: int, window: int) -> int:
    """Request `m` evaluations as ``loss_at`` over the protocol; return `m`."""
    with Program(cmd, window=window) as program:
        rng = np.random.default_rng(0)
        moves = list(zip(rng.integers(0, program.size, m).tolist(), [1e-6] * m, strict=True))
        program.loss_at(moves)
    return m


def whole_check(cmd: list[str], sample: float | None) -> int:
    """Run a whole check over the protocol; return its number of evaluations."""
    with Program(cmd) as program:
        report = check_gradient(
            program.loss, program.grad, program.params, sample=sample, progress=False
        )
    return report.n_evaluations


def best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The fastest wall and CPU times of several runs (noise from other work only adds)."""
    return min(r[0] for r in runs), min(r[1] for r in runs)


def _row(label: str, what: str, times: tuple[float, float], own: tuple[float, float]) -> str:
    wall, cpu = times
    extra = f"{wall - own[0]:9.1f} {cpu - own[1]:9.1f}" if what != "in-process" else ""
    return f"{label:>6} {what:<22} {wall:9.1f} {cpu:9.1f} {extra}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(Path(tmp))
        print(f"{'':>6} {'':<22} {'us/eval':^19} {'overhead':^19}")
        print(f"{'P':>6} {'what':<22} {'wall':>9} {'cpu':>9} {'wall':>9} {'cpu':>9}")
        for label, (sizes, m, sample) in SIZES.items():
            cmd = [exe, "--sizes", sizes, "--batch", "4"]
            own = best([in_process(cmd, m) for _ in range(REPEATS)])
            print(_row(label, "in-process", own, own))
            for what, window, count in (("loss_at, window 64", 64, m), ("lockstep", 1, m // 4)):
                runs = [marginal(cmd, count, window) for _ in range(REPEATS)]
                print(_row(label, what, best(runs), own))
            run = functools.partial(whole_check, cmd, sample)
            print(_row(label, f"check ({run()} ev)", measured(run), own))


if __name__ == "__main__":
    main()
