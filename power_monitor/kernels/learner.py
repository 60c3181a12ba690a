"""The hardodt learner as a monitored design (a small configuration)."""


from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hardodt.config import Config

#: Four 12-bit attributes, two classes, a depth-3 tree: big enough to split and grow.
LEARNER_CONFIG = Config(numeric_attributes=4, classes=2, quantiles=4, split_points=4,
                        grace_period=32, max_depth=3, max_leaves=8, elements=8, word_bits=12,
                        fraction_bits=10, count_bits=10, split_delay=16)


class MonitoredLearner(wiring.Component):
    """The learner behind a one-sample holding register: a valid input is a sample (four
    12-bit words and a label bit) that waits there until the learner takes it; inputs that
    arrive while it waits are not taken (the workload is activity, not a data set)."""

    valid: In(1)
    data: In(49)
    result: Out(8)

    def elaborate(self, platform):
        from rtl.hardodt import HardODT

        m = Module()
        m.submodules.learner = learner = HardODT(LEARNER_CONFIG)
        held = Signal()
        sample = Signal(49)
        with m.If(self.valid & ~held):
            m.d.sync += [sample.eq(self.data), held.eq(1)]
        with m.Elif(learner.samples.ready & held):
            m.d.sync += held.eq(0)
        p = learner.samples.payload
        m.d.comb += [learner.samples.valid.eq(held),
                     p.x.eq(sample[:48]),
                     p.label.eq(sample[48]),
                     p.learn.eq(1),
                     learner.predictions.ready.eq(1)]
        with m.If(learner.predictions.valid):
            m.d.sync += self.result.eq(learner.predictions.payload.label
                                       | (learner.leaves[:4] << 1))
        return m
