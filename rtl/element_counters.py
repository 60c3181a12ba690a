"""Per element: class counts, ``n``, samples since the last trial, classes seen, and the
histogram status bit; the leaf's majority prediction.

The counters of the leaf a sample reaches are read, the prediction is made
from them (test-then-train: before the sample counts), and, if the sample is
learned, written back with its class counted. In the one-cycle form that is one
cycle with a transparent read port. In the registered form
(``params.registered_rows``) the row is fetched into a register a stage ahead,
the update works from registers and the write goes back a cycle later from
registers, so neither the memory's output nor its input is on the update's path;
the three writes the fetch misses are forwarded from registers (its read port is
not transparent). A leaf whose ``n`` reached
``2^count_bits - 1`` is frozen (predicts, learns no more), as in the golden model.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.compare import greater
from rtl.params import HardwareParams, _bits

__all__ = ["ElementCounters", "argmax", "kept_layout", "registered_counter_cost", "stored_flags"]


def registered_counter_cost(params: HardwareParams) -> dict[str, int]:
    """The registered counters' flip-flops and multiplexer LUTs (none without
    ``params.registered_rows``): the row fetched, the write back and the write back of
    the cycle before (each the row, its address, its enable), each row with its flags
    (frozen, a trial due, a class's count above 0), and the forwarding's hit flag; two
    multiplexers per row bit and flag (the fetch's second forward, the forward into the
    row the update takes). The resource model counts them as they are, outside its
    fitted weights; the memory then keeps no transparency register
    (``HardwareParams.memories``)."""
    if not params.registered_rows:
        return {"ff": 0, "lut": 0}
    row = params.counter_layout.size + 2 + params.n_cls
    return {"ff": 3 * row + 2 * (1 + _bits(params.n_elem)) + 1, "lut": 2 * row}


def argmax(m: Module, values, name: str) -> Signal:
    """Index of the first maximum (ties: the lowest index), as the golden model's argmax."""
    best_i = Const(0, _bits(len(values)))
    best_v = values[0]
    for j in range(1, len(values)):
        take = Signal(name=f"{name}_gt{j}")
        m.d.comb += take.eq(greater(values[j], best_v))
        best_i = Mux(take, j, best_i)
        best_v = Mux(take, values[j], best_v)
    out = Signal(_bits(len(values)), name=name)
    m.d.comb += out.eq(best_i)
    return out


def kept_layout(params: HardwareParams) -> data.StructLayout:
    """A row with its flags (``ElementCounters._flags``): as the registered counters store,
    fetch and forward it, so no comparison of its counts follows the memory's output."""
    return data.StructLayout({"row": params.counter_layout, "flags": 2 + params.n_cls})


def stored_flags(params: HardwareParams, row: dict) -> int:
    """``ElementCounters._flags`` of a preloaded row, as the memory's initial value holds
    them: ``n`` at its limit, ``since + 1`` at the grace period, a bit per class with a
    count."""
    cfg = params.config
    bits = [row.get("n", 0) >= cfg.fixed.count_max, row.get("since", 0) >= cfg.grace_period - 1,
            *[c != 0 for c in (row.get("cnt") or [0] * params.n_cls)]]
    return sum(int(b) << i for i, b in enumerate(bits))


class ElementCounters(wiring.Component):
    """Members
    -------
    read_element : In
        The element the next slot needs (or a debug row); with ``registered``, the
        element of the slot two stages ahead.
    fetch_element : In (with ``registered``)
        The element of the next slot, whose row is being fetched: the same element as
        this slot's write means the write is forwarded to it.
    element, label, leaf_inactive, leaf_class : In
        This slot's leaf: its element, whether it is inactive (no element), the
        class it predicts while empty, and the sample's class.
    learn_request : In(1)
        A sample to learn (not predict-only).
    restart : In(1)
        A split trial starts with this sample: its ``since`` goes back to 0.
    init, init_n : In
        A commit slot: empty counters for ``element``, ``n = init_n``.
    load_en, load_row, load_data : In
        Write ``load_data`` into element ``load_row`` (a run-time load; the pipeline is idle).
    stored : Out
        The memory's read data: the row at ``read_element`` one cycle later (the
        read-back port's, while the pipeline is idle).
    row, updated, prediction, learn, frozen, count, first : Out
        The counters this slot updates, and as written back; the majority prediction; whether the
        sample is learned (or refused: frozen); its class's count with it counted; the
        "first" rule's flag (the class's first sample at this leaf).
    ripe : Out(1)
        The row's ``since + 1`` reaches the grace period: a trial is due if the sample
        is learned.
    nonzero : Out(n_cls)
        The row's classes with a count above 0 (a trial needs two, this sample's class
        among them). With ``registered``, this, ``ripe`` and ``frozen`` come from flags
        registered beside the row, so no comparison of its counts is on the way to the
        trial's decision.
    """

    def __init__(self, params: HardwareParams, rows: list | None = None,
                 registered: bool = False) -> None:
        self.p = params
        self.registered = registered
        ebits, cbits = _bits(params.n_elem), _bits(params.n_cls)
        super().__init__({
            "read_element": In(ebits), **({"fetch_element": In(ebits)} if registered else {}),
            "element": In(ebits), "label": In(cbits),
            "leaf_inactive": In(1), "leaf_class": In(cbits), "learn_request": In(1),
            "restart": In(1), "init": In(1), "init_n": In(params.cb),
            "load_en": In(1), "load_row": In(ebits), "load_data": In(params.counter_layout),
            "stored": Out(params.counter_layout),
            "row": Out(params.counter_layout), "updated": Out(params.counter_layout),
            "prediction": Out(cbits), "learn": Out(1), "frozen": Out(1),
            "count": Out(params.cb), "first": Out(1), "ripe": Out(1),
            "nonzero": Out(params.n_cls),
        })
        rows = rows or []  # a preload
        if registered:  # each row stored with its flags (``kept_layout``), the rows no
            # preload fills as zeros with theirs (a grace period of 1 makes even those ripe)
            kept = kept_layout(params)
            fill = [{}] * (params.n_elem - len(rows)) if stored_flags(params, {}) else []
            self.memory = Memory(shape=kept, depth=params.n_elem,
                                 init=[kept.const({"row": r, "flags": stored_flags(params, r)})
                                       for r in [*rows, *fill]])
        else:
            self.memory = Memory(shape=params.counter_layout, depth=params.n_elem,
                                 init=[params.counter_layout.const(r) for r in rows])

    def elaborate(self, platform) -> Module:
        m = Module()
        p, C = self.p, self.p.n_cls
        m.submodules.memory = self.memory
        wr = self.memory.write_port()
        # (the registered form forwards every write its fetch misses itself, from
        # registers: a transparent port would compare the read address, which comes
        # through the last tree level, with the write's, before its register)
        rd = self.memory.read_port(transparent_for=() if self.registered else (wr,))
        m.d.comb += [rd.addr.eq(self.read_element),
                     self.stored.eq(rd.data.row if self.registered else rd.data)]
        ctr, y = self.row, self.label
        cnts = [ctr.cnt[j] for j in range(C)]
        best = argmax(m, cnts, "majority")
        m.d.comb += self.prediction.eq(
            Mux(self.leaf_inactive | (Array(cnts)[best] == 0), self.leaf_class, best))
        m.d.comb += [
            self.learn.eq(self.learn_request & ~self.leaf_inactive & ~self.frozen),
            self.count.eq(Array(cnts)[y] + 1),
            self.first.eq((p.config.initial_quantiles == "first") & ~(ctr.seen >> y)[0]),
        ]
        new = self.updated
        m.d.comb += new.eq(ctr)
        with m.If(self.learn):
            m.d.comb += [new.n.eq(ctr.n + 1), new.since.eq(ctr.since + 1), new.hist_ok.eq(1),
                         new.seen.eq(ctr.seen | (1 << y))]
            for j in range(C):
                with m.If(y == j):
                    m.d.comb += new.cnt[j].eq(self.count)
        with m.If(self.restart):
            m.d.comb += new.since.eq(0)
        writes = Signal()  # this slot writes its row
        written = Signal(p.counter_layout)  # what it writes: an init's empty row, or the update
        m.d.comb += [writes.eq(self.learn | self.init), written.eq(new)]
        with m.If(self.init):
            m.d.comb += [written.eq(0), written.n.eq(self.init_n)]
        if self.registered:
            self._registered(m, rd, wr, writes, written)
        else:
            m.d.comb += [self.row.eq(rd.data), wr.addr.eq(self.element), wr.en.eq(writes),
                         wr.data.eq(written), self._flag_outputs().eq(self._flags(rd.data))]
        with m.If(self.load_en):
            m.d.comb += [wr.addr.eq(self.load_row), wr.en.eq(1)]
            if self.registered:
                m.d.comb += [wr.data.row.eq(self.load_data),
                             wr.data.flags.eq(self._flags(self.load_data))]
            else:
                m.d.comb += wr.data.eq(self.load_data)
        return m

    def _flag_outputs(self) -> Value:
        """The outputs the flags drive, in ``_flags``' order."""
        return Cat(self.frozen, self.ripe, self.nonzero)

    def _flags(self, row) -> Value:
        """``Cat(frozen, ripe, nonzero)`` of a stored row: ``n`` at its limit; ``since + 1``
        at the grace period (``grace_period >= 1``); a bit per class with a count."""
        fx, grace = self.p.config.fixed, self.p.config.grace_period
        return Cat(row.n >= fx.count_max, row.since >= grace - 1,
                   *[row.cnt[j] != 0 for j in range(self.p.n_cls)])

    def _written_flags(self) -> Value:
        """``_flags`` of the row this slot writes, from the row it read and its flags (no
        adder before the comparisons): an init's empty row; or the row learned, ``n + 1``
        (below the limit, or it would not learn), ``since + 1`` or 0 with a trial started,
        and the sample's class counted."""
        fx, grace, ctr, C = self.p.config.fixed, self.p.config.grace_period, self.row, self.p.n_cls
        empty_ripe = Const(int(grace <= 1), 1)
        ripe = Mux(self.restart, empty_ripe, ctr.since >= grace - 2) if grace >= 2 else 1
        counted = [self.nonzero[j] | (self.label == j) for j in range(C)]
        return Mux(self.init, Cat(self.init_n >= fx.count_max, empty_ripe, Const(0, C)),
                   Cat(ctr.n >= fx.count_max - 1, ripe, *counted))

    def _registered(self, m: Module, rd, wr, writes, written) -> None:
        """The row fetched into a register, the write a cycle later from registers, and
        the three writes the fetch misses forwarded: the one written as its read was
        issued (kept a cycle in registers: the read port is not transparent) and the one
        being written back, into the fetched row; the one just computed, into this slot's
        row. Each row goes with its flags (``_flags``), registered beside it and stored
        beside it: the memory's output, slow to come, goes through the forward's
        multiplexers alone into the fetch register."""
        kept = kept_layout(self.p)
        wb_write = Signal()  # the write back: a row and its flags, its element
        wb_addr = Signal.like(wr.addr)
        wb = Signal(kept)
        m.d.sync += [wb_write.eq(writes), wb_addr.eq(self.element), wb.row.eq(written),
                     wb.flags.eq(self._written_flags())]
        m.d.comb += [wr.addr.eq(wb_addr), wr.en.eq(wb_write), wr.data.eq(wb)]
        done_write = Signal()  # the write back of the cycle before, which the read missed
        done_addr = Signal.like(wr.addr)
        done_wb = Signal(kept)
        m.d.sync += [done_write.eq(wb_write & ~self.load_en), done_addr.eq(wb_addr),
                     done_wb.eq(wb)]
        stored = rd.data
        fetched = Signal(kept)
        back = wb_write & (wb_addr == self.fetch_element)
        done = done_write & (done_addr == self.fetch_element)
        m.d.sync += fetched.eq(Mux(back, wb, Mux(done, done_wb, stored)))
        hit = Signal()
        m.d.sync += hit.eq(writes & (self.element == self.fetch_element))
        taken = Signal(kept)  # the row the update takes
        m.d.comb += [taken.eq(Mux(hit, wb, fetched)), self.row.eq(taken.row),
                     self._flag_outputs().eq(taken.flags)]
