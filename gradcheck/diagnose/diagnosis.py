"""The record every diagnosis is: kind, path, confidence, message and evidence.

A leaf module of its own, so that every module that builds diagnoses (array fits, hints
across parameters, layer and Jacobian diagnoses) imports it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gradcheck._jsonsafe import json_float, to_jsonable

__all__ = ["Diagnosis"]


@dataclass(frozen=True)
class Diagnosis:
    """A hypothesis about what is wrong in the user's gradient code.

    Attributes
    ----------
    kind : str
        One of :data:`gradcheck.diagnose.arrays.KINDS`.
    path : str or None
        The parameter it concerns, or None for the whole tree.
    confidence : float
        In [0, 1], from the goodness of fit of the kind's model.
    message : str
        The hypothesis in plain words and what to look at in the user's code.
    evidence : dict
        The numbers behind it (e.g. ``{"factor": 2.0, "matched": "2"}``).

    Examples
    --------
    >>> Diagnosis("zero", "W1", 1.0, "`W1` is never written.", {}).to_dict()["kind"]
    'zero'
    """

    kind: str
    path: str | None
    confidence: float
    message: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return a JSON-safe dict (non-finite floats encoded as strings)."""
        return {
            "kind": self.kind,
            "path": self.path,
            "confidence": json_float(self.confidence),
            "message": self.message,
            "evidence": to_jsonable(self.evidence),
        }
