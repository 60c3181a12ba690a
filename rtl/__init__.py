"""Amaranth generators for the Hard-ODT learning units (issue 3: in progress).

Each unit is checked against the golden model (:mod:`reference`), which is its
specification. Users import through :mod:`hardodt`.
"""

from rtl.quantile import QuantileStep
from rtl.quantile_learner import QuantileLearner, quantile_sample_layout

__all__ = ["QuantileLearner", "QuantileStep", "quantile_sample_layout"]
