"""One quantile lane: the update unit and the memory of the numeric attributes it serves.

Memory-based sharing: one :class:`~rtl.quantile.QuantileStep` serves every
element and class of its attributes; a memory row holds one element's min, max
and the ``Q`` estimates of every class of one attribute, at address
``element * groups + group`` (a lane serves attributes ``lane``,
``lane + lanes``, ... in successive groups).

With ``registered`` (a learner with a schedule stage, ``params.schedule_stage``)
the row is read two stages ahead and registered, so the memory's output is off
the update's loop: the loop runs from a register through the class's estimates,
the compare and add, back to a register. The write of the slot just ahead is
then too late for that read and is forwarded from a register when it was to
the same row (only what it changed: the class's estimates, min and max); the
write two ahead is seen by the transparent read port. Without it the
read-modify-write takes one cycle (the read port transparent for the write
port, so the next slot's read sees this slot's write): fewer registers, for
the small iCE40 designs.
"""

from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.params import HardwareParams, _bits
from rtl.quantile import QuantileStep, move_layout

__all__ = ["QuantileLane", "registered_row_cost"]


def registered_row_cost(params: HardwareParams) -> dict[str, int]:
    """The registered rows' flip-flops and multiplexer LUTs over all lanes (none without
    ``params.schedule_stage``): per lane the row fetched, what the last write changed (min,
    max, ``Q`` estimates) and its hit flags, and a multiplexer per row bit. The resource
    model counts them as they are, outside its fitted weights."""
    if not (params.n_num and params.schedule_stage):
        return {"ff": 0, "lut": 0}
    row = params.quantile_row_layout.size
    change = (2 + params.config.quantiles) * params.w
    return {"ff": params.lanes * (row + change + params.n_cls + 2),
            "lut": params.lanes * row}


class QuantileLane(wiring.Component):
    """Members
    -------
    read_element, read_group : In
        The row the *next* slot needs (its read is issued a cycle ahead); with
        ``registered``, the row of the slot two stages ahead.
    fetch_element, fetch_group : In (with ``registered``)
        The row of the next slot, being fetched: the same row as this slot's write
        means the write is forwarded to it.
    element, group, x, label, moves, first : In
        The slot in this stage: its sample's numeric values, class, the moves of
        its class's estimates (``rtl.quantile.StepSchedule``, shared by the lanes)
        and the "first" rule's flag.
    learn : In(1)
        Write the updated row back.
    init : In(1)
        Write an empty row (min above max) instead: a new leaf's element.
    load_en, load_row, load_data : In
        Write ``load_data`` into row ``load_row`` (a run-time load; the pipeline is idle).
    updated : Out(quantile_row_layout)
        The row after this sample (the split trial's snapshot takes it).
    """

    def __init__(self, params: HardwareParams, lane: int, rows: list | None = None,
                 registered: bool = False) -> None:
        self.p = params
        self.registered = registered
        self.members = [i for i in range(params.n_num) if params.lane_of(i)[0] == lane]
        ebits, gbits = _bits(params.n_elem), _bits(max(2, params.groups))
        super().__init__({
            "read_element": In(ebits), "read_group": In(gbits),
            **({"fetch_element": In(ebits), "fetch_group": In(gbits)} if registered else {}),
            "element": In(ebits), "group": In(gbits),
            "x": In(data.ArrayLayout(signed(params.w), params.n_num)),
            "label": In(_bits(params.n_cls)), "moves": In(move_layout(params.config)),
            "first": In(1),
            "learn": In(1), "init": In(1),
            "load_en": In(1), "load_row": In(_bits(params.n_elem * params.groups)),
            "load_data": In(params.quantile_row_layout),
            "updated": Out(params.quantile_row_layout),
        })
        fx = params.config.fixed
        self.empty_row = params.quantile_row_layout.const({"lo": fx.word_max, "hi": fx.word_min})
        # The root's element starts empty too (or rows: a preload).
        init = [params.quantile_row_layout.const(r) for r in rows] if rows is not None \
            else [self.empty_row] * len(self.members)
        self.memory = Memory(shape=params.quantile_row_layout,
                             depth=params.n_elem * params.groups, init=init)

    def elaborate(self, platform) -> Module:
        m = Module()
        p, G = self.p, self.p.groups
        m.submodules.memory = self.memory
        wr = self.memory.write_port()
        rd = self.memory.read_port(transparent_for=(wr,))
        m.d.comb += rd.addr.eq(self.read_element * G + self.read_group)
        row = Signal(p.quantile_row_layout)
        x = Signal(signed(p.w))
        step = m.submodules.step = QuantileStep(p.config, scheduled=True)
        if self.registered:
            fetched = Signal(p.quantile_row_layout)  # the next slot's row, as read
            # What this slot's write changes, kept for the next slot when it is to the same
            # row: the rest of that row is as the next slot fetched it (the same row this
            # slot started from), so the class's estimates, min and max are enough.
            change = Signal(data.StructLayout({
                "lo": signed(p.w), "hi": signed(p.w),
                "q": data.ArrayLayout(signed(p.w), p.config.quantiles)}))
            hit = Signal()  # the next slot's row: its min and max are this slot's
            hit_q = Signal(p.n_cls)  # ... and the estimates of these classes
            hit_init = Signal()  # ... or this slot emptied it
            same = Signal()
            m.d.comb += same.eq(wr.en & ~self.load_en
                                & (wr.addr == self.fetch_element * G + self.fetch_group))
            m.d.sync += [fetched.eq(rd.data), change.lo.eq(self.updated.lo),
                         change.hi.eq(self.updated.hi), change.q.eq(step.q_next),
                         hit.eq(same), hit_init.eq(same & self.init)]
            m.d.sync += [hit_q[j].eq(same & (self.label == j)) for j in range(p.n_cls)]
            empty = self.empty_row
            m.d.comb += [
                row.lo.eq(Mux(hit_init, empty.lo, Mux(hit, change.lo, fetched.lo))),
                row.hi.eq(Mux(hit_init, empty.hi, Mux(hit, change.hi, fetched.hi)))]
            for j in range(p.n_cls):
                m.d.comb += row.q[j].eq(Mux(hit_init, 0, Mux(hit_q[j], change.q.as_value(),
                                                            fetched.q[j].as_value())))
        else:
            m.d.comb += row.eq(rd.data)

        present = Signal()  # the last group may leave the lane idle
        with m.Switch(self.group):
            for g, i in enumerate(self.members):
                with m.Case(g):
                    m.d.comb += [x.eq(self.x[i]), present.eq(1)]
        m.d.comb += [step.x.eq(x), step.first.eq(self.first), step.moves.eq(self.moves),
                     step.q.eq(Array(row.q[j] for j in range(p.n_cls))[self.label])]
        upd = self.updated
        m.d.comb += [upd.eq(row), upd.lo.eq(Mux(x < row.lo, x, row.lo)),
                     upd.hi.eq(Mux(x > row.hi, x, row.hi))]
        for j in range(p.n_cls):
            with m.If(self.label == j):
                m.d.comb += upd.q[j].eq(step.q_next)
        m.d.comb += [wr.addr.eq(self.element * G + self.group),
                     wr.en.eq(present & (self.learn | self.init)),
                     wr.data.eq(Mux(self.init, self.empty_row.as_value(), upd.as_value()))]
        with m.If(self.load_en):
            m.d.comb += [wr.addr.eq(self.load_row), wr.en.eq(1), wr.data.eq(self.load_data)]
        return m
