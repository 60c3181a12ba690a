"""The host protocol (docs/protocol.md): frames, their checksum, and a sans-I/O session.

Everything here is pure Python with no I/O, so the same code drives a board
over a serial port (``hardodt.driver``) and the simulated board's pins in the
cocotb bench (``sim.board_bench``), and the hardware's frame engine
(``rtl.host_link``) takes its constants from here.

A host frame is ``A5 seq cmd len payload crc_hi crc_lo``; a device frame is
``5A seq status len payload crc_hi crc_lo``; the CRC is CRC-16/CCITT-FALSE over
everything after the sync byte. Every frame the device takes gets exactly one
reply. The device executes a command only when its sequence number is the one
it expects next, replays its stored reply for a recent sequence number (a
resend whose reply was lost) and rejects anything else with an error code and
the sequence number it expects, so the :class:`Session` can resend: no sample
is ever dropped or applied twice.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field

__all__ = [
    "SYNC_HOST", "SYNC_DEVICE", "VERSION", "WINDOW", "SLOT_BYTES", "READ_CHUNK",
    "CMD_HELLO", "CMD_SAMPLE", "CMD_STATS", "CMD_RESET", "CMD_READ", "CMD_LOAD", "COMMANDS",
    "NAK_CHECKSUM", "NAK_SEQUENCE", "NAK_COMMAND", "NAK_LENGTH", "NAK_INCOMPLETE",
    "NAK_ARGUMENT", "NAK_LOADING", "STATUS_NAMES", "FATAL_STATUSES", "FLAG_LOAD", "LOAD_LEN", "HELLO_BYTES",
    "load_payload", "chunks_of", "LINK_STAT_NAMES", "BASIC_STAT_NAMES", "stat_names",
    "stat_names_of", "crc16", "frame", "DesignInfo",
    "Reply", "ReplyParser", "Session", "next_frame", "ProtocolError", "fingerprint",
]

SYNC_HOST = 0xA5
SYNC_DEVICE = 0x5A
VERSION = 2
#: Frames the host may have unanswered, and replies the device keeps for resends.
WINDOW = 8
#: Bytes of reply payload the device can store per sequence number.
SLOT_BYTES = 64
#: Bytes of a node or counter row returned by one READ.
READ_CHUNK = 32

CMD_HELLO, CMD_SAMPLE, CMD_STATS, CMD_RESET, CMD_READ, CMD_LOAD = range(6)
COMMANDS = {CMD_HELLO: "HELLO", CMD_SAMPLE: "SAMPLE", CMD_STATS: "STATS", CMD_RESET: "RESET",
            CMD_READ: "READ", CMD_LOAD: "LOAD"}
#: A reply's status: the command it answers (below 0x80), or why the frame was rejected.
(NAK_CHECKSUM, NAK_SEQUENCE, NAK_COMMAND, NAK_LENGTH, NAK_INCOMPLETE, NAK_ARGUMENT,
 NAK_LOADING) = range(0x80, 0x87)
STATUS_NAMES = {NAK_CHECKSUM: "bad checksum", NAK_SEQUENCE: "out of sequence",
                NAK_COMMAND: "unknown command", NAK_LENGTH: "wrong length",
                NAK_INCOMPLETE: "incomplete frame (timeout)", NAK_ARGUMENT: "argument out of range",
                NAK_LOADING: "out of order for a load (a SAMPLE during an unfinished load, or "
                             "a LOAD without a RESET before it)"}
#: Rejections a resend cannot cure (the frame arrived intact and is wrong): the host stops.
FATAL_STATUSES = (NAK_COMMAND, NAK_ARGUMENT, NAK_LOADING)
#: HELLO's flags: the design takes LOAD (a tree loaded at run time).
FLAG_LOAD = 0x01
#: Counters of the link itself, after the learner's in a STATS reply.
LINK_STAT_NAMES = ("leaves", "mistakes", "frames_rejected", "rx_framing_errors", "rx_overruns")
#: What STATS reports: every counter, or (``"basic"``, for small FPGAs: the learner's other
#: counters are then left out of the design) the ones a user watches.
BASIC_STAT_NAMES = ("samples", "splits", "leaves", "mistakes", "frames_rejected",
                    "rx_framing_errors", "rx_overruns")


def stat_names(kind: str = "all") -> tuple[str, ...]:
    """The words of a STATS reply, in order (``kind``: "all" or "basic")."""
    from reference.kernels import STAT_NAMES

    if kind == "all":
        return tuple(STAT_NAMES) + LINK_STAT_NAMES
    if kind == "basic":
        return BASIC_STAT_NAMES
    raise ValueError(f"stats: 'all' or 'basic', not {kind!r}")


def stat_names_of(words: int) -> tuple[str, ...]:
    """The STATS layout a board reports (its HELLO says how many words)."""
    for kind in ("all", "basic"):
        if len(stat_names(kind)) == words:
            return stat_names(kind)
    raise ProtocolError(f"the board reports {words} statistics words, which no STATS layout has")


class ProtocolError(RuntimeError):
    """The board answered something the protocol does not allow, or not at all."""


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF): ``crc16(b"123456789") == 0x29B1``."""
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def frame(sync: int, seq: int, code: int, payload: bytes = b"") -> bytes:
    """One frame with its checksum (big-endian, so the CRC over body and checksum is 0)."""
    if len(payload) > 255:
        raise ValueError(f"a frame carries at most 255 payload bytes, not {len(payload)}")
    body = bytes([seq & 0xFF, code & 0xFF, len(payload)]) + bytes(payload)
    c = crc16(body)
    return bytes([sync]) + body + bytes([c >> 8, c & 0xFF])


