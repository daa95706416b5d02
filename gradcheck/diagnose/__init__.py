"""The diagnoses: from a wrong gradient or layer to a plain-words hypothesis about the code.

:mod:`~gradcheck.diagnose.arrays` diagnoses one parameter's arrays (and holds
:class:`Diagnosis`), :mod:`~gradcheck.diagnose.fits` the robust fits and entry patterns behind
them, :mod:`~gradcheck.diagnose.hints` the hints across parameters,
:mod:`~gradcheck.diagnose.layers`, :mod:`~gradcheck.diagnose.normalization` and
:mod:`~gradcheck.diagnose.shapes` the layer-aware diagnoses.
"""
