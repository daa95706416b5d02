"""The checking layer: gradient, layer, Jacobian and external-program checks.

``gradient*.py`` hold :func:`gradcheck.check_gradient` (arguments, preflight, verdicts,
results), ``layer*.py``, ``function_pair.py``, ``adapters.py`` and
``batch_independence.py`` :func:`gradcheck.check_layers`, ``jacobian*.py`` and
``second_order.py`` the Jacobian and Hessian checks, ``external.py`` and ``protocol.py``
programs in other languages. The diagnoses they report live one layer down, in
:mod:`gradcheck.diagnose`; the differences two layers down, in :mod:`gradcheck.numeric`.
See ``docs/ARCHITECTURE.md``.
"""
