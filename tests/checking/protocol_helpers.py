"""Commands of the protocol test programs, and a check that no child is left running."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "protocol"
REFERENCE = [sys.executable, str(EXAMPLES / "reference.py")]
BROKEN = [sys.executable, str(Path(__file__).parent / "protocol_programs" / "broken.py")]


def gone(pid: int) -> bool:
    """True when `pid` is neither running nor a zombie (it was reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
