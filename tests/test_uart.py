"""The UART (rtl/uart.py) in Amaranth's simulator: bytes back to back through a transmitter and
a receiver, a broken stop bit and a sink that is not ready are counted, not passed on."""

import random

import pytest
from amaranth.hdl import Module
from amaranth.sim import Simulator

from rtl.uart import UARTReceiver, UARTTransmitter, check_divisor


def _loop(divisor, data):
    m = Module()
    tx = m.submodules.tx = UARTTransmitter(divisor)
    rx = m.submodules.rx = UARTReceiver(divisor)
    m.d.comb += rx.rx.eq(tx.tx)
    got = []

    async def send(ctx):
        for b in data:
            ctx.set(tx.bytes.payload, b)
            ctx.set(tx.bytes.valid, 1)
            await ctx.tick().until(tx.bytes.ready)
        ctx.set(tx.bytes.valid, 0)

    async def receive(ctx):
        ctx.set(rx.bytes.ready, 1)
        while len(got) < len(data):
            await ctx.tick()
            if ctx.get(rx.bytes.valid):
                got.append(ctx.get(rx.bytes.payload))

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(send)
    sim.add_testbench(receive)
    sim.run_until(1e-6 * (len(data) + 2) * 10 * divisor + 1e-4)
    return got


@pytest.mark.parametrize("divisor", [4, 7, 16])
def test_bytes_back_to_back_arrive_intact(divisor):
    data = [random.Random(divisor).randrange(256) for _ in range(40)] + [0x00, 0xFF, 0xA5]
    assert _loop(divisor, data) == data


def test_broken_stop_bit_and_overrun_are_counted():
    divisor = 8
    rx = UARTReceiver(divisor)

    async def bench(ctx):
        ctx.set(rx.rx, 1)
        await ctx.tick().repeat(20)

        async def byte(value, stop=1):
            for bit in [0] + [(value >> i) & 1 for i in range(8)] + [stop]:
                ctx.set(rx.rx, bit)
                await ctx.tick().repeat(divisor)
            ctx.set(rx.rx, 1)
            await ctx.tick().repeat(2 * divisor)

        await byte(0x55, stop=0)  # framing error: dropped
        assert ctx.get(rx.framing_errors) == 1
        ctx.set(rx.bytes.ready, 0)
        await byte(0x33)  # the sink is not ready: lost, counted
        assert ctx.get(rx.overruns) == 1

    sim = Simulator(rx)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_too_few_cycles_per_bit_is_refused():
    with pytest.raises(ValueError, match="at least 4 clock cycles per bit"):
        check_divisor(3)
