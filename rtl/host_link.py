"""``HostLink``: the device side of the host protocol (docs/protocol.md), bytes in and out.

It parses host frames from a byte stream, checks their CRC and sequence
number, drives the learner's ports (samples, predictions, statistics, the
read-back port, its reset) and writes each reply into a ring of the last
``WINDOW`` replies before sending it, so a resend of a command already executed
is answered from the ring instead of being executed again. It knows nothing of
UARTs: any byte transport (``rtl.uart``, or a faster link) can feed it.

Commands are executed one at a time, in order; the learner's latency (a few
cycles) is far below a byte time, so the link, not the learner, sets the pace.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

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
    READ_CHUNK,
    READ_LEN,
    SLOT_BYTES,
    SYNC_DEVICE,
    SYNC_HOST,
    WINDOW,
    DesignInfo,
    chunks_of,
    stat_names,
)
from reference.kernels import STAT_NAMES

__all__ = ["HostLink", "crc16_step"]


def _crc16_terms() -> list[tuple[frozenset, frozenset]]:
    """Per bit of the next CRC, the CRC bits and byte bits it is the XOR of (the CRC is linear)."""
    bits = [(frozenset([i]), frozenset()) for i in range(16)]
    xor = lambda a, b: (a[0] ^ b[0], a[1] ^ b[1])  # noqa: E731
    for i in range(8):
        bits[8 + i] = xor(bits[8 + i], (frozenset(), frozenset([i])))
    for _ in range(8):
        top = bits[15]
        shifted = [(frozenset(), frozenset())] + bits[:15]
        bits = [xor(b, top) if (0x1021 >> i) & 1 else b for i, b in enumerate(shifted)]
    return bits


_CRC16_TERMS = _crc16_terms()


def crc16_step(crc, byte):
    """CRC-16/CCITT-FALSE after one more byte (as ``hardodt.protocol.crc16``): 16 XOR trees."""
    crc, byte = Value.cast(crc), Cat(Value.cast(byte), Const(0, 8))[:8]
    out = []
    for c_bits, b_bits in _CRC16_TERMS:
        terms = [crc[i] for i in sorted(c_bits)] + [byte[i] for i in sorted(b_bits)]
        v = terms[0]
        for t in terms[1:]:
            v = v ^ t
        out.append(v)
    return Cat(*out)


def _bytes_of(value, n: int) -> list:
    value = Value.cast(value)
    value = Cat(value, Const(0, 8 * n - len(value))) if len(value) < 8 * n else value
    return [value[8 * i:8 * i + 8] for i in range(n)]


class HostLink(wiring.Component):
    """The frame engine between a byte transport and one learner (``rtl.hardodt.HardODT``).

    Members
    -------
    rx : In(stream.Signature(8))
        Bytes from the host.
    tx : Out(stream.Signature(8))
        Bytes to the host.
    learner : Out(learner.signature.flip())
        Connect to the learner with ``wiring.connect``.
    learner_reset : Out(1)
        Pulsed by RESET: the learner's reset, with the domain's own (``rtl.board``).
    leaves : In(32)
        The learner's leaf count, reported by STATS.
    rx_framing_errors, rx_overruns : In(16)
        The transport's counters, reported by STATS.
    sample_done, rejected : Out(1)
        One-cycle strobes (a sample was answered; a frame was rejected): for LEDs.

    ``stats="basic"`` reports only ``hardodt.protocol.BASIC_STAT_NAMES``: on a small FPGA
    the learner's other counters, then unread, are left out by synthesis. ``load=False``
    leaves out LOAD (its row buffer and the learner's load paths, then unused).
    """

    def __init__(self, learner, *, clock_hz: int = 0, divisor: int = 0,
                 timeout_cycles: int = 1 << 16, stats: str = "all", load: bool = True) -> None:
        self.params = p = learner.params
        self.stat_names = stat_names(stats)
        if load and not learner.load:
            raise ValueError("HostLink(load=True) needs a learner built with HardODT(..., load=True)")
        self.load = load
        self.info = DesignInfo.of(learner.config, clock_hz, divisor, stats, load)
        self.timeout_cycles = timeout_cycles
        super().__init__({
            "rx": In(stream.Signature(8)),
            "tx": Out(stream.Signature(8)),
            "learner": Out(learner.signature.flip()),
            "learner_reset": Out(1),
            "leaves": In(32),
            "rx_framing_errors": In(16),
            "rx_overruns": In(16),
            "sample_done": Out(1),
            "rejected": Out(1),
        })
        self._row_bits = len(self.learner.debug_row)
        assert self.info.stat_words * 4 <= SLOT_BYTES
        assert p.prediction_layout.size <= 8

    def elaborate(self, platform) -> Module:
        m = Module()
        info, lrn = self.info, self.learner
        sb = info.sample_bytes
        max_in = max(sb, READ_LEN, LOAD_LEN if self.load else 0)
        ring = m.submodules.ring = Memory(shape=8, depth=WINDOW * SLOT_BYTES, init=[])
        wr, rd = ring.write_port(), ring.read_port()
        slot_bits = (WINDOW - 1).bit_length()
        # a stored reply's command; its length follows from the command (reply_len)
        slot_cmd = Array(Signal(3, name=f"slot_cmd{i}") for i in range(WINDOW))

        # -- counters ----------------------------------------------------------------------
        index = Signal(32)  # samples since the last RESET: the next SAMPLE reply's index
        mistakes = Signal(32)
        frames_rejected = Signal(32)
        sources = {n: lrn.stats[i] for i, n in enumerate(STAT_NAMES)}
        sources.update(leaves=self.leaves, mistakes=mistakes, frames_rejected=frames_rejected,
                       rx_framing_errors=self.rx_framing_errors, rx_overruns=self.rx_overruns)
        words = [sources[n] for n in self.stat_names]

        # -- the frame being received --------------------------------------------------------------
        seq, cmd, length = Signal(8), Signal(8), Signal(8)
        payload = Array(Signal(8, name=f"payload{i}") for i in range(max_in))
        count = Signal(range(256))
        crc = Signal(16)
        idle_timer = Signal(range(self.timeout_cycles + 1))
        expected = Signal(8)
        history = Signal(range(WINDOW + 1))  # replies in the ring that a resend may ask for
        discarding = Signal()  # after a rejection, until the expected frame: drop the rest quietly
        byte = self.rx.payload
        take = self.rx.valid & self.rx.ready
        crc_next = Signal(16)  # one CRC circuit per direction, shared by every state
        m.d.comb += crc_next.eq(crc16_step(crc, byte))

        # -- the reply being sent (tx_* are set when a reply starts) -------------------------------
        tx_busy = Signal()
        tx_start = Signal()
        tx_seq, tx_status, tx_slot = Signal(8), Signal(8), Signal(slot_bits)
        tx_len, tx_count = Signal(range(SLOT_BYTES + 1)), Signal(range(SLOT_BYTES + 1))
        tx_nak_expected = Signal(8)
        tx_crc = Signal(16)

        def reject(code):
            """Answer the frame just parsed with ``code``; it is not executed."""
            m.d.sync += [tx_seq.eq(seq), tx_status.eq(code), tx_len.eq(1),
                         tx_nak_expected.eq(expected), discarding.eq(1),
                         frames_rejected.eq(frames_rejected + 1)]
            m.d.comb += [tx_start.eq(1), self.rejected.eq(1)]

        # -- reply composition ---------------------------------------------------------------------
        reply_kind = Signal(3)
        label = Signal(8)
        sample_index = Signal(32)
        read_kind, read_level, read_chunk = payload[0][0], payload[1], payload[4]
        read_row = Cat(payload[2], payload[3])
        node_chunks = chunks_of(info.node_bytes)
        ctr_chunks = chunks_of(info.counter_bytes)
        node_bytes = _bytes_of(lrn.debug_node, node_chunks * READ_CHUNK)
        ctr_bytes = _bytes_of(lrn.debug_counter, ctr_chunks * READ_CHUNK)
        comp_i = Signal(range(SLOT_BYTES + 1))
        comp_byte = Signal(8)
        comp_len = Signal(range(SLOT_BYTES + 1))
        slot = Signal(slot_bits)
        read_at = Cat(comp_i[:5], read_chunk)
        hello_bytes = list(info.to_bytes())
        stat_bytes = [b for w in words for b in _bytes_of(w, 4)]
        lengths = {CMD_HELLO: len(hello_bytes), CMD_SAMPLE: 5, CMD_STATS: len(stat_bytes),
                   CMD_READ: READ_CHUNK}  # RESET, LOAD: nothing to say
        reply_len = Array(Const(lengths.get(c, 0), range(SLOT_BYTES + 1)) for c in range(8))
        m.d.comb += comp_len.eq(reply_len[reply_kind])
        with m.Switch(reply_kind):
            with m.Case(CMD_HELLO):
                m.d.comb += comp_byte.eq(Array(Const(b, 8) for b in hello_bytes)[comp_i])
            with m.Case(CMD_SAMPLE):
                m.d.comb += comp_byte.eq(Array([label, *_bytes_of(sample_index, 4)])[comp_i])
            with m.Case(CMD_STATS):
                m.d.comb += comp_byte.eq(Array(stat_bytes)[comp_i])
            with m.Case(CMD_READ):
                with m.If(read_kind):
                    m.d.comb += comp_byte.eq(Array(ctr_bytes)[read_at])
                with m.Else():
                    m.d.comb += comp_byte.eq(Array(node_bytes)[read_at])
        m.d.comb += [wr.addr.eq(Cat(comp_i[:6], slot)), wr.data.eq(comp_byte)]

        # -- the learner's ports --------------------------------------------------------------------
        sample_bits = len(Value.cast(lrn.samples.payload))
        m.d.comb += [lrn.samples.payload.eq(Cat(*[payload[i] for i in range(sb)])[:sample_bits]),
                     lrn.debug_level.eq(read_level), lrn.debug_row.eq(read_row)]
        sample_learn = lrn.samples.payload.learn
        sample_label = lrn.samples.payload.label

        # -- LOAD: a row arrives by chunks into a buffer, then is written in one cycle -----------
        # (chunks of one row in order; a chunk 0 starts a row afresh)
        targets = self.params.load_targets()
        t_chunks = [chunks_of((t["width"] + 7) // 8) for t in targets]
        load_target, load_chunk = payload[0], payload[3]
        load_row = Cat(payload[1], payload[2])
        load_next = Signal(8)  # the chunk a row's next LOAD may carry (0: a new row)
        row_target, row_row = Signal(8), Signal(16)  # the row being assembled
        loading = Signal()  # rows written, the state not yet: no SAMPLE until it is
        fresh = Signal(init=1)  # no SAMPLE since power-up or the last RESET: a LOAD may begin
        load_ok = Signal()
        if self.load:
            buf = Signal(8 * READ_CHUNK * max(t_chunks))
            m.d.comb += [lrn.load_target.eq(load_target), lrn.load_row.eq(load_row),
                         lrn.load_data.eq(buf)]
            in_range = ((load_target < len(targets))
                        & (load_row < Array(Const(t["depth"], 17) for t in targets)[load_target])
                        & (load_chunk < Array(Const(c, 8) for c in t_chunks)[load_target]))
            m.d.comb += load_ok.eq(in_range & ((load_chunk == 0) | (
                (load_chunk == load_next) & (load_target == row_target) & (load_row == row_row))))

        diff = Signal(8)
        m.d.comb += diff.eq(expected - seq)
        cmd_ok = Signal()
        len_ok = Signal()
        arg_ok = Signal()
        lengths_in = [0, sb, 0, 0, READ_LEN] + ([LOAD_LEN] if self.load else [])
        m.d.comb += [
            cmd_ok.eq((cmd == CMD_SAMPLE) | (cmd == CMD_STATS) | (cmd == CMD_RESET) | (cmd == CMD_READ)
                      | ((cmd == CMD_LOAD) & self.load)),
            len_ok.eq(Array(Const(n, 8) for n in lengths_in)[cmd[:3]] == length),
            arg_ok.eq(((cmd != CMD_READ) | (
                (read_level < info.levels) & ((read_row >> self._row_bits) == 0) & (payload[0] < 2)
                & (read_chunk < Mux(read_kind, ctr_chunks, node_chunks))))
                & ((cmd != CMD_LOAD) | load_ok if self.load else 1)),
        ]

        def give_up():
            with m.If(~take & (idle_timer == self.timeout_cycles)):
                m.next = "TIMEOUT"

        with m.FSM(name="link"):
            with m.State("HUNT"):
                m.d.comb += self.rx.ready.eq(1)
                with m.If(take & (byte == SYNC_HOST)):
                    m.d.sync += [crc.eq(0xFFFF), idle_timer.eq(0)]
                    m.next = "SEQ"
            for state, target, nxt in (("SEQ", seq, "CMD"), ("CMD", cmd, "LEN")):
                with m.State(state):
                    m.d.comb += self.rx.ready.eq(1)
                    with m.If(take):
                        m.d.sync += [target.eq(byte), crc.eq(crc_next)]
                        m.next = nxt
                    give_up()
            with m.State("LEN"):
                m.d.comb += self.rx.ready.eq(1)
                with m.If(take):
                    m.d.sync += [length.eq(byte), count.eq(0), crc.eq(crc_next)]
                    with m.If(byte > max_in):
                        m.next = "TOO_LONG"
                    with m.Elif(byte == 0):
                        m.next = "CRC"
                    with m.Else():
                        m.next = "PAYLOAD"
                give_up()
            with m.State("PAYLOAD"):
                m.d.comb += self.rx.ready.eq(1)
                with m.If(take):
                    m.d.sync += [payload[count].eq(byte), count.eq(count + 1),
                                 crc.eq(crc_next)]
                    with m.If(count + 1 == length):
                        m.d.sync += count.eq(0)
                        m.next = "CRC"
                give_up()
            with m.State("CRC"):  # two bytes; the CRC over the frame and its CRC is zero
                m.d.comb += self.rx.ready.eq(1)
                with m.If(take):
                    m.d.sync += [crc.eq(crc_next), count.eq(count + 1)]
                    with m.If(count == 1):
                        m.next = "CHECK"
                give_up()
            with m.State("TOO_LONG"):
                with m.If(~tx_busy):
                    reject(NAK_LENGTH)
                    m.next = "HUNT"
            with m.State("TIMEOUT"):
                with m.If(~tx_busy):
                    reject(NAK_INCOMPLETE)
                    m.next = "HUNT"
            with m.State("CHECK"):
                with m.If(crc != 0):
                    m.next = "REJECT_CHECKSUM"
                with m.Elif(cmd == CMD_HELLO):
                    with m.If(length != 0):
                        m.next = "REJECT_LENGTH"
                    with m.Else():  # a new session: any sequence number
                        m.d.sync += [expected.eq(seq), history.eq(0), reply_kind.eq(CMD_HELLO)]
                        m.next = "COMPOSE"
                with m.Elif(diff == 0):
                    with m.If(~cmd_ok):
                        m.next = "REJECT_COMMAND"
                    with m.Elif(~len_ok):
                        m.next = "REJECT_LENGTH"
                    with m.Elif(~arg_ok):
                        m.next = "REJECT_ARGUMENT"
                    if self.load:
                        with m.Elif(((cmd == CMD_SAMPLE) & loading) | ((cmd == CMD_LOAD) & ~fresh)):
                            m.next = "REJECT_LOADING"
                    with m.Else():
                        m.d.sync += reply_kind.eq(cmd)
                        with m.Switch(cmd):
                            with m.Case(CMD_SAMPLE):
                                if self.load:
                                    m.d.sync += fresh.eq(0)
                                m.next = "SAMPLE"
                            with m.Case(CMD_READ):
                                m.next = "READ"
                            if self.load:
                                with m.Case(CMD_LOAD):
                                    m.next = "LOAD"
                            with m.Case(CMD_RESET):
                                m.d.comb += self.learner_reset.eq(1)
                                m.d.sync += [index.eq(0), mistakes.eq(0)]
                                if self.load:
                                    m.d.sync += [loading.eq(0), load_next.eq(0), fresh.eq(1)]
                                m.next = "COMPOSE"
                            with m.Default():
                                m.next = "COMPOSE"
                with m.Elif((diff != 0) & (diff <= history)):
                    m.next = "REPLAY"
                with m.Elif(discarding):
                    m.d.sync += frames_rejected.eq(frames_rejected + 1)
                    m.next = "HUNT"
                with m.Else():
                    m.next = "REJECT_SEQUENCE"
            for name, code in (("CHECKSUM", NAK_CHECKSUM), ("LENGTH", NAK_LENGTH),
                               ("COMMAND", NAK_COMMAND), ("ARGUMENT", NAK_ARGUMENT),
                               ("SEQUENCE", NAK_SEQUENCE),
                               *([("LOADING", NAK_LOADING)] if self.load else [])):
                with m.State(f"REJECT_{name}"):
                    with m.If(~tx_busy):
                        reject(code)
                        m.next = "HUNT"
            with m.State("SAMPLE"):
                m.d.comb += lrn.samples.valid.eq(1)
                with m.If(lrn.samples.ready):
                    m.next = "PREDICTION"
            with m.State("PREDICTION"):
                m.d.comb += lrn.predictions.ready.eq(1)
                with m.If(lrn.predictions.valid):
                    predicted = lrn.predictions.payload.label
                    m.d.sync += [label.eq(predicted), sample_index.eq(index), index.eq(index + 1)]
                    with m.If(sample_learn & (predicted != sample_label)):
                        m.d.sync += mistakes.eq(mistakes + 1)
                    m.d.comb += self.sample_done.eq(1)
                    m.next = "COMPOSE"
            with m.State("READ"):  # the read-back port answers while the learner is idle
                with m.If(lrn.idle):
                    m.d.comb += lrn.debug_en.eq(1)
                    m.next = "READ_WAIT"
            with m.State("READ_WAIT"):  # until the rows are there (rtl.node_readback)
                m.d.comb += lrn.debug_en.eq(1)
                with m.If(lrn.debug_valid):
                    m.next = "COMPOSE"
            if self.load:
                with m.State("LOAD"):  # the chunk into the row buffer; the row's last: write it
                    for i in range(len(buf) // 8):
                        with m.If(load_chunk == i // READ_CHUNK):
                            m.d.sync += buf[8 * i:8 * i + 8].eq(payload[4 + i % READ_CHUNK])
                    last = load_chunk + 1 == Array(Const(c, 8) for c in t_chunks)[load_target]
                    m.d.sync += [load_next.eq(Mux(last, 0, load_chunk + 1)),
                                 row_target.eq(load_target), row_row.eq(load_row)]
                    with m.If(last):
                        m.next = "LOAD_WRITE"
                    with m.Else():
                        m.next = "COMPOSE"
                with m.State("LOAD_WRITE"):  # once the learner is idle
                    with m.If(lrn.idle):
                        m.d.comb += lrn.load_en.eq(1)
                        m.d.sync += loading.eq(load_target != len(targets) - 1)
                        m.next = "COMPOSE"

            with m.State("COMPOSE"):  # one byte a cycle into the ring, once the ring is not being sent
                m.d.comb += lrn.debug_en.eq(reply_kind == CMD_READ)
                m.d.comb += slot.eq(expected[:slot_bits])
                with m.If(~tx_busy):
                    with m.If(comp_i < comp_len):
                        m.d.comb += wr.en.eq(1)
                        m.d.sync += comp_i.eq(comp_i + 1)
                    with m.Else():
                        m.d.sync += [comp_i.eq(0), slot_cmd[slot].eq(reply_kind),
                                     tx_seq.eq(expected), tx_status.eq(reply_kind), tx_slot.eq(slot),
                                     tx_len.eq(comp_len), expected.eq(expected + 1),
                                     history.eq(Mux(history == WINDOW, WINDOW, history + 1)),
                                     discarding.eq(0)]
                        m.d.comb += tx_start.eq(1)
                        m.next = "HUNT"
            with m.State("REPLAY"):
                with m.If(~tx_busy):
                    s = seq[:slot_bits]
                    m.d.sync += [tx_seq.eq(seq), tx_status.eq(slot_cmd[s]), tx_slot.eq(s),
                                 tx_len.eq(reply_len[slot_cmd[s]])]
                    m.d.comb += tx_start.eq(1)
                    m.next = "HUNT"

        # a frame cut short (bytes lost on the line): the parser gives up on it after a silence
        with m.If(take):
            m.d.sync += idle_timer.eq(0)
        with m.Elif(idle_timer != self.timeout_cycles):
            m.d.sync += idle_timer.eq(idle_timer + 1)

        # -- transmitter ------------------------------------------------------------------------------
        m.d.comb += rd.addr.eq(Cat(tx_count[:6], tx_slot))
        tx_byte = Signal(8)
        tx_crc_next = Signal(16)
        m.d.comb += [self.tx.payload.eq(tx_byte), tx_crc_next.eq(crc16_step(tx_crc, tx_byte))]
        with m.FSM(name="reply"):
            with m.State("IDLE"):
                with m.If(tx_start):
                    m.d.sync += [tx_busy.eq(1), tx_count.eq(0)]
                    m.next = "SYNC"
            header = (("SYNC", Const(SYNC_DEVICE, 8), "SEQ"), ("SEQ", tx_seq, "STATUS"),
                      ("STATUS", tx_status, "LEN"), ("LEN", tx_len, "BODY"))
            for state, value, nxt in header:
                with m.State(state):
                    m.d.comb += [self.tx.valid.eq(1), tx_byte.eq(value)]
                    with m.If(self.tx.ready):
                        m.d.sync += tx_crc.eq(0xFFFF if state == "SYNC" else tx_crc_next)
                        m.next = nxt
            with m.State("BODY"):  # the ring's read port answers one cycle after its address
                with m.If(tx_count == tx_len):
                    m.d.sync += tx_count.eq(0)
                    m.next = "CRC_HI"
                with m.Else():
                    m.next = "BYTE"
            with m.State("BYTE"):
                value = Mux(tx_status[7], tx_nak_expected, rd.data)
                m.d.comb += [self.tx.valid.eq(1), tx_byte.eq(value)]
                with m.If(self.tx.ready):
                    m.d.sync += [tx_crc.eq(tx_crc_next), tx_count.eq(tx_count + 1)]
                    m.next = "BODY"
            with m.State("CRC_HI"):
                m.d.comb += [self.tx.valid.eq(1), tx_byte.eq(tx_crc[8:])]
                with m.If(self.tx.ready):
                    m.next = "CRC_LO"
            with m.State("CRC_LO"):
                m.d.comb += [self.tx.valid.eq(1), tx_byte.eq(tx_crc[:8])]
                with m.If(self.tx.ready):
                    m.d.sync += tx_busy.eq(0)
                    m.next = "IDLE"
        return m
