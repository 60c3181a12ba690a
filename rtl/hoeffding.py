"""The Hoeffding test as one comparison, its bound worked out beside the candidates.

The golden model splits when ``gain^2 * n > K``, with ``gain = floor(x / learned)``
and ``x`` the best-minus-second margin with its fraction bits
(``reference.kernels.hoeffding_split``). All of it is integers, so that holds iff
``x >= T * learned`` with ``T = isqrt(floor(K / n)) + 1``
(``reference.kernels.hoeffding_bound``). ``T`` depends on the leaf's count ``n``
alone, known as the trial starts: ``r = T - 1`` is the largest ``r`` with
``r^2 n <= K``, found a bit a cycle from the top (``r^2 n`` kept as a remainder and
updated with shifts and adds, as a square root is), each bit added into
``T * learned`` as it comes, while the candidates go through the trial's pipeline.
Once the best two are known, the test is one comparison, where it used to be a
third division and two wide products.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from reference.fixedpoint import QUALITY_FRACTION_BITS
from rtl.compare import at_least, at_most
from rtl.params import HardwareParams

__all__ = ["HoeffdingJudge", "bound_bits"]


def bound_bits(hoeffding_k: int) -> tuple[int, int]:
    """``(k_bits, root_bits)``: the bits of the constant ``K`` (at least one) and of
    ``isqrt(K)``; ``T = isqrt(floor(K / n)) + 1`` takes ``root_bits + 1``."""
    k_bits = max(1, hoeffding_k.bit_length())
    return k_bits, (k_bits + 1) // 2


class HoeffdingJudge(wiring.Component):
    """Whether the trial's winner passes the Hoeffding test (or the tie rule).

    ``start`` (with ``n`` the leaf's count, held while the result is used) begins the
    bound: ``r = T - 1`` a bit a cycle from the top, each bit added into
    ``r * learned`` (Horner's rule: double, add ``learned`` for a one) a cycle after it
    is found, then ``T * learned = r * learned + learned``: no divider, no multiplier.
    ``ready`` rises ``latency = root_bits + 3`` cycles after the cycle of ``start`` and
    stays until the next ``start``, which may come at any time and begins again.
    ``learned`` must be steady from the cycle after ``start``. ``split`` then answers,
    in the same cycle, for the ``margin`` presented: ``(margin << G) >= T * learned``
    and ``n > 0``, or ``n > tie_samples``.

    Members
    -------
    start : In(1)
    n : In(count_bits)
    learned : In(count_bits + 1)
    margin : In(margin_bits)
    ready, split : Out(1)
    """

    def __init__(self, params: HardwareParams, margin_bits: int) -> None:
        self.p = params
        self.k_bits, self.root_bits = bound_bits(params.config.fixed.hoeffding_k)
        # the start's cycle, a cycle a root bit, the last bit's product step, the + learned
        self.latency = 1 + self.root_bits + 1 + 1
        super().__init__({"start": In(1), "n": In(params.cb), "learned": In(params.cb + 1),
                          "margin": In(margin_bits), "ready": Out(1), "split": Out(1)})

    def elaborate(self, platform) -> Module:
        m = Module()
        fx = self.p.config.fixed
        cb, kb, h = self.p.cb, self.k_bits, self.root_bits
        n, learned = self.n, self.learned
        # at the step for root bit i, with r the bits found so far (all above i):
        rest = Signal(kb)  # K - r^2 n
        cross = Signal(kb)  # r n 2^(i+1) (at most r^2 n <= K: r is a multiple of 2^(i+1))
        square = Signal(cb + 2 * h)  # n 4^i
        # the step's trial term cross + n 4^i, worked out a step ahead for both outcomes of
        # the step before, so that a step is one comparison (and the term's low kb bits
        # only count while n 4^i has no bit above them: `small`)
        term = Signal(kb + 2)
        small = Signal()
        root = Signal(h)  # r, a bit a step into bit 0
        acc = Signal(h + cb + 1)  # r * learned so far, a step behind the root
        need = Signal(h + cb + 2)  # T * learned
        step = Signal(range(h))

        def restart():  # in every state, last: a start begins again from any step
            with m.If(self.start):
                first = n << (2 * (h - 1))
                m.d.sync += [rest.eq(fx.hoeffding_k), cross.eq(0), square.eq(first),
                             term.eq(first[:kb]), small.eq(first[kb:] == 0),
                             root.eq(0), acc.eq(0), step.eq(h - 1)]
                m.next = "ROOT"

        def horner():  # the root's latest bit (bit 0, found a cycle before) into acc
            m.d.sync += acc.eq((acc << 1) + Mux(root[0], learned, 0))

        with m.FSM(name="bound") as fsm:
            with m.State("IDLE"):  # also the result held, until the next start
                restart()
            with m.State("ROOT"):  # (r + 2^i)^2 n = r^2 n + r n 2^(i+1) + n 4^i <= K ?
                fits = small & at_most(term, rest)
                half, low, quarter = cross >> 1, square[:kb], (square >> 2)[:kb]
                m.d.sync += [rest.eq(Mux(fits, rest - term, rest)),
                             cross.eq(Mux(fits, half + low, half)),
                             term.eq(Mux(fits, half + low + quarter, half + quarter)),
                             small.eq(square[kb + 2:] == 0),
                             square.eq(square >> 2), root.eq(Cat(fits, root[:h - 1])),
                             step.eq(step - 1)]
                horner()  # (the first step adds the cleared bit 0: nothing)
                with m.If(step == 0):
                    m.next = "LAST_BIT"
                restart()
            with m.State("LAST_BIT"):
                horner()
                m.next = "PLUS_ONE"
                restart()
            with m.State("PLUS_ONE"):  # T * learned = (r + 1) * learned
                m.d.sync += need.eq(acc + learned)
                m.next = "READY"
                restart()
            with m.State("READY"):
                restart()
        passes = (n != 0) & at_least(Cat(Const(0, QUALITY_FRACTION_BITS), self.margin), need)
        if fx.tie_samples >= 0:
            passes = passes | (n > fx.tie_samples)
        m.d.comb += [self.ready.eq(fsm.ongoing("READY")), self.split.eq(passes)]
        return m
