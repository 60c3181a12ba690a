"""An 8-tap FIR filter with shift-and-add coefficients: the logic-heavy kernel."""


from amaranth import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

TAPS = 8


def _times(x, c: int):
    """x * c for the filter's small constants as shifts and adds (no multiplier)."""
    return {1: x, 3: x + (x << 1), 7: (x << 3) - x, 12: (x << 3) + (x << 2)}[c]


class FIR(wiring.Component):
    """y[n] = sum_k c_k x[n-k], c = (1, 3, 7, 12, 12, 7, 3, 1): a tap line of 16-bit samples
    that shifts on each valid input, two pipelined adder stages, a registered output."""

    valid: In(1)
    data: In(16)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        coeff = (1, 3, 7, 12, 12, 7, 3, 1)
        taps = [Signal(signed(16), name=f"tap{k}") for k in range(TAPS)]
        halves = [Signal(signed(24), name=f"half{h}") for h in range(2)]
        stage_valid = Signal(2)
        with m.If(self.valid):
            m.d.sync += taps[0].eq(self.data.as_signed())
            m.d.sync += [taps[k].eq(taps[k - 1]) for k in range(1, TAPS)]
        m.d.sync += stage_valid.eq(stage_valid << 1 | self.valid)
        with m.If(stage_valid[0]):
            for h in range(2):
                terms = [_times(taps[k], coeff[k]) for k in range(4 * h, 4 * h + 4)]
                m.d.sync += halves[h].eq(terms[0] + terms[1] + terms[2] + terms[3])
        with m.If(stage_valid[1]):
            m.d.sync += self.result.eq(halves[0] + halves[1])
        return m
