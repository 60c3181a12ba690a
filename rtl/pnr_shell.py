"""``PinShell``: the learner behind a handful of pins, for place and route.

The learner's ports are hundreds of bits wide (a sample, the statistics, the
read-back port); no package has that many pins, and a real board feeds them
from a host link (issue 5). For Fmax and utilisation figures this shell keeps
every port in use with a few pins: a serial-in shift register supplies the
sample and the read-back controls, a parallel-load, serial-out shift register
carries every output, and the stream handshakes are single pins. Every path
into and out of the learner is registered, so the clock found is the
learner's own. The shell costs about one flip-flop per port bit.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hardodt.config import Config
from rtl.hardodt import HardODT

__all__ = ["PinShell"]


class PinShell(wiring.Component):
    """Members
    -------
    sin : In(1)
        Serial input: shifted into the sample / read-back register every cycle.
    valid, ready : In(1)
        The sample stream's valid and the prediction stream's ready.
    load : In(1)
        Capture every output into the serial-out register (else it shifts).
    sout, accepted, predicted, idle : Out(1)
        Serial output, the sample stream's ready, the prediction's valid, idle.
    """

    def __init__(self, config: Config) -> None:
        self.learner = HardODT(config)
        super().__init__({"sin": In(1), "valid": In(1), "ready": In(1), "load": In(1),
                          "sout": Out(1), "accepted": Out(1), "predicted": Out(1),
                          "idle": Out(1)})

    def elaborate(self, platform) -> Module:
        m = Module()
        dut = m.submodules.learner = self.learner
        ins = Cat(dut.samples.payload, dut.debug_en, dut.debug_level, dut.debug_row)
        outs = Cat(dut.predictions.payload, dut.stats, dut.trial_cycles, dut.debug_node,
                   dut.debug_counter, dut.debug_valid)
        shift_in = Signal(len(ins))
        shift_out = Signal(len(outs))
        m.d.sync += shift_in.eq(Cat(self.sin, shift_in[:-1]))
        with m.If(self.load):
            m.d.sync += shift_out.eq(outs)
        with m.Else():
            m.d.sync += shift_out.eq(shift_out[1:])
        valid, ready = Signal(), Signal()
        accepted, predicted, idle = Signal(), Signal(), Signal()
        m.d.sync += [valid.eq(self.valid), ready.eq(self.ready),
                     accepted.eq(dut.samples.ready), predicted.eq(dut.predictions.valid),
                     idle.eq(dut.idle)]
        m.d.comb += [ins.eq(shift_in), dut.samples.valid.eq(valid),
                     dut.predictions.ready.eq(ready), self.sout.eq(shift_out[0]),
                     self.accepted.eq(accepted), self.predicted.eq(predicted),
                     self.idle.eq(idle)]
        return m
