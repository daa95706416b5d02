"""The worker side of a parallel check: hold the shipped parameters, evaluate chunks of entries.

A shipment (the pickled loss and the unperturbed private copy of the parameters) reaches
each worker once per check: through ``Client.scatter(broadcast=True)`` on Dask, a file the
worker reads once on a process pool, the object itself on a thread pool. The worker keeps
the last few shipments it saw (:data:`KEPT`), each with its own private copy and
:class:`~gradcheck.numeric.differences.Evaluator`, and evaluates a chunk of rows with the
same loop as the serial engine, so every value is bit-for-bit the serial one. BLAS runs
on one thread during each chunk (threadpoolctl), restored afterwards: the workers share
the cores and do not oversubscribe them.

A :class:`gradcheck.Program` (the line protocol) travels as its command line: each worker
starts its own copy of the program the first time a shipment needs it.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np

from gradcheck import tree as tr
from gradcheck.numeric.differences import Evaluator, entry_values

#: Shipments a worker process keeps (a check ships one per evaluator; the copies of older
#: ones are dropped). Each thread has its own copy: threads must not share one.
KEPT = 2
_STATES: OrderedDict = OrderedDict()  # (key, thread id) -> _State
_PROGRAMS: dict = {}  # (argv, timeout, window, thread id) -> Program
_LOCK = threading.Lock()


class Payload(NamedTuple):
    """What a check ships: its key, and the pickled ``(loss, tree)`` or where to read it."""

    key: str
    blob: bytes | None = None
    path: str | None = None

    def load(self) -> bytes:
        """Return the pickled bytes (read from `path` when shipped as a file)."""
        if self.blob is not None:
            return self.blob
        with open(self.path, "rb") as handle:
            return handle.read()


class _State(NamedTuple):
    evaluator: Evaluator
    copy: tr.PrivateCopy


def _state(payload: Payload) -> _State:
    where = (payload.key, threading.get_ident())
    with _LOCK:
        state = _STATES.get(where)
    if state is None:
        loss, tree = pickle.loads(payload.load())
        copy = tr.PrivateCopy(tree)
        state = _State(Evaluator(loss, copy), copy)
        with _LOCK:
            _STATES[where] = state
            keys = list(dict.fromkeys(key for key, _ in _STATES))
            for old in keys[: max(len(keys) - KEPT, 0)]:
                forget_locked(old)
    return state


def forget(key: str) -> int:
    """Drop the copies of shipment `key` this process kept (the end of a check); return how many."""
    with _LOCK:
        return forget_locked(key)


def forget_locked(key: str) -> int:
    """:func:`forget`, with the lock already held."""
    gone = [where for where in _STATES if where[0] == key]
    for where in gone:
        del _STATES[where]
    return len(gone)


def run_chunk(
    payload: Payload, path: str, indices: np.ndarray, perturbed: np.ndarray, finite_only: bool
) -> tuple[np.ndarray, int]:
    """Evaluate one chunk of rows on this worker; return the values and the evaluation count.

    `perturbed` holds only the columns to evaluate; the returned array has its shape.
    """
    from threadpoolctl import threadpool_limits

    state = _state(payload)
    ev = state.evaluator
    ev.finite_only = finite_only
    before = ev.count
    out = np.empty(perturbed.shape, dtype=np.float64)
    with threadpool_limits(limits=1):
        entry_values(
            ev, state.copy.leaves[path], indices, perturbed, range(perturbed.shape[1]), out
        )
    return out, ev.count - before


# -- programs over the line protocol ------------------------------------------------------


class ProgramSpec(NamedTuple):
    """How to start a copy of a :class:`gradcheck.Program` on a worker."""

    argv: tuple
    timeout: float
    window: int
    params: dict


def worker_program(spec: ProgramSpec) -> Any:
    """Return this worker's copy of the program (started the first time, then reused)."""
    from gradcheck.checking.external import Program

    key = (spec.argv, spec.timeout, spec.window, threading.get_ident())
    program = _PROGRAMS.get(key)
    if program is None or program.child.proc.poll() is not None:
        options = {"timeout": spec.timeout, "window": spec.window, "echo_stderr": False}
        program = Program(list(spec.argv), params=spec.params, **options)
        _PROGRAMS[key] = program
    # the shipped arrays, shared (one pickle) with the shipped layers' live `params`
    program.params = spec.params
    return program
