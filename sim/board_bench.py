"""cocotb bench: the board's top level (UART, host link, learner) driven through its pins.

A UART model stands where the serial port would be; the host side is the
driver itself (``hardodt.driver.Board``, the code ``hardodt stream`` runs against
a real board), so the protocol is tested as users run it. Bytes go out back to
back at the full baud rate; ``BOARD_FAULTS`` (JSON) corrupts or drops host bytes
and corrupts reply bytes at random (seeded), which the protocol must recover
from without losing or repeating a sample. The bench checks every prediction,
the statistics and the tree read back over the protocol against the golden
model, and writes a report to ``HARDODT_REPORT``.

Environment: ``HARDODT_CONFIG``, ``HARDODT_STREAM`` (``.npz``: xn, xc, y, learn),
``BOARD_DIVISOR`` (clock cycles per bit, as the design was built), ``BOARD_FAULTS``;
``HARDODT_PRELOAD`` (the tree the design was built with), or ``HARDODT_LOAD`` (a tree
the driver loads over the link, LOAD, once the first ``BOARD_LOAD_AT`` samples have
been learned from the empty tree: the rest must continue that tree).
"""

import json
import os
import random
from collections import deque

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import Event, FallingEdge, RisingEdge, Timer

from hardodt import Config
from hardodt.driver import Board
from hardodt.protocol import frame

PERIOD_NS = 10


