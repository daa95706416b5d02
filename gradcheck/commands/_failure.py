"""Whose code raised? Tell the user's own crash from a gradcheck bug, and print it for people.

A command runs the user's code (their factory, loss, gradient, layers). An exception that
is not a :class:`~gradcheck.GradcheckError` is attributed by its innermost frame that lies
neither in the standard library nor in a library gradcheck calls (numpy, scipy,
matplotlib...): a frame of the user's files makes it
theirs (exit status 3, their traceback printed without gradcheck's frames); a frame of
gradcheck's own package makes it a gradcheck bug (exit status 4, with the full traceback
and where to report it).
"""

from __future__ import annotations

import sys
import sysconfig
import traceback
from pathlib import Path

EXIT_USER_CODE = 3
EXIT_INTERNAL = 4

_PACKAGE = Path(__file__).resolve().parents[1]
# libraries gradcheck itself calls: an error raised inside them belongs to their caller
_NEUTRAL_PACKAGES = ("numpy", "scipy", "matplotlib", "sklearn", "hypothesis", "pytest", "_pytest")


class UserCodeFailure(Exception):
    """The user's code raised while gradcheck ran it (importing their file, their factory).

    Carries the original exception as ``original``; the command line reports it as theirs.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


def _stdlib_dirs() -> tuple[Path, ...]:
    names = ("stdlib", "platstdlib")
    return tuple(Path(p).resolve() for p in {sysconfig.get_paths()[n] for n in names})


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _installed_package(path: Path) -> str | None:
    """Return the top-level package of a file under site-/dist-packages, else None."""
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part in ("site-packages", "dist-packages"):
            return parts[i + 1].removesuffix(".py")
    return None


def _owner(filename: str) -> str:
    """Return "gradcheck", "neutral" (stdlib, the libraries gradcheck uses) or "user"."""
    if filename.startswith("<") and not filename.startswith("<string"):
        return "neutral"  # <frozen importlib...> and the like
    path = Path(filename).resolve()
    if _inside(path, _PACKAGE):
        return "gradcheck"
    package = _installed_package(path)
    if package is not None:
        return "neutral" if package in _NEUTRAL_PACKAGES else "user"
    if any(_inside(path, root) for root in _stdlib_dirs()):
        return "neutral"
    return "user"


def is_user_code(exc: BaseException) -> bool:
    """Return True when the innermost non-library frame of `exc` is the user's code."""
    if isinstance(exc, UserCodeFailure):
        return True
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        owner = _owner(frame.filename)
        if owner != "neutral":
            return owner == "user"
    return False


def report_user_error(command: str, exc: BaseException) -> int:
    """Print the user's traceback (gradcheck's frames left out); return exit status 3."""
    exc = exc.original if isinstance(exc, UserCodeFailure) else exc
    summary = traceback.TracebackException.from_exception(exc)
    owners = [_owner(f.filename) for f in summary.stack]
    start = owners.index("user") if "user" in owners else 0  # what led to their code is ours
    summary.stack = traceback.StackSummary.from_list(list(summary.stack)[start:])
    sys.stderr.write("".join(summary.format()))
    where = next((f for f in reversed(summary.stack) if _owner(f.filename) == "user"), None)
    place = f" in {where.filename}, line {where.lineno}, in {where.name}" if where else ""
    print(
        f"gradcheck {command}: error: your code raised {type(exc).__name__}{place}. The "
        "traceback above is from your code, not a gradcheck bug: fix it and run again "
        f"(exit status {EXIT_USER_CODE}).",
        file=sys.stderr,
    )
    return EXIT_USER_CODE


def report_internal_error(command: str, exc: BaseException) -> int:
    """Print the full traceback as a gradcheck bug; return exit status 4."""
    traceback.print_exception(exc, file=sys.stderr)
    print(
        f"gradcheck {command}: internal error: {type(exc).__name__}: {exc}. This is a bug in "
        "gradcheck, not in your code: please report it to the gradcheck maintainers with the "
        "traceback above "
        f"(exit status {EXIT_INTERNAL}).",
        file=sys.stderr,
    )
    return EXIT_INTERNAL
