"""The integer constants of the fixed-point mode, derived without Python floats.

The fixed mode is the hardware's specification, so every constant it uses is
computed here once, with exact rational (:class:`fractions.Fraction`) or
correctly rounded decimal (:class:`decimal.Decimal`) arithmetic, and rounded to
nearest with ties to even. The RTL generator reads the same object.

Scales:
- attribute values, quantiles, thresholds, min/max: ``word_bits``-bit signed
  words with ``fraction_bits`` fraction bits (1.0 is ``2**fraction_bits``);
- coefficients in [0, 1) (alpha levels, split-point positions): unsigned, with
  ``fraction_bits`` fraction bits, applied as ``(a * c) >> fraction_bits``;
- the quality term: ``QUALITY_FRACTION_BITS`` fraction bits;
- the gain ``dq / n_learned`` (Gini difference): ``GAIN_FRACTION_BITS``;
- the Hoeffding constant ``K = ln(1/delta) / 2``: ``2 * GAIN_FRACTION_BITS``
  fraction bits, so that ``gain * gain * n > K`` compares integers of one scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

__all__ = ["FixedConstants", "FixedPointError", "GAIN_FRACTION_BITS", "QUALITY_FRACTION_BITS",
           "fixed_constants",
           "round_half_even", "alpha"]

#: Fraction bits of the quality term ``sum L_j^2/|L| + sum R_j^2/|R|``.
QUALITY_FRACTION_BITS = 8

#: Fraction bits of the gain ``dq / n_learned``: ``(dq << 8) // n_learned``.
GAIN_FRACTION_BITS = 2 * QUALITY_FRACTION_BITS


class FixedPointError(ValueError):
    """A configuration whose fixed-point arithmetic cannot work."""


def round_half_even(x: Fraction) -> int:
    """Round an exact fraction to the nearest integer, ties to even."""
    return round(x)  # Fraction.__round__ rounds half to even, exactly


def alpha(k: int, q: int) -> Fraction:
    """Target level of quantile ``k`` (1-based) of ``q``: ``k / (q + 1)``, evenly spread."""
    return Fraction(k, q + 1)


def _ln_inverse(delta: float) -> Fraction:
    """``ln(1/delta)`` to 40 significant digits, independent of the platform's libm."""
    with localcontext() as ctx:
        ctx.prec = 40
        return Fraction((Decimal(1) / Decimal(delta)).ln())


@dataclass(frozen=True)
class FixedConstants:
    """Every integer the fixed-point learner uses; see the module docstring for scales."""

    word_bits: int
    fraction_bits: int
    word_min: int
    word_max: int
    one: int  # 1.0
    step_up: tuple[int, ...]  # lambda * alpha_k
    step_down: tuple[int, ...]  # lambda * (1 - alpha_k)
    alpha: tuple[int, ...]  # alpha_k
    split_position: tuple[int, ...]  # p / (P + 1), p = 1..P
    quality_fraction_bits: int
    hoeffding_k: int  # ln(1/delta)/2 with 2*GAIN_FRACTION_BITS fraction bits
    tie_samples: int  # split on a tie when n > tie_samples; -1: no tie rule (tau = 0)
    count_max: int  # 2**count_bits - 1


def tie_samples(delta: float, tau: float) -> int:
    """``floor(K / tau^2)``: for integer ``n``, ``eps < tau`` holds exactly when ``n > this``.

    With ``tau = 0`` the tie rule never fires; -1 stands for that.
    """
    if tau == 0:
        return -1
    k = _ln_inverse(delta) / 2
    return int(k / (Fraction(tau) ** 2))


def fixed_constants(cfg) -> FixedConstants:
    """Derive the integer constants of ``cfg``; refuse a fixed-point configuration that cannot learn."""
    w, f = cfg.word_bits, cfg.fraction_bits
    scale = 1 << f
    lam = Fraction(cfg.step)
    q = cfg.quantiles
    up = tuple(round_half_even(lam * alpha(k, q) * scale) for k in range(1, q + 1))
    down = tuple(round_half_even(lam * (1 - alpha(k, q)) * scale) for k in range(1, q + 1))
    if min(up + down) < 1 and cfg.number == "fixed":
        smallest = min(alpha(1, q), 1 - alpha(q, q))
        need = 0
        while lam * smallest * (1 << need) < Fraction(1, 2):
            need += 1
        raise FixedPointError(
            f"step: lambda={cfg.step} with quantiles={q} gives a quantile step of "
            f"{float(lam * smallest):.3g}, which rounds to 0 with fraction_bits={f} "
            f"(word_bits={w}); at least {need} fraction bits are needed (raise word_bits and "
            f"fraction_bits, or step)")
    k = _ln_inverse(cfg.delta) / 2
    qf = QUALITY_FRACTION_BITS
    return FixedConstants(
        word_bits=w,
        fraction_bits=f,
        word_min=-(1 << (w - 1)),
        word_max=(1 << (w - 1)) - 1,
        one=scale,
        step_up=up,
        step_down=down,
        alpha=tuple(round_half_even(alpha(kk, q) * scale) for kk in range(1, q + 1)),
        split_position=tuple(round_half_even(Fraction(p, cfg.split_points + 1) * scale)
                             for p in range(1, cfg.split_points + 1)),
        quality_fraction_bits=qf,
        hoeffding_k=round_half_even(k * (1 << (2 * GAIN_FRACTION_BITS))),
        tie_samples=tie_samples(cfg.delta, cfg.tau),
        count_max=(1 << cfg.count_bits) - 1,
    )