class SimulatedUART:
    """The host's end of the board's UART, as a transport for ``hardodt.driver.Board``."""

    def __init__(self, dut, divisor: int, faults: dict) -> None:
        self.dut = dut
        self.bit_ns = divisor * PERIOD_NS
        self.outgoing = deque()
        self.incoming = bytearray()
        self.rng = random.Random(faults.get("seed", 1))
        self.faults = faults
        self.counts = {"host_bytes": 0, "host_corrupted": 0, "host_dropped": 0,
                       "device_bytes": 0, "device_corrupted": 0}
        self.wake = Event()
        dut.uart_rx.value = 1
        cocotb.start_soon(self._send())
        cocotb.start_soon(self._receive())

    def now(self) -> float:
        return get_sim_time("ns") * 1e-9

    async def exchange(self, data: bytes) -> bytes:
        if data:
            self.outgoing.extend(data)
            self.wake.set()
        await Timer(10 * self.bit_ns, unit="ns")
        got = bytes(self.incoming)
        self.incoming.clear()
        return got

    async def _send(self) -> None:
        """Bytes back to back: start bit, 8 data bits LSB first, stop bit."""
        while True:
            if not self.outgoing:
                self.wake.clear()
                await self.wake.wait()
                continue
            byte = self.outgoing.popleft()
            self.counts["host_bytes"] += 1
            if self.rng.random() < self.faults.get("drop", 0.0):
                self.counts["host_dropped"] += 1
                continue
            if self.rng.random() < self.faults.get("corrupt", 0.0):
                byte ^= 1 << self.rng.randrange(8)
                self.counts["host_corrupted"] += 1
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
                self.dut.uart_rx.value = bit
                await Timer(self.bit_ns, unit="ns")

    async def _receive(self) -> None:
        while True:
            await FallingEdge(self.dut.uart_tx)
            await Timer(self.bit_ns * 3 // 2, unit="ns")
            byte = 0
            for i in range(8):
                byte |= int(self.dut.uart_tx.value) << i
                await Timer(self.bit_ns, unit="ns")
            # now in the middle of the stop bit
            self.counts["device_bytes"] += 1
            if self.rng.random() < self.faults.get("reply_corrupt", 0.0):
                byte ^= 1 << self.rng.randrange(8)
                self.counts["device_corrupted"] += 1
            self.incoming.append(byte)


async def _power_up(dut) -> None:
    """Start the clock and hold the board in reset for a few cycles, the UART line idle."""
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    dut.uart_rx.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


@cocotb.test()
async def board_stream(dut):
    cfg = Config.from_toml(os.environ["HARDODT_CONFIG"])
    data = np.load(os.environ["HARDODT_STREAM"])
    xn, xc, y, learn = data["xn"], data["xc"], data["y"], data["learn"].astype(bool)
    divisor = int(os.environ["BOARD_DIVISOR"])
    faults = json.loads(os.environ.get("BOARD_FAULTS") or "{}")
    report_path = os.environ.get("HARDODT_REPORT")
    progress_path = os.environ.get("HARDODT_PROGRESS")

    from reference import QuantileHoeffdingTree
    from sim.readback import golden_tree

    await _power_up(dut)

    uart = SimulatedUART(dut, divisor, faults)
    baud = 1e9 / uart.bit_ns
    preload = os.environ.get("HARDODT_PRELOAD")
    golden = QuantileHoeffdingTree.load(preload) if preload else QuantileHoeffdingTree(cfg)
    load = os.environ.get("HARDODT_LOAD")
    load_at = int(os.environ.get("BOARD_LOAD_AT") or 0) if load else len(y)
    # the bench's transport polls every byte time: that is its whole latency
    board = Board(uart, cfg, baud, latency=20 * uart.bit_ns * 1e-9)
    info = await board.hello()
    # garbage between frames and a frame with a wrong checksum: rejected, nothing executed
    bad = bytearray(frame(0xA5, board.session.seq, 0x01, bytes(info.sample_bytes)))
    bad[-1] ^= 0xFF
    await uart.exchange(b"\x00\x17" + bytes(bad))
    await Timer(40 * uart.bit_ns, unit="ns")
    board.session.receive(await uart.exchange(b""), uart.now())  # its rejection
    if not preload:  # a RESET would empty the preloaded tree
        await board.reset()
    started = uart.now()
    last = [0]

    def progress(res):
        if progress_path and res.samples - last[0] >= 20:
            last[0] = res.samples
            with open(progress_path, "w") as f:
                f.write(f"{res.samples} {len(y)}")

    res = await board.stream(xn[:load_at], xc[:load_at], y[:load_at], learn[:load_at],
                             golden=golden, on_progress=progress)
    loaded = {}
    if load:  # whatever the board has learned, it continues the loaded tree from here
        t0 = uart.now()
        golden = QuantileHoeffdingTree.load(load)
        frames = await board.load(golden)
        loaded = {"at": load_at, "frames": frames, "sim_seconds": uart.now() - t0,
                  "leaves": golden.n_leaves, "samples": golden.stats["samples"]}
        before = res
        res = await board.stream(xn[load_at:], xc[load_at:], y[load_at:], learn[load_at:],
                                 golden=golden, on_progress=progress)
        res.mismatches = before.mismatches + [(i + load_at, a, b) for i, a, b in res.mismatches]
        res.samples += before.samples
        res.labelled += before.labelled
        res.correct += before.correct
    seconds = uart.now() - started
    hw_tree = await board.tree()
    gold_tree = golden_tree(golden)
    gold_stats = {k: v & 0xFFFFFFFF for k, v in golden.stats.items() if k in res.stats}
    hw_learner_stats = {k: v for k, v in res.stats.items() if k in gold_stats}
    sample_bytes_in = 6 + info.sample_bytes
    sample_bytes_out = 6 + 5
    cap = baud / 10 / max(sample_bytes_in, sample_bytes_out)
    report = {
        "samples": int(res.samples),
        "mismatches": len(res.mismatches),
        "first_mismatch": res.mismatches[0] if res.mismatches else None,
        "accuracy": res.accuracy,
        "stats_hardware": res.stats,
        "stats_golden": gold_stats,
        "tree_agrees": hw_tree == gold_tree,
        "leaves": sum(1 for n in gold_tree if n["kind"] in ("leaf", "inactive")),
        "divisor": divisor,
        "baud_simulated": baud,
        "sim_seconds": seconds,
        "samples_per_second": res.samples / seconds if seconds else 0.0,
        "uart_cap_samples_per_second": cap,
        "link_efficiency": res.samples / seconds / cap if seconds else 0.0,
        "resends": board.session.resends,
        "rejections": {hex(k): v for k, v in board.session.rejections.items()},
        "corrupt_replies": board.session.parser.corrupt,
        "faults": faults,
        "wire": uart.counts,
        "loaded": loaded,
    }
    if report_path:
        with open(report_path, "w") as f:
            json.dump(report, f, indent=1)
    assert not res.mismatches, f"{len(res.mismatches)} predictions differ, first {res.mismatches[0]}"
    assert res.samples == len(y)
    assert hw_learner_stats == gold_stats, f"statistics differ: {hw_learner_stats} != {gold_stats}"
    assert res.stats["leaves"] == report["leaves"]
    if not load:  # (the link counts mistakes since its last RESET: the load's)
        assert res.stats["mistakes"] == res.labelled - res.correct
    assert res.stats["rx_overruns"] == 0, "the receiver overran although the host kept to the window"
    assert hw_tree == gold_tree, "the tree read back over the protocol differs from the golden model's"


@cocotb.test()
async def protocol_conformance(dut):
    """Frame by frame: each kind of bad frame gets its rejection, nothing is executed twice."""
    from hardodt.protocol import (
        CMD_HELLO,
        CMD_LOAD,
        CMD_READ,
        CMD_RESET,
        CMD_SAMPLE,
        CMD_STATS,
        LOAD_LEN,
        NAK_ARGUMENT,
        NAK_CHECKSUM,
        NAK_COMMAND,
        NAK_INCOMPLETE,
        NAK_LENGTH,
        NAK_LOADING,
        NAK_SEQUENCE,
        SYNC_HOST,
        DesignInfo,
        ReplyParser,
        chunks_of,
        load_payload,
        read_payload,
        stat_names_of,
    )

    cfg = Config.from_toml(os.environ["HARDODT_CONFIG"])
    divisor = int(os.environ["BOARD_DIVISOR"])
    await _power_up(dut)
    uart = SimulatedUART(dut, divisor, {})
    parser = ReplyParser()
    from rtl.params import HardwareParams

    sb = (HardwareParams(cfg).sample_layout.size + 7) // 8

    async def send(raw: bytes, wait_bytes: int = 80):
        await uart.exchange(raw)
        got = b""
        for _ in range(wait_bytes):
            got += await uart.exchange(b"")
        return got, parser.feed(got)

    _, (r,) = await send(frame(SYNC_HOST, 40, CMD_HELLO))
    assert (r.seq, r.status) == (40, CMD_HELLO), r  # HELLO at any sequence number
    info = DesignInfo.from_bytes(r.payload)
    _, (r,) = await send(frame(SYNC_HOST, 41, CMD_STATS))
    names = stat_names_of(len(r.payload) // 4)
    assert (r.seq, r.status, names[0]) == (41, CMD_STATS, "samples")
    samples0 = int.from_bytes(r.payload[:4], "little")
    bad = bytearray(frame(SYNC_HOST, 42, CMD_SAMPLE, bytes(sb)))
    bad[5] ^= 0x10
    cases = [
        (bytes(bad), NAK_CHECKSUM),
        (frame(SYNC_HOST, 42, 0x07), NAK_COMMAND),
        (frame(SYNC_HOST, 42, CMD_SAMPLE, bytes(sb + 1)), NAK_LENGTH),
        (frame(SYNC_HOST, 42, CMD_READ, read_payload(0, 200, 0, 0)), NAK_ARGUMENT),
        (frame(SYNC_HOST, 42, CMD_READ, read_payload(2, 0, 0, 0)), NAK_ARGUMENT),
        (frame(SYNC_HOST, 42, CMD_READ, read_payload(0, 0, 0, 9)), NAK_ARGUMENT),
    ]
    for raw, code in cases:
        got, replies = await send(raw)
        assert [(x.status, x.expected) for x in replies] == [(code, 42)], (raw.hex(), replies)
        # a frame out of sequence right after a rejection is dropped without a reply
        got, replies = await send(frame(SYNC_HOST, 50, CMD_STATS))
        assert replies == [], replies
    # ... but out of sequence without a rejection before it is rejected
    _, (r,) = await send(frame(SYNC_HOST, 42, CMD_SAMPLE, bytes(sb)))
    assert (r.seq, r.status) == (42, CMD_SAMPLE)
    index = int.from_bytes(r.payload[1:5], "little")
    _, (r,) = await send(frame(SYNC_HOST, 60, CMD_STATS))
    assert (r.status, r.expected) == (NAK_SEQUENCE, 43), r
    # a resend of frame 42: the reply is replayed byte for byte, the sample is not applied again
    first, _ = await send(frame(SYNC_HOST, 43, CMD_SAMPLE, bytes(sb)))
    again, (r,) = await send(frame(SYNC_HOST, 43, CMD_SAMPLE, bytes(sb)))
    assert again == first and int.from_bytes(r.payload[1:5], "little") == index + 1
    _, (r,) = await send(frame(SYNC_HOST, 44, CMD_STATS))
    assert int.from_bytes(r.payload[:4], "little") == samples0 + 2  # two samples, not three
    k = names.index("frames_rejected")
    rejected = int.from_bytes(r.payload[4 * k:4 * k + 4], "little")
    assert rejected == 2 * len(cases) + 1, rejected  # every rejection and every quiet drop
    # a frame cut short: rejected after the line has been silent for 64 byte times
    _, replies = await send(frame(SYNC_HOST, 45, CMD_STATS)[:4], wait_bytes=80)
    assert [(x.status, x.expected) for x in replies] == [(NAK_INCOMPLETE, 45)], replies
    _, (r,) = await send(frame(SYNC_HOST, 45, CMD_STATS))
    assert r.status == CMD_STATS

    # LOAD: arguments checked, a row's chunks in order, no SAMPLE while a load is unfinished
    targets = HardwareParams(cfg).load_targets()
    state = len(targets) - 1
    if not info.loads:  # longer than any frame it takes (checked first), or else unknown
        _, replies = await send(frame(SYNC_HOST, 46, CMD_LOAD, load_payload(0, 0, 0, b"")))
        code = NAK_LENGTH if LOAD_LEN > max(sb, 5) else NAK_COMMAND
        assert [(x.status, x.expected) for x in replies] == [(code, 46)], replies
        return
    chunks = [chunks_of((t["width"] + 7) // 8) for t in targets]
    assert chunks[state] >= 2  # the state row takes two chunks or more
    cases = [load_payload(len(targets), 0, 0, b""),  # no such target
             load_payload(0, 1, 0, b""),  # level 0 has one row
             load_payload(0, 0, chunks[0], b""),  # beyond a node row's chunks
             load_payload(state, 0, 1, b"")]  # chunk 1 before chunk 0
    for raw in cases:
        _, replies = await send(frame(SYNC_HOST, 46, CMD_LOAD, raw))
        assert [(x.status, x.expected) for x in replies] == [(NAK_ARGUMENT, 46)], (raw.hex(), replies)
    _, (r,) = await send(frame(SYNC_HOST, 46, CMD_LOAD, load_payload(0, 0, 0, b"")))
    assert (r.status, r.expected) == (NAK_LOADING, 46), r  # samples since the last RESET
    _, (r,) = await send(frame(SYNC_HOST, 46, CMD_RESET))
    assert r.status == CMD_RESET
    _, (r,) = await send(frame(SYNC_HOST, 47, CMD_LOAD, load_payload(0, 0, 0, b"")))
    assert (r.status, r.payload) == (CMD_LOAD, b""), r  # a row written: the root, all zeros
    _, (r,) = await send(frame(SYNC_HOST, 48, CMD_SAMPLE, bytes(sb)))
    assert (r.status, r.expected) == (NAK_LOADING, 48), r  # the load is unfinished
    _, (r,) = await send(frame(SYNC_HOST, 48, CMD_RESET))  # RESET ends the unfinished load
    assert r.status == CMD_RESET
    _, (r,) = await send(frame(SYNC_HOST, 49, CMD_SAMPLE, bytes(sb)))
    assert r.status == CMD_SAMPLE
