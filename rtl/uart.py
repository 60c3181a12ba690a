"""An 8N1 UART: bytes as valid-ready streams on one side, the pins on the other.

The host link (``rtl.host_link``) speaks bytes, not pins, so a faster transport
(SPI, Ethernet) can replace these two components without touching it.
``divisor`` is the number of clock cycles per bit (clock / baud rate).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["UARTReceiver", "UARTTransmitter", "check_divisor"]


def check_divisor(divisor: int) -> int:
    """The receiver samples mid-bit, so it needs a few cycles per bit."""
    if not isinstance(divisor, int) or divisor < 4:
        raise ValueError(f"a UART needs at least 4 clock cycles per bit, not {divisor!r} "
                         "(lower the baud rate or raise the clock)")
    return divisor


class UARTReceiver(wiring.Component):
    """Receives 8N1 frames from ``rx``.

    Members
    -------
    rx : In(1)
        The line (idle high); synchronised here.
    bytes : Out(stream.Signature(8))
        Received bytes. The stream has no back-pressure: a byte the sink does not
        take in the cycle it is offered is lost and counted in ``overruns``.
    framing_errors, overruns : Out(16)
        Bytes dropped for a missing stop bit, and bytes the sink was not ready for
        (saturating counters; the host link reports them).
    """

    def __init__(self, divisor: int) -> None:
        self.divisor = check_divisor(divisor)
        super().__init__({"rx": In(1, init=1), "bytes": Out(stream.Signature(8)),
                          "framing_errors": Out(16), "overruns": Out(16)})

    def elaborate(self, platform) -> Module:
        m = Module()
        d = self.divisor
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)
        timer = Signal(range(d + d // 2 + 1))
        bit = Signal(range(9))
        shift = Signal(8)

        def bump(counter):
            with m.If(counter != (1 << len(counter)) - 1):
                m.d.sync += counter.eq(counter + 1)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):  # start bit: sample bit 0 one and a half bits later
                    m.d.sync += [timer.eq(d + d // 2 - 1), bit.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer == 0):
                    m.d.sync += [shift.eq((line << 7) | (shift >> 1)), bit.eq(bit + 1),
                                 timer.eq(d - 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("STOP"):
                with m.If(timer == 0):
                    with m.If(line):
                        m.d.comb += self.bytes.valid.eq(1)
                        with m.If(~self.bytes.ready):
                            bump(self.overruns)
                    with m.Else():
                        bump(self.framing_errors)
                    m.next = "WAIT_IDLE"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("WAIT_IDLE"):  # a broken stop bit: wait for the line to rise again
                with m.If(line):
                    m.next = "IDLE"
        m.d.comb += self.bytes.payload.eq(shift)
        return m


class UARTTransmitter(wiring.Component):
    """Sends each byte of ``bytes`` as an 8N1 frame on ``tx``, back to back."""

    def __init__(self, divisor: int) -> None:
        self.divisor = check_divisor(divisor)
        super().__init__({"bytes": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform) -> Module:
        m = Module()
        d = self.divisor
        timer = Signal(range(d))
        bits = Signal(range(11))  # bits left to send
        shift = Signal(10, init=0x3FF)
        m.d.comb += [self.tx.eq(shift[0]), self.bytes.ready.eq(bits == 0)]
        with m.If(bits == 0):
            with m.If(self.bytes.valid):
                m.d.sync += [shift.eq((1 << 9) | (self.bytes.payload << 1)), bits.eq(10),
                             timer.eq(d - 1)]
        with m.Elif(timer == 0):
            m.d.sync += [shift.eq((1 << 9) | (shift >> 1)), bits.eq(bits - 1), timer.eq(d - 1)]
        with m.Else():
            m.d.sync += timer.eq(timer - 1)
        return m
