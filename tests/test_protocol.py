"""The host protocol's pure-Python side: checksum, frames, the reply parser and the session's
resend rules (against a small model of the device's rules, so they run without a simulator;
the hardware itself is checked in tests/test_board.py)."""

import random

import pytest
from board_emulator import FrameRules

from hardodt.protocol import (
    CMD_HELLO,
    CMD_LOAD,
    CMD_SAMPLE,
    FLAG_LOAD,
    HELLO_BYTES,
    LOAD_LEN,
    NAK_ARGUMENT,
    SYNC_DEVICE,
    SYNC_HOST,
    DesignInfo,
    ProtocolError,
    ReplyParser,
    Session,
    crc16,
    frame,
    load_payload,
)


def test_crc_is_ccitt_false_and_a_frame_checks_to_zero():
    assert crc16(b"123456789") == 0x29B1
    f = frame(SYNC_HOST, 7, CMD_SAMPLE, b"\x01\x02\x03")
    assert f[:5] == bytes([0xA5, 7, CMD_SAMPLE, 3, 1]) and crc16(f[1:]) == 0
    with pytest.raises(ValueError, match="255"):
        frame(SYNC_HOST, 0, CMD_SAMPLE, bytes(256))


def test_reply_parser_skips_noise_and_corrupt_frames():
    good = frame(SYNC_DEVICE, 3, CMD_SAMPLE, b"\x01abcd")
    bad = bytearray(frame(SYNC_DEVICE, 4, CMD_SAMPLE, b"\x00abcd"))
    bad[6] ^= 1
    p = ReplyParser()
    replies = []
    stream = b"\x00\x5a\x01" + bytes(bad) + good  # a stray sync byte, a corrupt frame, a good one
    for i in range(0, len(stream), 3):  # arriving in pieces
        replies += p.feed(stream[i:i + 3])
    assert [(r.seq, r.status, r.payload) for r in replies] == [(3, CMD_SAMPLE, b"\x01abcd")]
    assert p.corrupt >= 1


def test_design_info_round_trip_and_version_check():
    info = DesignInfo(0xDEADBEEF, 3, 16, 4, 9, 11, 6_000_000, 52)
    assert DesignInfo.from_bytes(info.to_bytes()) == info and not info.loads
    loads = DesignInfo(0xDEADBEEF, 3, 16, 4, 9, 11, 6_000_000, 52, flags=FLAG_LOAD)
    assert DesignInfo.from_bytes(loads.to_bytes()).loads
    assert len(info.to_bytes()) == HELLO_BYTES
    raw = bytearray(info.to_bytes())
    raw[0] = 9
    with pytest.raises(ProtocolError, match="version 9"):
        DesignInfo.from_bytes(bytes(raw))
    with pytest.raises(ProtocolError, match="21 bytes, this one 20"):
        DesignInfo.from_bytes(info.to_bytes()[:-1])


def test_load_frames_carry_one_chunk_and_a_refusal_stops_the_session():
    assert load_payload(3, 0x1234, 1, b"\x01\x02") == bytes([3, 0x34, 0x12, 1, 1, 2]) + bytes(30)
    assert len(load_payload(0, 0, 0, b"")) == LOAD_LEN
    with pytest.raises(ValueError, match="at most 32"):
        load_payload(0, 0, 0, bytes(33))
    s = Session(byte_time=1.0)
    s.submit(CMD_LOAD, load_payload(0, 0, 0, b""))
    s.transmit(0.0)
    with pytest.raises(ProtocolError, match=r"refused frame 0 \(LOAD\): argument out of range"):
        s.receive(frame(SYNC_DEVICE, 0, NAK_ARGUMENT, b"\x00"), 1.0)


class DeviceModel(FrameRules):
    """The device's frame rules (tests/board_emulator.py) over a lossy line; a SAMPLE is
    recorded as applied."""

    def __init__(self, rng, corrupt=0.0, reply_corrupt=0.0):
        super().__init__()
        self.rng, self.corrupt, self.reply_corrupt = rng, corrupt, reply_corrupt
        self.applied = []

    def execute(self, cmd, payload):
        if cmd == CMD_SAMPLE:
            self.applied.append(payload[0])
        return b""

    def _noise(self, data, p):
        data = bytearray(data)
        for k in range(len(data)):
            if self.rng.random() < p:
                data[k] ^= 1 << self.rng.randrange(8)
        return bytes(data)

    def take(self, data: bytes) -> bytes:
        return self._noise(super().take(self._noise(data, self.corrupt)), self.reply_corrupt)


