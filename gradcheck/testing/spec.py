"""The architecture of a reference MLP as a small, readable value (no hypothesis needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MLPSpec:
    """The architecture of a reference MLP, as drawn by :func:`mlp_specs`.

    Examples
    --------
    >>> spec = MLPSpec(sizes=(3, 4, 2), activation="tanh", loss="cross_entropy")
    >>> [layer.name for layer in spec.build(seed=0).layers]
    ['dense1', 'tanh1', 'dense2']
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"
    loss: str = "mse"
    dtype: str = "float64"

    def build(self, seed: int = 0) -> Any:
        """Return the :class:`gradcheck.nn.model.MLP` of this spec."""
        from gradcheck.nn.model import MLP

        return MLP(list(self.sizes), activation=self.activation, seed=seed, dtype=self.dtype)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return ``{"dense1.W": (n_in, n_out), "dense1.b": (n_out,), ...}``, forward order."""
        shapes: dict[str, tuple[int, ...]] = {}
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True), 1):
            shapes[f"dense{i}.W"] = (n_in, n_out)
            shapes[f"dense{i}.b"] = (n_out,)
        return shapes
