"""Benchmark parallel checks: serial vs ProcessPoolExecutor(2) vs a 2-worker Dask LocalCluster.

Run: ``python benchmarks/bench_parallel.py`` (about a minute on 2 idle cores; needs
``pip install 'gradcheck[dask]'``). One full central check of the reference MLP
(:func:`gradcheck.nn.problem.mlp_problem`, 64 -> 1066 -> 10, tanh, batch 4: P = 79,960),
run three times in the same process: serially, on a process pool and on a local Dask
cluster, every one with BLAS on one thread (the workers' setting; the reports are then
identical bit for bit, which the script asserts). It prints evaluations per second, the
speedups, the share of the check spent outside the shipped chunks (serial: noise, steps,
refinements), the measured per-task overhead of each executor and the times predicted
for larger models (docs/parallel.md). ``--hidden N`` changes the model size;
``--workers N`` the pool and cluster size. Print ``uptime`` with the result: the goals
(>= 1.7x with processes, >= 1.5x with Dask on 2 cores) assume an otherwise idle machine.
"""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gradcheck  # noqa: E402
from gradcheck.checking import parallel as par  # noqa: E402
from gradcheck.nn.model import MLP  # noqa: E402
from gradcheck.nn.problem import mlp_problem  # noqa: E402

SIZES = (1e6, 1e7, 1e8)
WORKERS_RUN = 2  # --workers
WORKERS = (16, 64, 256)


def problem(hidden: int) -> dict:
    rng = np.random.default_rng(0)
    model = MLP([64, hidden, 10], activation="tanh")
    return mlp_problem(model, rng.standard_normal((4, 64)), rng.integers(0, 10, 4))


def evaluation_cost(p: dict, n: int = 300) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            p["loss"](p["params"])
        best = min(best, (time.perf_counter() - start) / n)
    return best


class ChunkClock:
    """Time spent inside shipped calls (the rest of a check runs in the main process)."""

    def __init__(self):
        self.seconds, self.tasks, self.evaluations = 0.0, 0, 0
        self.original = par._Chunks.run

    def __enter__(self):
        clock = self

        def run(chunks, on_entry):
            start = time.perf_counter()
            try:
                return clock.original(chunks, on_entry)
            finally:
                clock.seconds += time.perf_counter() - start
                clock.tasks += len(chunks.spans)
                clock.evaluations += chunks.perturbed.size

        par._Chunks.run = run
        return self

    def __exit__(self, *exc):
        par._Chunks.run = self.original


