"""``gradcheck check --workers N`` / ``--scheduler ADDRESS``: spread a check over processes.

``--workers N`` runs the per-entry evaluations on a ``ProcessPoolExecutor(N)``,
``--scheduler ADDRESS`` on the Dask cluster behind that scheduler (``pip install
'gradcheck[dask]'``); with ``--cmd`` each worker starts its own copy of the program. The
report is the serial one (docs/parallel.md).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from gradcheck.errors import InvalidArgumentError

#: Seconds to wait for a Dask scheduler to answer before the check gives up.
CONNECT_TIMEOUT = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--workers`` and ``--scheduler``."""
    workers = "evaluate on N worker processes (the report is the serial one)"
    parser.add_argument("--workers", type=int, default=None, metavar="N", help=workers)
    dask = "evaluate on the Dask cluster of this scheduler (pip install 'gradcheck[dask]')"
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS", help=dask)


@contextlib.contextmanager
def executor_of(args: argparse.Namespace) -> Iterator[Any]:
    """Yield the executor the flags ask for (None: serial); shut it down afterwards."""
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    if workers is not None and scheduler is not None:
        raise InvalidArgumentError("give --workers N or --scheduler ADDRESS, not both.")
    if workers is not None:
        if workers < 1:
            raise InvalidArgumentError(f"--workers {workers}: give at least 1 worker.")
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            yield pool
    elif scheduler is not None:
        with _client(scheduler) as client:
            yield client
    else:
        yield None


def _client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise InvalidArgumentError(
            "--scheduler needs Dask: pip install 'gradcheck[dask]'."
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidArgumentError(
            f"--scheduler {address}: no Dask scheduler answered ({type(exc).__name__}: {exc}). "
            "Start one (`dask scheduler`, then `dask worker ADDRESS`) or use --workers N."
        ) from None
