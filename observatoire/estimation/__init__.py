"""Estimation: the variance of figures from raked (calibrated) samples.

`linearisation` holds the one implementation of the linearised (Taylor, residual) variance of
a raked domain share or mean; the dbt Python model `int_indicator_variance` calls it for the
weighted waves, and `fct_indicator` reads the result as `standard_error`.
"""
