"""The quantile update of one attribute: ``Q`` compare-and-adds side by side.

This is the arithmetic of ``reference.kernels._learn_leaf`` for one numeric
attribute and the sample's class, in fixed point, as combinational logic: the
read-modify-write pipeline around it (issue 3) reads ``q`` from the quantile
memory and writes ``q_next`` back.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hardodt.config import Config, ConfigError

__all__ = ["QuantileStep"]


class QuantileStep(wiring.Component):
    """Next value of the ``Q`` quantile estimates of one attribute and one class.

    Parameters
    ----------
    config:
        A fixed-point :class:`hardodt.Config`; its quantiles, word width, step
        constants and step schedule fix the logic.

    Members
    -------
    x : In(signed(word_bits))
        The sample's encoded attribute value.
    first : In(1)
        The class's first sample at this leaf under the ``first`` initial-quantile
        rule: every estimate takes ``x``.
    count : In(count_bits)
        The class's sample count at the leaf, this sample included (the
        decreasing schedule's step depends on it).
    q : In(ArrayLayout(signed(word_bits), quantiles))
        The current estimates.
    q_next : Out(ArrayLayout(signed(word_bits), quantiles))
        The estimates after this sample: up by ``max(lambda, 2^-s) * alpha_k`` when
        ``x > q_k``, else down by ``max(lambda, 2^-s) * (1 - alpha_k)``
        (``s = floor(log2 count)``; without the decreasing schedule, ``lambda``
        alone), saturated to the word.
    """

    def __init__(self, config: Config) -> None:
        if config.number != "fixed":
            self._MustUse__silence = True  # refused, so never elaborated: no warning
            raise ConfigError("number: the hardware needs number = 'fixed'")
        self.config = config
        w, q = config.word_bits, config.quantiles
        super().__init__({
            "x": In(signed(w)),
            "first": In(1),
            "count": In(config.count_bits),
            "q": In(data.ArrayLayout(signed(w), q)),
            "q_next": Out(data.ArrayLayout(signed(w), q)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, fx = self.config, self.config.fixed
        w = cfg.word_bits
        decreasing = cfg.step_schedule == "decreasing"

        # s = floor(log2 count): the position of the highest set bit.
        shift = Signal(range(cfg.count_bits), name="shift")
        for bit in range(cfg.count_bits):
            with m.If(self.count[bit]):
                m.d.comb += shift.eq(bit)

        for k in range(cfg.quantiles):
            up = Signal(w + 1, name=f"up{k}")
            down = Signal(w + 1, name=f"down{k}")
            if decreasing:
                big_up = Signal(w + 1, name=f"big_up{k}")
                big_down = Signal(w + 1, name=f"big_down{k}")
                m.d.comb += [
                    big_up.eq(Const(fx.alpha[k], w + 1) >> shift),
                    big_down.eq(Const(fx.one - fx.alpha[k], w + 1) >> shift),
                    up.eq(Mux(big_up > fx.step_up[k], big_up, fx.step_up[k])),
                    down.eq(Mux(big_down > fx.step_down[k], big_down, fx.step_down[k])),
                ]
            else:
                m.d.comb += [up.eq(fx.step_up[k]), down.eq(fx.step_down[k])]
            # The read-modify-write loop of back-to-back samples runs through here, so
            # the saturation tests are made on the old estimate, beside the adds, not on
            # their sums: cur + up > max  <=>  cur > max - up (and likewise for down);
            # an up move cannot fall below the minimum, nor a down move exceed the maximum.
            cur = self.q[k]
            lim_up = Signal(signed(w + 2), name=f"lim_up{k}")
            lim_down = Signal(signed(w + 2), name=f"lim_down{k}")
            m.d.comb += [lim_up.eq(fx.word_max - up), lim_down.eq(fx.word_min + down)]
            with m.If(self.first):
                m.d.comb += self.q_next[k].eq(self.x)
            with m.Elif(self.x > cur):
                m.d.comb += self.q_next[k].eq(Mux(cur > lim_up, fx.word_max, cur + up))
            with m.Else():
                m.d.comb += self.q_next[k].eq(Mux(cur < lim_down, fx.word_min, cur - down))
        return m
