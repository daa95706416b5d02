"""Numerics of gradient checking: stencils, steps, the differencing engine, error models.

Nothing here knows about reports or diagnoses; :mod:`gradcheck.checking.gradient` composes these
pieces. See :mod:`gradcheck.numeric.differences` for the one differencing engine.
"""
