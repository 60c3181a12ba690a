"""Comparisons read off a subtraction's sign bit.

A comparison maps to a carry chain whose result is the chain's carry out; on
ECP5, nextpnr brings a carry out into the fabric through extra cells (a
feed-out ``CCU2C``, about 2 ns on a quantile lane's update loop). The same
comparison as the sign of the difference, one bit wider, is the chain's last
sum bit, which leaves the chain directly: a quantile lane placed and routed
alone on the LFE5U-85F went from 66.3 to 79.2 MHz (placer seed 1) with its
comparison written so. Exact for any operands: Amaranth's difference of two
values is wide enough to hold every result, so its top bit is the sign.
"""

from __future__ import annotations

from amaranth.hdl import Value, ValueCastable

__all__ = ["greater", "less", "at_least", "at_most"]


def greater(a: Value | ValueCastable | int, b: Value | ValueCastable | int) -> Value:
    """``a > b``: ``b - a`` is negative."""
    return (Value.cast(b) - Value.cast(a))[-1]


def less(a, b) -> Value:
    """``a < b``."""
    return greater(b, a)


def at_least(a, b) -> Value:
    """``a >= b``: not ``a < b``."""
    return ~less(a, b)


def at_most(a, b) -> Value:
    """``a <= b``: not ``a > b``."""
    return ~greater(a, b)