@pytest.mark.parametrize("corrupt,reply_corrupt", [(0.0, 0.0), (0.02, 0.0), (0.0, 0.02), (0.02, 0.02)])
def test_session_delivers_every_command_once_in_order(corrupt, reply_corrupt):
    rng = random.Random(4)
    dev = DeviceModel(rng, corrupt, reply_corrupt)
    s = Session(byte_time=1.0)
    s.hello()
    for i in range(300):
        s.submit(CMD_SAMPLE, bytes([i & 0xFF]), tag=i)
    done, now = [], 0.0
    while s.busy:
        out = s.transmit(now)
        now += len(out) + 5  # the line's time
        done += s.receive(dev.take(out), now)
    samples = [d for d in done if d[1] == CMD_SAMPLE]
    assert [d[0] for d in samples] == list(range(300))  # each once, in order
    assert dev.applied == [i & 0xFF for i in range(300)]  # the device applied each exactly once
    if corrupt or reply_corrupt:
        assert s.resends > 0
    else:
        assert s.resends == 0 and not s.rejections


def test_session_gives_up_on_a_silent_board():
    s = Session(byte_time=1.0, max_idle_rounds=3)
    s.submit(CMD_SAMPLE, b"\x00")
    now = 0.0
    with pytest.raises(ProtocolError, match="no reply"):
        for _ in range(100):
            s.transmit(now)
            s.receive(b"", now)
            now += 100.0


def test_a_reply_for_another_command_is_an_error():
    s = Session(byte_time=1.0)
    s.submit(CMD_SAMPLE, b"\x00")
    s.transmit(0.0)
    with pytest.raises(ProtocolError, match="out of step"):
        s.receive(frame(SYNC_DEVICE, 0, CMD_HELLO, bytes(HELLO_BYTES)), 1.0)


class _FakeBoard:
    """A transport whose device answers HELLO with a given design and SAMPLE with given indices."""

    def __init__(self, info: DesignInfo, indices=()):
        self.info, self.indices, self.t = info, list(indices), 0.0

    def now(self):
        self.t += 1.0
        return self.t

    async def exchange(self, data):
        out = bytearray()
        i = 0
        while i + 4 <= len(data):
            n = data[i + 3]
            seq, cmd = data[i + 1], data[i + 2]
            if cmd == CMD_HELLO:
                out += frame(SYNC_DEVICE, seq, cmd, self.info.to_bytes())
            elif cmd == CMD_SAMPLE:
                out += frame(SYNC_DEVICE, seq, cmd, bytes([0]) + self.indices.pop(0).to_bytes(4, "little"))
            else:
                out += frame(SYNC_DEVICE, seq, cmd, b"")
            i += 6 + n
        return bytes(out)


def _tiny_config():
    from hardodt import Config

    return Config.from_toml("benchmarks/configs/tiny.toml")


def test_the_driver_refuses_a_board_running_another_design():
    import asyncio

    from hardodt.driver import Board
    from hardodt.protocol import fingerprint

    cfg = _tiny_config()
    other = DesignInfo.of(cfg)
    other = DesignInfo(**{**other.__dict__, "fingerprint": fingerprint(cfg) ^ 1})
    board = Board(_FakeBoard(other), cfg, 115200)
    with pytest.raises(ProtocolError, match="runs another design"):
        asyncio.run(board.hello())
    good = Board(_FakeBoard(DesignInfo.of(cfg)), cfg, 115200)
    assert asyncio.run(good.hello()).fingerprint == fingerprint(cfg)


def test_the_driver_stops_when_a_sample_index_skips_or_repeats():
    import asyncio

    import numpy as np

    from hardodt.driver import Board

    cfg = _tiny_config()
    board = Board(_FakeBoard(DesignInfo.of(cfg), indices=[0, 1, 1, 2]), cfg, 115200)
    asyncio.run(board.hello())
    n = 4
    with pytest.raises(ProtocolError, match="lost or applied twice"):
        asyncio.run(board.stream(np.zeros((n, 1), np.int64), np.zeros((n, 0), np.int64),
                                 np.zeros(n, np.int64), np.ones(n, bool)))