def fingerprint(config) -> int:
    """CRC-32 of the configuration's TOML: the board reports the one it was built with."""
    return zlib.crc32(config.to_toml().encode())


@dataclass(frozen=True)
class DesignInfo:
    """What a design's HELLO reply says: enough for the host to encode samples and read rows."""

    fingerprint: int
    sample_bytes: int
    stat_words: int
    levels: int
    node_bytes: int  # a node pair row
    counter_bytes: int
    clock_hz: int
    divisor: int  # clock cycles per UART bit
    flags: int = 0  # FLAG_LOAD
    window: int = WINDOW
    version: int = VERSION

    @classmethod
    def of(cls, config, clock_hz: int = 0, divisor: int = 0, stats: str = "all",
           load: bool = False) -> DesignInfo:
        from rtl.params import HardwareParams

        p = HardwareParams(config)
        return cls(fingerprint=fingerprint(config), sample_bytes=(p.sample_layout.size + 7) // 8,
                   stat_words=len(stat_names(stats)), levels=p.levels,
                   node_bytes=(p.pair_layout.size + 7) // 8,
                   counter_bytes=(p.counter_layout.size + 7) // 8, clock_hz=clock_hz,
                   divisor=divisor, flags=FLAG_LOAD if load else 0)

    @property
    def loads(self) -> bool:
        """The design takes LOAD."""
        return bool(self.flags & FLAG_LOAD)

    def to_bytes(self) -> bytes:
        le = int.to_bytes
        return (bytes([self.version]) + le(self.fingerprint, 4, "little")
                + bytes([self.sample_bytes, self.stat_words, self.levels, self.window, READ_CHUNK])
                + le(self.node_bytes, 2, "little") + le(self.counter_bytes, 2, "little")
                + le(self.clock_hz, 4, "little") + le(self.divisor, 2, "little")
                + bytes([self.flags]))

    @classmethod
    def from_bytes(cls, raw: bytes) -> DesignInfo:
        u = lambda a, b: int.from_bytes(raw[a:b], "little")  # noqa: E731
        if raw and raw[0] != VERSION:
            raise ProtocolError(f"the board speaks protocol version {raw[0]}, this host {VERSION}: "
                                "rebuild the board's bitstream with this hardodt")
        if len(raw) != HELLO_BYTES:
            raise ProtocolError(f"a HELLO reply has {HELLO_BYTES} bytes, this one {len(raw)}")
        if raw[9] != READ_CHUNK:
            raise ProtocolError(f"the board reads rows in chunks of {raw[9]} bytes, expected {READ_CHUNK}")
        return cls(fingerprint=u(1, 5), sample_bytes=raw[5], stat_words=raw[6], levels=raw[7],
                   window=raw[8], node_bytes=u(10, 12), counter_bytes=u(12, 14),
                   clock_hz=u(14, 18), divisor=u(18, 20), flags=raw[20], version=raw[0])


