"""A board in software, for testing the host side without hardware or a simulator.

``FrameRules`` is the device's frame handling (rtl/host_link.py: CRC, expected sequence
number, the ring of the last 8 replies, quiet drops after a rejection, HELLO at any
number) over a command executor; ``EmulatedBoard`` executes the commands with the golden
model as the learner (READ returns its rows laid out as ``rtl.preload`` lays them) and
serves them on a pseudo-terminal, so ``hardodt stream --port`` runs end to end through
pyserial. The hardware itself is checked against the same driver in Verilator
(tests/test_board.py); this checks the serial path and the CLI around it.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from hardodt.protocol import (
    CMD_HELLO,
    CMD_READ,
    CMD_RESET,
    CMD_SAMPLE,
    CMD_STATS,
    NAK_CHECKSUM,
    NAK_SEQUENCE,
    READ_CHUNK,
    SYNC_DEVICE,
    SYNC_HOST,
    WINDOW,
    DesignInfo,
    crc16,
    frame,
    next_frame,
    stat_names,
)


class FrameRules:
    """The device's rules for host frames; ``execute(cmd, payload) -> reply payload``."""

    def __init__(self) -> None:
        self.expected, self.history, self.discarding = 0, 0, False
        self.ring: dict[int, bytes] = {}
        self.buffer = bytearray()

    def execute(self, cmd: int, payload: bytes) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def take(self, data: bytes) -> bytes:
        """Replies to the complete frames in ``data`` (and what earlier calls left)."""
        self.buffer += data
        out = bytearray()
        while (f := next_frame(self.buffer, SYNC_HOST)) is not None:
            del self.buffer[:len(f)]
            out += self._frame(f)
        return bytes(out)

    def _reject(self, seq: int, code: int) -> bytes:
        self.discarding = True
        return frame(SYNC_DEVICE, seq, code, bytes([self.expected]))

    def _frame(self, f: bytes) -> bytes:
        seq, cmd = f[1], f[2]
        if crc16(f[1:]) != 0:
            return self._reject(seq, NAK_CHECKSUM)
        diff = (self.expected - seq) & 0xFF
        if cmd == CMD_HELLO:
            self.expected, self.history, diff = seq, 0, 0
        if diff == 0:
            reply = frame(SYNC_DEVICE, seq, cmd, self.execute(cmd, f[4:-2]))
            self.ring[seq % WINDOW] = reply
            self.expected = (self.expected + 1) & 0xFF
            self.history = min(self.history + 1, WINDOW)
            self.discarding = False
            return reply
        if 1 <= diff <= self.history:
            return self.ring[seq % WINDOW]
        return b"" if self.discarding else self._reject(seq, NAK_SEQUENCE)


class EmulatedBoard(FrameRules):
    """The golden model behind the protocol, on a pseudo-terminal (``port``).

    ``wrong_at``: the sample index whose prediction is reported wrong (to see the host catch it).
    """

    def __init__(self, config, wrong_at: int | None = None) -> None:
        super().__init__()
        from reference import QuantileHoeffdingTree
        from rtl.params import HardwareParams

        self.config, self.wrong_at = config, wrong_at
        self.params = HardwareParams(config)
        self.info = DesignInfo.of(config)
        self.model = QuantileHoeffdingTree(config)
        self.index = self.mistakes = 0
        self.master, slave = os.openpty()
        import tty

        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._stop = True
        os.close(self._slave)

    def _serve(self) -> None:
        while not self._stop:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            reply = self.take(data)
            if reply:
                os.write(self.master, reply)

    def execute(self, cmd: int, payload: bytes) -> bytes:
        from reference import QuantileHoeffdingTree
        from sim.readback import decode

        if cmd == CMD_HELLO:
            return self.info.to_bytes()
        if cmd == CMD_RESET:
            self.model = QuantileHoeffdingTree(self.config)
            self.index = self.mistakes = 0
            return b""
        if cmd == CMD_SAMPLE:
            s = decode(self.params.sample_layout, int.from_bytes(payload, "little"))
            xn = np.array([s["x"]], np.int64).reshape(1, self.params.n_num)
            xc = np.array([s["xc"]], np.int64).reshape(1, self.params.n_cat)
            pred = int(self.model._run(xn, xc, np.array([s["label"]]), np.array([bool(s["learn"])]))[0])
            if self.index == self.wrong_at:
                pred ^= 1
            self.mistakes += int(bool(s["learn"]) and pred != s["label"])
            out = bytes([pred]) + self.index.to_bytes(4, "little")
            self.index += 1
            return out
        if cmd == CMD_STATS:
            words = dict(self.model.stats, leaves=self.model.n_leaves, mistakes=self.mistakes,
                         frames_rejected=0, rx_framing_errors=0, rx_overruns=0)
            return b"".join((words[n] & 0xFFFFFFFF).to_bytes(4, "little") for n in stat_names())
        if cmd == CMD_READ:

            from rtl.preload import preload_image

            kind, level, row, chunk = payload[0], payload[1], payload[2] | payload[3] << 8, payload[4]
            image = preload_image(self.params, self.model)
            if kind == 0:
                word = self.params.pair_layout.const(image.levels[level][row])
            else:
                rows = image.counters
                word = self.params.counter_layout.const(rows[row] if row < len(rows) else {})
            bits = word.as_value().value >> (8 * READ_CHUNK * chunk)
            return (bits & ((1 << 8 * READ_CHUNK) - 1)).to_bytes(READ_CHUNK, "little")
        raise AssertionError(f"command {cmd}")
