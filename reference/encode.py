"""From user values to the learner's numbers: checks, scaling to [-1, 1], quantisation.

This is the host side of the hardware too: the FPGA receives the integers that
:func:`encode_numeric` returns in fixed mode, so it runs in software for both.
Scaling uses IEEE-754 double operations only (+, -, *, /, rint), which are
exactly specified, so the integers do not depend on the platform.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["InputError", "SampleEncoder", "encode_numeric", "encode_categorical", "decode_numeric"]


class InputError(ValueError):
    """A sample the learner refuses: the message names the row and the attribute."""


def encode_numeric(cfg, values: np.ndarray, *, first_row: int = 0) -> tuple[np.ndarray, int]:
    """Map raw numeric values ``[S, N]`` onto the learner's scale.

    Returns the encoded array (float64 in [-1, 1], or int64 with
    ``fraction_bits`` fraction bits) and the number of values outside their
    declared range, which were clamped (``out_of_range = "saturate"``); with
    ``"error"`` such a value raises :class:`InputError`. NaN and infinities
    always raise.
    """
    values = np.asarray(values, dtype=np.float64)
    n = cfg.n_numeric
    if values.ndim != 2 or values.shape[1] != n:
        raise InputError(f"expected {n} numeric attributes per sample, got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(f"row {first_row + r}: attribute {cfg.numeric_attributes[c]!r} is "
                         f"{float(values[r, c])} (NaN and infinities are not allowed)")
    lo = np.array([p[0] for p in cfg.numeric_ranges])
    hi = np.array([p[1] for p in cfg.numeric_ranges])
    outside = (values < lo) | (values > hi)
    n_out = int(outside.sum())
    if n_out and cfg.out_of_range == "error":
        r, c = np.argwhere(outside)[0]
        raise InputError(f"row {first_row + r}: attribute {cfg.numeric_attributes[c]!r} = "
                         f"{float(values[r, c])!r} is outside its declared range "
                         f"[{lo[c]}, {hi[c]}] (out_of_range = 'error')")
    clipped = np.clip(values, lo, hi)
    scaled = (clipped - lo) * (2.0 / (hi - lo)) - 1.0
    scaled = np.clip(scaled, -1.0, 1.0)
    if cfg.number == "float":
        return np.ascontiguousarray(scaled), n_out
    one = cfg.fixed.one
    return np.clip(np.rint(scaled * one), -one, one).astype(np.int64), n_out


def decode_numeric(cfg, attribute: int, value) -> float:
    """The raw value of an encoded one (for showing thresholds in the user's units)."""
    v = float(value) / cfg.fixed.one if cfg.number == "fixed" else float(value)
    lo, hi = cfg.numeric_ranges[attribute]
    return lo + (v + 1.0) * (hi - lo) / 2.0


def encode_categorical(cfg, values, *, first_row: int = 0) -> np.ndarray:
    """Check categorical codes ``[S, C]``: integers in ``0..V-1``; anything else raises."""
    c = cfg.n_categorical
    arr = np.asarray(values)
    if arr.size == 0 and c == 0:
        return np.zeros((arr.shape[0] if arr.ndim else 0, 0), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != c:
        raise InputError(f"expected {c} categorical attributes per sample, got shape {arr.shape}")
    as_float = arr.astype(np.float64)
    if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.floor(as_float)):
        r, col = np.argwhere(~np.isfinite(as_float) | (as_float != np.floor(as_float)))[0]
        raise InputError(f"row {first_row + r}: categorical attribute "
                         f"{cfg.categorical_names[col]!r} = {np.asarray(arr[r, col]).item()!r} is not an "
                         f"integer code")
    codes = as_float.astype(np.int64)
    limits = np.array(cfg.categorical_values)
    bad = (codes < 0) | (codes >= limits)
    if bad.any():
        r, col = np.argwhere(bad)[0]
        raise InputError(f"row {first_row + r}: categorical attribute "
                         f"{cfg.categorical_names[col]!r} = {codes[r, col]} is outside "
                         f"0..{limits[col] - 1} (categorical_values[{col}] = {limits[col]})")
    return np.ascontiguousarray(codes)


class SampleEncoder:
    """One sample at a time, without numpy's per-call overhead (``learn_one``'s path).

    The same IEEE-754 double operations as :func:`encode_numeric`, in the same
    order, so both paths give identical numbers (a test checks it).
    """

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.bounds = [(lo, hi, 2.0 / (hi - lo)) for lo, hi in cfg.numeric_ranges]
        self.fixed = cfg.number == "fixed"
        self.one = cfg.fixed.one
        self.error = cfg.out_of_range == "error"

    def numeric(self, values) -> tuple[list, int]:
        """Encoded numeric values and how many were clamped to their range."""
        out, n_out = [], 0
        for i, v in enumerate(values):
            lo, hi, s = self.bounds[i]
            if not math.isfinite(v):
                raise InputError(f"row 0: attribute {self.cfg.numeric_attributes[i]!r} is {v} "
                                 f"(NaN and infinities are not allowed)")
            if v < lo or v > hi:
                if self.error:
                    raise InputError(f"row 0: attribute {self.cfg.numeric_attributes[i]!r} = "
                                     f"{v!r} is outside its declared range [{lo}, {hi}] "
                                     f"(out_of_range = 'error')")
                n_out += 1
                v = lo if v < lo else hi
            x = (v - lo) * s - 1.0
            x = -1.0 if x < -1.0 else (1.0 if x > 1.0 else x)
            if self.fixed:
                x = max(-self.one, min(self.one, round(x * self.one)))
            out.append(x)
        return out, n_out