def children_cpu() -> float:
    """CPU seconds used so far by this process's children (pool workers, Dask nannies)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # a process that just ended
            continue
        total += times.user + times.system
    return total


def timed_check(p: dict, executor=None):
    with ChunkClock() as clock:
        own, children = time.process_time(), children_cpu()
        start = time.perf_counter()
        report = gradcheck.check_gradient(
            p["loss"], p["grad"], p["params"], progress=False, executor=executor
        )
        wall = time.perf_counter() - start
        clock.own_cpu = time.process_time() - own
        clock.children_cpu = children_cpu() - children
        clock.cpu = clock.own_cpu + clock.children_cpu
    return report, wall, clock


def _noop(x):
    return x


def task_overhead(submit, wait, n: int = 400) -> float:
    """Seconds per task for n tiny tasks submitted at once (overhead, amortized over workers)."""
    wait([submit(_noop, i) for i in range(20)])  # warm up
    start = time.perf_counter()
    wait([submit(_noop, i) for i in range(n)])
    return (time.perf_counter() - start) / n


def predicted(cost80k: float, main_evaluations: float, workers: int, size: float) -> float:
    """Seconds for a full central check of P = `size` on `workers`, from the measured figures.

    The loss of this MLP costs in proportion to P. A full check is 2 P evaluations spread
    over the workers, each chunk paying at most OVERHEAD_SHARE in task overhead, plus the
    evaluations the main process makes itself (noise, steps, calibration, small calls:
    counted here, about constant in P).
    """
    cost = cost80k * size / 80_000
    return 2 * size * cost / workers * (1 + par.OVERHEAD_SHARE) + main_evaluations * cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=1066)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    global WORKERS_RUN
    WORKERS_RUN = args.workers
    import distributed

    p = problem(args.hidden)
    size = sum(v.size for v in p["params"].values())
    cost = evaluation_cost(p)
    print(f"P = {size} parameters; one evaluation {cost * 1e6:.1f} us (BLAS on one thread)")
    print(f"load before: {os.getloadavg()}")
    serial, t_serial, serial_clock = timed_check(p)
    rows = [("serial", serial, t_serial, serial_clock, None)]
    with cf.ProcessPoolExecutor(args.workers) as pool:
        pool_overhead = task_overhead(pool.submit, lambda fs: [f.result() for f in fs])
        report, wall, clock = timed_check(p, pool)
        rows.append((f"ProcessPoolExecutor({args.workers})", report, wall, clock, pool_overhead))
    cluster = distributed.LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        dask_overhead = task_overhead(lambda fn, x: client.submit(fn, x, pure=False), client.gather)
        report, wall, clock = timed_check(p, client)
        rows.append((f"LocalCluster({args.workers} workers)", report, wall, clock, dask_overhead))
    print(f"load after: {os.getloadavg()}")
    _table(rows, size)
    _predictions(cost, rows, size)


def _table(rows, size) -> None:
    serial, t_serial, serial_cpu = rows[0][1], rows[0][2], rows[0][3].cpu
    print(
        f"\n{'run':28} {'wall s':>8} {'eval/s':>10} {'speedup':>8} {'tasks':>6} "
        f"{'outside chunks':>15} {'task overhead':>14} {'CPU s':>7} {'idle est.':>9}  identical"
    )
    for name, report, wall, clock, overhead in rows:
        same = report.to_dict() == serial.to_dict() and str(report) == str(serial)
        shipped = overhead is not None
        outside = f"{wall - clock.seconds:.2f} s" if shipped else "-"
        tasks = str(clock.tasks) if shipped else "-"
        over = f"{overhead * 1e3:.2f} ms" if shipped else "-"
        # on idle cores: this process's CPU runs alone, the workers' CPU is divided by W
        idle = serial_cpu / (clock.own_cpu + clock.children_cpu / WORKERS_RUN)
        print(
            f"{name:28} {wall:8.2f} {report.n_evaluations / wall:10.0f} "
            f"{t_serial / wall:7.2f}x {tasks:>6} {outside:>15} {over:>14} {clock.cpu:7.1f} "
            f"{idle:8.2f}x  {same}"
        )
        assert same, f"{name}: the report differs from the serial one"
    print(f"(P = {size}, {serial.n_evaluations} evaluations per check, verdict {serial.status})")
    print(
        "CPU s: CPU seconds of this process and its children during the check; idle est.: "
        "serial CPU / (CPU here + workers' CPU / workers), the speedup on idle cores"
    )


def _predictions(cost, rows, size) -> None:
    name, report, wall, clock, overhead = rows[2]  # Dask: what a cluster would run
    main_evaluations = max(wall - clock.seconds, 0.0) / cost  # run by the main process
    cost80k = cost * 80_000 / size
    print(
        f"\npredicted full central check on a Dask cluster (per-task overhead "
        f"{overhead * 1e3:.1f} ms, ~{main_evaluations:.0f} evaluations in the main process, "
        "loss cost ~ P):"
    )
    print(f"{'P':>8} " + " ".join(f"{w:>11} workers" for w in WORKERS))
    for p in SIZES:
        cells = [_human(predicted(cost80k, main_evaluations, w, p)) for w in WORKERS]
        print(f"{p:8.0e} " + " ".join(f"{c:>19}" for c in cells))


def _human(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds / length:.1f} {unit}"
    return f"{seconds:.1f} s"


if __name__ == "__main__":
    main()
