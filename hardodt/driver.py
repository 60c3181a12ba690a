"""Talking to a board that runs the learner (docs/protocol.md), over any byte transport.

:class:`Board` does the protocol's operations (HELLO, RESET, SAMPLE, STATS, READ, LOAD)
through a :class:`hardodt.protocol.Session`; it is written with ``async``
functions that await only their transport, so the same code drives a serial
port (:class:`SerialTransport`, under ``asyncio``) and the simulated board's
UART pins in the cocotb bench (``sim.board_bench``). :meth:`Board.stream` runs
a stream test-then-train with the golden model beside it: every prediction is
compared as it arrives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from hardodt.protocol import (
    CMD_LOAD,
    CMD_READ,
    CMD_RESET,
    CMD_SAMPLE,
    CMD_STATS,
    READ_CHUNK,
    DesignInfo,
    ProtocolError,
    Session,
    chunks_of,
    fingerprint,
    load_payload,
    read_payload,
    stat_names_of,
)

__all__ = ["Board", "SerialTransport", "StreamResult", "load_frames"]


def load_frames(config, model) -> list[bytes]:
    """The LOAD payloads that make ``model`` (a golden model of ``config``'s design) the
    board's state: every row it uses, then the state row (``rtl.preload.load_rows``), each
    in chunks. ConfigError if the model was learned with another configuration."""
    from rtl.params import HardwareParams
    from rtl.preload import load_rows, preload_image

    params = HardwareParams(config)
    image = preload_image(params, model)
    widths = [t["width"] for t in params.load_targets()]
    frames = []
    for target, row, bits in load_rows(params, image):
        raw = bits.to_bytes((widths[target] + 7) // 8, "little")
        frames += [load_payload(target, row, c, raw[READ_CHUNK * c:READ_CHUNK * (c + 1)])
                   for c in range(chunks_of(len(raw)))]
    return frames


class SerialTransport:
    """A serial port (pyserial), polled without blocking."""

    def __init__(self, port: str, baud: int) -> None:
        try:
            import serial
        except ImportError:
            raise ProtocolError("talking to a board needs pyserial (pip install pyserial)") from None
        try:
            self.port = serial.Serial(port, baud, timeout=0)
        except (serial.SerialException, OSError) as exc:
            raise ProtocolError(f"cannot open {port}: {exc}") from None
        self.port.reset_input_buffer()

    def now(self) -> float:
        return time.monotonic()

    async def exchange(self, data: bytes) -> bytes:
        import asyncio

        if data:
            self.port.write(data)
        await asyncio.sleep(0.0005)
        n = self.port.in_waiting
        return self.port.read(n) if n else b""


@dataclass
class StreamResult:
    samples: int = 0
    labelled: int = 0
    correct: int = 0
    mismatches: list = field(default_factory=list)  # (sample, hardware, golden)
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.labelled if self.labelled else 0.0


class Board:
    """The protocol's operations on one board (or simulated board)."""

    def __init__(self, transport, config, baud: float, latency: float = 0.05) -> None:
        """``latency``: seconds the transport adds to a round trip (USB serial adapters: 1-16 ms)."""
        self.transport = transport
        self.config = config
        self.session = Session(byte_time=10 / baud, latency=latency)
        self.info: DesignInfo | None = None

    async def _run(self) -> list:
        """Exchange bytes until nothing is queued or in flight; the completed commands."""
        done = []
        while self.session.busy:
            out = self.session.transmit(self.transport.now())
            got = await self.transport.exchange(out)
            done += self.session.receive(got, self.transport.now())
        return done

    async def call(self, cmd: int, payload: bytes = b""):
        self.session.submit(cmd, payload)
        (done,) = await self._run()
        return done[3].payload

    async def hello(self) -> DesignInfo:
        """Start a session and check that the board runs the design of ``config``."""
        self.session.hello()
        done = await self._run()
        self.info = info = DesignInfo.from_bytes(done[-1][3].payload)
        want = fingerprint(self.config)
        if info.fingerprint != want:
            raise ProtocolError(
                f"the board runs another design (configuration fingerprint {info.fingerprint:#010x}, "
                f"this configuration's is {want:#010x}): rebuild it with `hardodt build` from this "
                "configuration, or pass the configuration it was built with")
        return info

    async def reset(self) -> None:
        """Back to the empty tree; the sample index starts again at 0."""
        await self.call(CMD_RESET)

    async def stats(self) -> dict[str, int]:
        raw = await self.call(CMD_STATS)
        names = stat_names_of(len(raw) // 4)
        return {n: int.from_bytes(raw[4 * i:4 * i + 4], "little") for i, n in enumerate(names)}

    async def read_row(self, kind: int, level: int, row: int) -> int:
        """A node pair row (kind 0) or a counter row (kind 1) as an integer, by chunks."""
        total = self.info.node_bytes if kind == 0 else self.info.counter_bytes
        word = 0
        for chunk in range(chunks_of(total)):
            raw = await self.call(CMD_READ, read_payload(kind, level, row, chunk))
            word |= int.from_bytes(raw, "little") << (8 * READ_CHUNK * chunk)
        return word & ((1 << (8 * total)) - 1)

    async def load(self, model, on_progress=None) -> int:
        """Make a tree learned in software (a golden model) the board's state, at run time:
        RESET, then every row the tree uses and the state registers (``rtl.preload.load_rows``)
        by LOAD frames, the window kept full. Streaming on continues ``model`` exactly.
        ``on_progress(frames_done, frames)``; returns the number of LOAD frames."""
        if not self.info.loads:
            raise ProtocolError("this board's design does not take LOAD (built with --no-load, or "
                                "a board where it does not fit, as the iCEBreaker): rebuild it with "
                                "the tree as its initial state (`hardodt build --preload TREE.json`)")
        frames = load_frames(self.config, model)  # ConfigError: another configuration
        await self.reset()
        for payload in frames:
            self.session.submit(CMD_LOAD, payload)
        done = 0
        while self.session.busy:
            out = self.session.transmit(self.transport.now())
            got = await self.transport.exchange(out)
            finished = len(self.session.receive(got, self.transport.now()))
            done += finished
            if finished and on_progress:
                on_progress(done, len(frames))
        return len(frames)

    async def tree(self) -> list[dict]:
        """The learned tree, in ``sim.readback``'s canonical form (compare with ``golden_tree``)."""
        from rtl.params import HardwareParams
        from sim.readback import decode_counter, hardware_tree

        params = HardwareParams(self.config)

        async def read_node(level, row):
            return await self.read_row(0, level, row)

        async def read_counter(element):
            return decode_counter(params, await self.read_row(1, 0, element))

        return await hardware_tree(params, read_node, read_counter)

    async def stream(self, xn, xc, y, learn, golden=None, on_progress=None, on_mismatch=None,
                     chunk: int = 256) -> StreamResult:
        """Send every sample test-then-train; compare each prediction with ``golden`` (a golden
        model in the board's state, run a chunk ahead) as it arrives."""
        from rtl.params import HardwareParams
        from sim.readback import pack_samples

        params = HardwareParams(self.config)
        sb = self.info.sample_bytes
        n = len(y)
        res = StreamResult()
        start = self.transport.now()
        sent = 0
        expected = np.empty(0, np.int64)
        index0 = None
        while sent < n or self.session.busy:
            if sent < n and len(self.session.queue) < 2 * self.session.window:
                hi = min(n, sent + chunk)
                if golden is not None:
                    expected = np.concatenate([expected, golden._run(xn[sent:hi], xc[sent:hi],
                                                                     y[sent:hi], learn[sent:hi])])
                words = pack_samples(params, xn[sent:hi], xc[sent:hi], y[sent:hi], learn[sent:hi])
                for i, w in enumerate(words):
                    self.session.submit(CMD_SAMPLE, w.to_bytes(sb, "little"), tag=sent + i)
                sent = hi
            out = self.session.transmit(self.transport.now())
            got = await self.transport.exchange(out)
            for tag, cmd, _payload, reply in self.session.receive(got, self.transport.now()):
                if cmd != CMD_SAMPLE:
                    continue
                label = reply.payload[0]
                index = int.from_bytes(reply.payload[1:5], "little")
                index0 = index - tag if index0 is None else index0
                if index - index0 != tag:
                    raise ProtocolError(f"sample {tag} was answered as the board's sample "
                                        f"{index - index0}: a sample was lost or applied twice")
                res.samples += 1
                if learn[tag]:
                    res.labelled += 1
                    res.correct += int(label == y[tag])
                if golden is not None and label != expected[tag]:
                    res.mismatches.append((tag, int(label), int(expected[tag])))
                    if on_mismatch:
                        on_mismatch(tag, int(label), int(expected[tag]))
                if on_progress:
                    on_progress(res)
        res.seconds = self.transport.now() - start
        res.stats = await self.stats()
        return res
