"""Amaranth generators for the Hard-ODT learning units (issue 3: in progress).

Each unit is checked against the golden model (:mod:`reference`), which is its
specification. Users import through :mod:`hardodt`.
"""

from rtl.quantile import QuantileStep

__all__ = ["QuantileStep"]
