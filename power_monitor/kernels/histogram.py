"""A histogram and a delay line in block RAM: the memory-heavy kernel."""


from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

BINS, DELAY = 256, 512


class Histogram(wiring.Component):
    """Each valid input is two bytes: the first is counted in a 256-bin histogram
    (read-modify-write over two cycles, with forwarding when the same bin comes twice in a
    row), the pair is written into a 512-deep delay line; the output mixes the updated
    count with the pair that left the line. ``data[16]``, the mode, holds the line's
    pointer: each pair overwrites one slot, the line's block RAM as busy as before, its
    output standing still."""

    valid: In(1)
    data: In(17)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        m.submodules.bins = bins = Memory(shape=16, depth=BINS, init=[])
        m.submodules.line = line = Memory(shape=16, depth=DELAY, init=[])
        rd, wr = bins.read_port(), bins.write_port()
        lrd, lwr = line.read_port(), line.write_port()
        # stage 1: read the bin
        s1_valid, s1_bin = Signal(), Signal(8)
        m.d.comb += [rd.addr.eq(self.data[:8]), rd.en.eq(self.valid)]
        m.d.sync += [s1_valid.eq(self.valid), s1_bin.eq(self.data[:8])]
        # stage 2: write it back plus one (forwarding the count just written)
        last_bin, last_count, last_valid = Signal(8), Signal(16), Signal()
        count = Signal(16)
        m.d.comb += count.eq(rd.data)
        with m.If(last_valid & (last_bin == s1_bin)):
            m.d.comb += count.eq(last_count)
        m.d.comb += [wr.addr.eq(s1_bin), wr.data.eq(count + 1), wr.en.eq(s1_valid)]
        m.d.sync += last_valid.eq(s1_valid)
        with m.If(s1_valid):
            m.d.sync += [last_bin.eq(s1_bin), last_count.eq(count + 1)]
        # the delay line
        head = Signal(range(DELAY))
        m.d.comb += [lwr.addr.eq(head), lwr.data.eq(self.data[:16]), lwr.en.eq(self.valid),
                     lrd.addr.eq(head + 1), lrd.en.eq(self.valid)]
        with m.If(self.valid & ~self.data[16]):
            m.d.sync += head.eq(head + 1)
        m.d.sync += self.result.eq((last_count << 16) ^ lrd.data)
        return m
