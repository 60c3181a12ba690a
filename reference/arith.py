"""The few operations whose float and fixed-point forms differ, chosen at compile time.

Every helper takes a *mode marker* first: ``0.0`` (float64) selects the float
form, ``0`` (int64) the fixed-point form. The kernels are written once and
numba compiles one specialisation per mode, so the two modes cannot drift
apart in anything but these lines.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

__all__ = ["frac_mul", "left_count", "quality_term"]


def frac_mul(mode, a, c, fraction_bits):
    """``a * c`` for a coefficient ``c`` in [0, 1); fixed: ``(a * c) >> fraction_bits`` (floor)."""
    if isinstance(mode, (int, np.integer)):
        return (a * c) >> fraction_bits
    return a * c


def left_count(mode, n_j, below, q):
    """Left share of class ``j``: ``n_j * below / Q``; fixed: rounded down to an integer."""
    if isinstance(mode, (int, np.integer)):
        return (n_j * below) // q
    return n_j * below / q


def quality_term(mode, sum_sq, total, quality_fraction_bits):
    """``sum_sq / total``; fixed: ``floor(sum_sq * 2^G / total)`` with ``G`` fraction bits."""
    if isinstance(mode, (int, np.integer)):
        return (sum_sq << quality_fraction_bits) // total
    return sum_sq / total


@overload(frac_mul)
def _frac_mul(mode, a, c, fraction_bits):
    if isinstance(mode, types.Integer):
        return lambda mode, a, c, fraction_bits: (a * c) >> fraction_bits
    return lambda mode, a, c, fraction_bits: a * c


@overload(left_count)
def _left_count(mode, n_j, below, q):
    if isinstance(mode, types.Integer):
        return lambda mode, n_j, below, q: (n_j * below) // q
    return lambda mode, n_j, below, q: n_j * below / q


@overload(quality_term)
def _quality_term(mode, sum_sq, total, quality_fraction_bits):
    if isinstance(mode, types.Integer):
        return lambda mode, sum_sq, total, quality_fraction_bits: (
            (sum_sq << quality_fraction_bits) // total)
    return lambda mode, sum_sq, total, quality_fraction_bits: sum_sq / total