#: Bytes of a HELLO reply.
HELLO_BYTES = 21


def chunks_of(nbytes: int) -> int:
    """READ or LOAD frames a row of ``nbytes`` bytes takes (``READ_CHUNK`` bytes each)."""
    return -(-nbytes // READ_CHUNK)


def read_payload(kind: int, level: int, row: int, chunk: int) -> bytes:
    """READ: ``kind`` 0 a node pair row of ``level``, 1 the counter row of element ``row``."""
    return bytes([kind, level, row & 0xFF, row >> 8, chunk])


READ_LEN = 5


def load_payload(target: int, row: int, chunk: int, data: bytes) -> bytes:
    """LOAD: bytes ``32 * chunk`` on of row ``row`` of load target ``target``
    (``rtl.params.HardwareParams.load_targets``), zero-padded to a whole chunk."""
    if len(data) > READ_CHUNK:
        raise ValueError(f"a LOAD chunk carries at most {READ_CHUNK} bytes, not {len(data)}")
    return bytes([target, row & 0xFF, row >> 8, chunk]) + bytes(data).ljust(READ_CHUNK, b"\0")


LOAD_LEN = 4 + READ_CHUNK


@dataclass(frozen=True)
class Reply:
    seq: int
    status: int
    payload: bytes

    @property
    def expected(self) -> int:
        """A rejection's payload: the sequence number the device expects next."""
        return self.payload[0] if self.payload else -1


def next_frame(buf: bytearray, sync: int) -> bytes | None:
    """The frame starting at the first ``sync`` byte of ``buf`` once all of it is there
    (bytes before it are dropped from ``buf``; the frame is left in it), else None."""
    start = buf.find(sync)
    if start < 0:
        buf.clear()
        return None
    del buf[:start]
    if len(buf) < 4 or len(buf) < 6 + buf[3]:
        return None
    return bytes(buf[:6 + buf[3]])


class ReplyParser:
    """Device frames out of a byte stream; a frame that fails its checksum is counted and skipped."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.corrupt = 0

    def feed(self, data: bytes) -> list[Reply]:
        self.buffer += data
        out = []
        buf = self.buffer
        while (f := next_frame(buf, SYNC_DEVICE)) is not None:
            if crc16(f[1:]) == 0:
                out.append(Reply(f[1], f[2], f[4:-2]))
                del buf[:len(f)]
            else:  # not a frame (or a corrupt one): look for the next sync byte
                self.corrupt += 1
                del buf[:1]
        return out


#: Reply payload bytes per command (for the session's timing; READ and STATS are the longest).
_REPLY_BYTES = {CMD_HELLO: HELLO_BYTES, CMD_SAMPLE: 5, CMD_STATS: SLOT_BYTES, CMD_RESET: 0,
                CMD_READ: READ_CHUNK, CMD_LOAD: 0}


@dataclass
class _Pending:
    seq: int
    cmd: int
    payload: bytes
    sent_at: float = 0.0
    reply: Reply | None = None
    tag: object = None


@dataclass
class Session:
    """The host's side of the protocol, without I/O: a sliding window with resends.

    ``submit`` queues a command; ``transmit(now)`` returns the bytes to write;
    ``receive(data, now)`` takes bytes read and returns the completed commands,
    in order, as ``(tag, cmd, payload_sent, Reply)``. A rejection makes the
    session resend everything not answered yet from the oldest (go-back-N); a
    reply that does not come in time does too (the time the frames in flight and
    their replies take on the line, twice, plus the transport's ``latency``; times
    in seconds of the caller's clock). The device replays the reply of a command
    it has already executed, so a resend never executes twice.
    """

    byte_time: float  # seconds per byte on the line (10 bits: 8N1)
    latency: float = 0.0
    window: int = WINDOW
    seq: int = 0
    resends: int = 0
    rejections: dict = field(default_factory=dict)
    queue: deque = field(default_factory=deque)
    inflight: deque = field(default_factory=deque)
    parser: ReplyParser = field(default_factory=ReplyParser)
    _resend_all: bool = False
    _last_round: float = float("-inf")
    _rounds_idle: int = 0  # resend rounds since the last command completed
    max_idle_rounds: int = 50

    def _line_time(self) -> float:
        """Seconds for the frames in flight to reach the device and their replies to return."""
        n = sum(6 + len(p.payload) + 6 + _REPLY_BYTES.get(p.cmd, SLOT_BYTES) for p in self.inflight)
        return self.latency + self.byte_time * n

    def rejections_text(self) -> str:
        if not self.rejections:
            return "no rejections"
        return ", ".join(f"{n} {STATUS_NAMES.get(k, hex(k))}" for k, n in self.rejections.items())

    def submit(self, cmd: int, payload: bytes = b"", tag: object = None) -> None:
        self.queue.append((cmd, bytes(payload), tag))

    def hello(self) -> None:
        """Start (or restart) a session: HELLO is taken at any sequence number."""
        self.submit(CMD_HELLO)

    @property
    def busy(self) -> bool:
        return bool(self.queue or self.inflight)

    def transmit(self, now: float) -> bytes:
        out = bytearray()
        if self.inflight and now - self.inflight[0].sent_at > 2 * self._line_time():
            self._resend_all = True
            self._last_round = float("-inf")
        # After a resend round, rejections of frames sent before it are stale: wait for the
        # round to reach the device (half a timeout: a window of frames) before another.
        if self._resend_all and now - self._last_round >= self._line_time():
            self._resend_all = False
            self._last_round = now
            self._rounds_idle += 1
            if self._rounds_idle > self.max_idle_rounds:
                raise ProtocolError(f"no reply after {self.max_idle_rounds} rounds of resends "
                                    f"({self.rejections_text()}): is the board running this "
                                    "design, at this baud rate?")
            for p in self.inflight:
                if p.reply is None:
                    self.resends += 1
                    p.sent_at = now
                    out += frame(SYNC_HOST, p.seq, p.cmd, p.payload)
        while self.queue and len(self.inflight) < self.window:
            if self.queue[0][0] == CMD_HELLO and self.inflight:
                break  # HELLO restarts the device's sequence: nothing may be in flight
            if self.inflight and self.inflight[-1].cmd == CMD_HELLO:
                break  # ... nor follow it before it is answered
            cmd, payload, tag = self.queue.popleft()
            p = _Pending(self.seq, cmd, payload, now, tag=tag)
            self.seq = (self.seq + 1) & 0xFF
            self.inflight.append(p)
            out += frame(SYNC_HOST, p.seq, cmd, payload)
        return bytes(out)

    def receive(self, data: bytes, now: float) -> list[tuple]:
        done = []
        for r in self.parser.feed(data):
            if r.status & 0x80:
                self.rejections[r.status] = self.rejections.get(r.status, 0) + 1
                if r.status not in STATUS_NAMES:
                    raise ProtocolError(f"the board sent status {r.status:#04x}, which the "
                                        "protocol does not define")
                if r.status in FATAL_STATUSES:
                    sent = next((p for p in self.inflight if p.seq == r.seq), None)
                    what = COMMANDS.get(sent.cmd, hex(sent.cmd)) if sent else "?"
                    raise ProtocolError(f"the board refused frame {r.seq} ({what}): "
                                        f"{STATUS_NAMES[r.status]}")
                self._resend_all = True
                continue
            for i, p in enumerate(self.inflight):
                if p.seq == r.seq:
                    if r.status != p.cmd:
                        raise ProtocolError(
                            f"frame {p.seq} ({COMMANDS[p.cmd]}) was answered as "
                            f"{COMMANDS.get(r.status, hex(r.status))}: the board is out of step")
                    if p.reply is None:
                        p.reply = r
                    if any(q.reply is None for q in list(self.inflight)[:i]):
                        self._resend_all = True  # an earlier reply was lost on the way
                    break
            # a reply to nothing in flight: a replay of a reply already taken
        while self.inflight and self.inflight[0].reply is not None:
            p = self.inflight.popleft()
            done.append((p.tag, p.cmd, p.payload, p.reply))
            self._rounds_idle = 0
        if done and self.inflight:
            self.inflight[0].sent_at = max(self.inflight[0].sent_at, now)
        return done
