"""The checking layer: gradient, layer, Jacobian and external-program checks."""
