"""Training-stability monitoring: named arrays in, findings out (knows nothing of nn/)."""

from gradcheck.monitor.codes import DETECTORS
from gradcheck.monitor.detectors import THRESHOLDS
from gradcheck.monitor.findings import FINDINGS, Finding
from gradcheck.monitor.monitor import Monitor
from gradcheck.monitor.schedules import every, logarithmic
from gradcheck.monitor.watch import WatchedStack, watch

__all__ = [
    "DETECTORS",
    "FINDINGS",
    "THRESHOLDS",
    "Finding",
    "Monitor",
    "WatchedStack",
    "every",
    "logarithmic",
    "watch",
]
