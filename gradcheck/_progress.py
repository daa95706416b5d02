"""A dependency-free progress bar on stderr for long work (training, large checks).

It stays silent for work that finishes within `delay` seconds, and when stderr is not a
terminal (CI logs) unless `enabled=True`, in which case it prints a plain line per 10%.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Show ``label [#####.....] done/total  elapsed  eta`` on one line of `stream`.

    Parameters
    ----------
    total : int
        The amount of work.
    label : str
        What is being done.
    enabled : bool or None
        None (default): only when `stream` is a terminal.
    delay : float
        Seconds before anything is shown, so quick work prints nothing.
    stream : text stream
        Where to write (default ``sys.stderr``).

    Examples
    --------
    >>> with Progress(3, "checking", enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        enabled: bool | None = None,
        delay: float = 1.0,
        stream: TextIO | None = None,
    ) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = is_tty if enabled is None else enabled
        self.interactive = is_tty
        self.delay = delay
        self.done = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1
        self._shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1, note: str = "") -> None:
        """Record `n` more units of work done; redraw at most ten times a second."""
        self.done = min(self.done + n, self.total)
        if not self.enabled:
            return
        now = time.perf_counter()
        too_soon = now - self._last_draw < 0.1 and self.done < self.total
        if now - self.start < self.delay or too_soon:
            return
        self._last_draw = now
        self._draw(now, note)

    def _draw(self, now: float, note: str) -> None:
        elapsed = now - self.start
        fraction = self.done / self.total
        eta = elapsed / fraction - elapsed if fraction > 0 else float("nan")
        text = (
            f"{self.label} [{'#' * int(fraction * 20):.<20}] {self.done}/{self.total} "
            f"{elapsed:5.1f}s eta {eta:5.1f}s {note}"
        )
        if self.interactive:
            self.stream.write("\r" + text.ljust(79))
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Finish the line if anything was shown."""
        if self._shown and self.interactive:
            self.stream.write("\n")
            self.stream.flush()
        self._shown = False
