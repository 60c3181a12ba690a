"""The quantile learners: one memory and one update unit per numeric attribute.

Memory-based sharing: every element and class of an attribute shares one
:class:`~rtl.quantile.QuantileStep`; the estimates live in one memory per
attribute, a word of ``Q`` estimates per (element, class). The update is a
two-stage read-modify-write that accepts one sample per cycle:

- stage 1 (read): the sample's address ``element * classes + class`` goes to
  the read port;
- stage 2 (compute and write): the update unit computes the new estimates
  from the word read and writes them back.

Forwarding: the read port is transparent for the write port, so a sample that
reads the word the previous sample is writing in the same cycle gets the
written value. Back-to-back samples at the same leaf and class therefore see
each other's updates, as the golden model's sequential loop does.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from hardodt.config import Config
from rtl.quantile import QuantileStep

__all__ = ["QuantileLearner", "quantile_sample_layout"]


def quantile_sample_layout(config: Config) -> data.StructLayout:
    """What the learners need of one training sample."""
    return data.StructLayout({
        "element": range(config.element_capacity),
        "cls": range(config.n_classes),
        "x": data.ArrayLayout(signed(config.word_bits), config.n_numeric),
        "count": config.count_bits,  # the class's count at the leaf, this sample included
        "first": 1,  # first sample of the class at the leaf ("first" rule)
    })


class QuantileLearner(wiring.Component):
    """The quantile estimates of every element, class and numeric attribute.

    Parameters
    ----------
    config:
        A fixed-point :class:`hardodt.Config` with at least one numeric attribute.
    init:
        Optional initial words: ``init[i][address]`` is the list of ``Q`` estimates of
        attribute ``i`` at ``address = element * classes + class``.

    Members
    -------
    samples : In(stream.Signature(quantile_sample_layout(config)))
        Training samples; always ready (one per cycle).

    The memories are ``self.memories[i]`` (for read-back by test benches and,
    later, by the split evaluator through a second read port).
    """

    def __init__(self, config: Config, init=None) -> None:
        if config.n_numeric == 0:
            raise ValueError("QuantileLearner needs at least one numeric attribute")
        self.config = config
        self.depth = config.element_capacity * config.n_classes
        self.word = data.ArrayLayout(signed(config.word_bits), config.quantiles)
        self._init = init
        super().__init__({
            "samples": In(stream.Signature(quantile_sample_layout(config))),
        })
        self.memories = [
            Memory(shape=self.word, depth=self.depth,
                   init=(self._init[i] if self._init is not None else []))
            for i in range(config.n_numeric)
        ]

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.config
        m.d.comb += self.samples.ready.eq(1)
        payload = self.samples.p

        # Stage 2 registers: the sample being computed and written.
        s2_valid = Signal()
        s2_addr = Signal(range(self.depth))
        s2 = Signal(quantile_sample_layout(cfg))
        m.d.sync += [
            s2_valid.eq(self.samples.valid),
            s2_addr.eq(payload.element * cfg.n_classes + payload.cls),
            s2.eq(payload),
        ]

        for i, mem in enumerate(self.memories):
            m.submodules[f"memory{i}"] = mem
            write = mem.write_port()
            read = mem.read_port(transparent_for=(write,))
            step = m.submodules[f"step{i}"] = QuantileStep(cfg)
            m.d.comb += [
                read.addr.eq(payload.element * cfg.n_classes + payload.cls),
                read.en.eq(self.samples.valid),
                step.q.eq(read.data),
                step.x.eq(s2.x[i]),
                step.count.eq(s2.count),
                step.first.eq(s2.first),
                write.addr.eq(s2_addr),
                write.data.eq(step.q_next),
                write.en.eq(s2_valid),
            ]
        return m
