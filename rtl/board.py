"""The learner on a board: a UART, the host link and the learner, behind the board's pins.

:class:`LinkedLearner` is everything between two UART pins and two LEDs (what
the cocotb bench drives, ``sim.board_bench``); :class:`BoardTop` puts it on an
``amaranth-boards`` platform: the oscillator (divided down when the learner's
clock must be slower), a power-on reset that also waits out the iCE40's block
RAM start-up, the reset button, the LEDs and the UART pins.
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, DomainRenamer, Module, ResetSignal, Signal
from amaranth.lib import fifo, io, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from hardodt.protocol import LOAD_LEN, WINDOW
from rtl.global_reset import global_reset
from rtl.hardodt import HardODT
from rtl.host_link import HostLink
from rtl.uart import UARTReceiver, UARTTransmitter, check_divisor

__all__ = ["LinkedLearner", "BoardTop", "rx_fifo_depth"]


def rx_fifo_depth(sample_bytes: int, load: bool = False) -> int:
    """Bytes the receiver buffers: two windows of the longest frames, so a host that keeps
    to the window (and to one round of resends at a time) never overruns it while the link
    waits for a reply to go out."""
    need = 2 * WINDOW * (6 + max(sample_bytes, 5, LOAD_LEN if load else 0))
    return 1 << (need - 1).bit_length()


def _stretch(m: Module, strobes_leds, clock_hz: int) -> None:
    """LEDs that stay lit for a while after each one-cycle strobe, on a shared 2^16 prescaler
    (``(strobe, led, seconds)``)."""
    tick = Signal()
    prescaler = Signal(16)
    m.d.sync += prescaler.eq(prescaler + 1)
    m.d.comb += tick.eq(prescaler == 0)
    for strobe, led, seconds in strobes_leds:
        ticks = max(1, round(seconds * clock_hz / (1 << 16)))
        left = Signal(range(ticks + 1))
        with m.If(strobe):
            m.d.sync += left.eq(ticks)
        with m.Elif(tick & (left != 0)):
            m.d.sync += left.eq(left - 1)
        m.d.comb += led.eq(left != 0)


class LinkedLearner(wiring.Component):
    """The learner spoken to over a UART (docs/protocol.md).

    Members
    -------
    uart_rx : In(1)
    uart_tx : Out(1)
    activity, error : Out(1)
        Lit for a moment after each sample answered, and after each frame rejected.

    ``load``: the link takes LOAD (a tree loaded at run time); ``stats``: see ``HostLink``;
    ``reset_on_global``: the learner's reset through a global buffer where the platform's
    family has one (``rtl.global_reset``).
    """

    def __init__(self, config, *, clock_hz: int, baud: int, preload=None, stats: str = "all",
                 load: bool = True, reset_on_global: bool = False) -> None:
        self.config = config
        self.reset_on_global = reset_on_global
        self.clock_hz, self.baud = int(clock_hz), int(baud)
        self.divisor = check_divisor(round(self.clock_hz / self.baud))
        self.learner = HardODT(config, preload=preload, load=load)
        self.link = HostLink(self.learner, clock_hz=self.clock_hz, divisor=self.divisor,
                             timeout_cycles=64 * 10 * self.divisor, stats=stats, load=load)
        super().__init__({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1),
                          "activity": Out(1), "error": Out(1)})

    @property
    def baud_error(self) -> float:
        """Relative error of the baud rate the divisor gives (a UART tolerates about 2 %)."""
        return self.clock_hz / self.divisor / self.baud - 1

    def elaborate(self, platform) -> Module:
        m = Module()
        rx = m.submodules.uart_rx = UARTReceiver(self.divisor)
        tx = m.submodules.uart_tx = UARTTransmitter(self.divisor)
        buffer = m.submodules.rx_fifo = fifo.SyncFIFOBuffered(
            width=8, depth=rx_fifo_depth(self.link.info.sample_bytes, self.link.load))
        link = m.submodules.link = self.link
        # The learner's own domain: the same clock, reset also by the link (RESET, LOAD).
        m.domains.learner = ClockDomain("learner", local=True)
        learner_reset = ResetSignal("sync") | link.learner_reset
        if self.reset_on_global:
            learner_reset = global_reset(m, getattr(platform, "family", None), learner_reset,
                                         name="learner_rst")
        m.d.comb += [ClockSignal("learner").eq(ClockSignal("sync")),
                     ResetSignal("learner").eq(learner_reset)]
        m.submodules.learner = DomainRenamer("learner")(self.learner)
        m.d.comb += [rx.rx.eq(self.uart_rx), self.uart_tx.eq(tx.tx),
                     buffer.w_data.eq(rx.bytes.payload), buffer.w_en.eq(rx.bytes.valid),
                     rx.bytes.ready.eq(buffer.w_rdy),
                     link.rx.payload.eq(buffer.r_data), link.rx.valid.eq(buffer.r_rdy),
                     buffer.r_en.eq(link.rx.ready),
                     link.leaves.eq(self.learner.leaves),
                     link.rx_framing_errors.eq(rx.framing_errors), link.rx_overruns.eq(rx.overruns)]
        wiring.connect(m, link.tx, tx.bytes)
        wiring.connect(m, link.learner, self.learner)
        _stretch(m, [(link.sample_done, self.activity, 0.05), (link.rejected, self.error, 0.5)],
                 self.clock_hz)
        return m


class BoardTop(wiring.Component):
    """:class:`LinkedLearner` on an ``amaranth-boards`` platform.

    The learner's clock is the board oscillator divided by ``clock_divide`` (a
    power of two, by a counter: the iCE40's PLL cannot go below 16 MHz); the
    learner is held in reset for 15 us after configuration and while the reset
    button is pressed.
    """

    def __init__(self, config, board, *, baud: int, clock_divide: int, preload=None,
                 stats: str | None = None, load: bool | None = None) -> None:
        if clock_divide < 1 or clock_divide & (clock_divide - 1):
            raise ValueError(f"clock_divide must be a power of two, not {clock_divide}")
        self.board = board
        self.clock_divide = clock_divide
        self.clock_hz = board.oscillator_hz / clock_divide
        self.core = LinkedLearner(config, clock_hz=self.clock_hz, baud=baud, preload=preload,
                                  stats=stats or board.stats,
                                  load=board.load if load is None else load,
                                  reset_on_global=board.global_reset)
        super().__init__({})

    def elaborate(self, platform) -> Module:
        m = Module()
        b = self.board
        clk_buf = m.submodules.clk_buf = io.Buffer("i", platform.request(platform.default_clk, dir="-"))
        m.domains.osc = ClockDomain("osc", reset_less=True, local=True)
        m.d.comb += ClockSignal("osc").eq(clk_buf.i)
        k = self.clock_divide.bit_length() - 1
        clk = clk_buf.i
        if k:
            divider = Signal(k)
            m.d.osc += divider.eq(divider + 1)
            clk = Signal(name="learner_clk")
            m.d.comb += clk.eq(divider[-1])
            platform.add_clock_constraint(clk, self.clock_hz)
        m.domains.sync = ClockDomain("sync")
        m.d.comb += ClockSignal("sync").eq(clk)
        delay = int(15e-6 * b.oscillator_hz)
        timer = Signal(range(delay + 1))
        ready = Signal()
        with m.If(timer == delay):
            m.d.osc += ready.eq(1)
        with m.Else():
            m.d.osc += timer.eq(timer + 1)
        button = Signal()
        if b.reset_button:
            name, number = b.reset_button  # requested as a port: an inverted pin reads 1 pressed
            pin = m.submodules.button = io.Buffer("i", platform.request(name, number, dir="-"))
            m.submodules.button_sync = FFSynchronizer(pin.i, button, o_domain="osc")
        m.d.comb += ResetSignal("sync").eq(~ready | button)

        core = m.submodules.core = self.core
        uart = platform.request("uart", 0, dir="-")
        rx = m.submodules.uart_rx_buf = io.Buffer("i", uart.rx)
        tx = m.submodules.uart_tx_buf = io.Buffer("o", uart.tx)
        m.d.comb += [core.uart_rx.eq(rx.i), tx.o.eq(core.uart_tx)]
        for (name, number), value in ((b.activity_led, core.activity), (b.error_led, core.error)):
            led = m.submodules[f"{name}{number}"] = io.Buffer("o", platform.request(name, number, dir="-"))
            m.d.comb += led.o.eq(value)
        return m
