"""Matrix-vector product: the DSP-heavy kernel."""


import numpy as np
from amaranth import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

ROWS, COLS_PER_ROW = 64, 16  # a 64 x 64 matrix, 4 columns per input


class MatVec(wiring.Component):
    """y = W x for a fixed 64 x 64 matrix of 8-bit weights: each valid input brings four
    elements of x; four multipliers take them with the current row's weights (block RAM),
    an adder tree and an accumulator sum the row; the row's result is registered out.
    ``data[32]``, the mode, holds the weight address: every input meets the same four
    weights (a dot product against one fixed row, as a correlator would run), the
    multipliers and the accumulator as busy as before."""

    valid: In(1)
    data: In(33)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        rng = np.random.default_rng(7)
        init = [int(v) for v in rng.integers(0, 1 << 32, ROWS * COLS_PER_ROW, dtype=np.uint64)]
        m.submodules.weights = weights = Memory(shape=32, depth=ROWS * COLS_PER_ROW, init=init)
        rd = weights.read_port()
        addr = Signal(range(ROWS * COLS_PER_ROW))
        x_valid = Signal()
        x = Signal(32)
        products = [Signal(signed(16), name=f"prod{i}") for i in range(4)]
        p_valid = Signal()
        acc = Signal(signed(24))
        col = Signal(range(COLS_PER_ROW))
        m.d.comb += [rd.addr.eq(addr), rd.en.eq(self.valid)]
        m.d.sync += [x_valid.eq(self.valid), p_valid.eq(x_valid)]
        with m.If(self.valid):
            m.d.sync += x.eq(self.data[:32])
            with m.If(~self.data[32]):
                m.d.sync += addr.eq(addr + 1)
        with m.If(x_valid):
            for i in range(4):
                m.d.sync += products[i].eq(x[8 * i:8 * i + 8].as_signed()
                                           * rd.data[8 * i:8 * i + 8].as_signed())
        total = products[0] + products[1] + products[2] + products[3]
        with m.If(p_valid):
            m.d.sync += col.eq(col + 1)
            with m.If(col == COLS_PER_ROW - 1):
                m.d.sync += [self.result.eq(acc + total), acc.eq(0)]
            with m.Else():
                m.d.sync += acc.eq(acc + total)
        return m
