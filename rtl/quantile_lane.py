"""One quantile lane: the update unit and the memory of the numeric attributes it serves.

Memory-based sharing: one :class:`~rtl.quantile.QuantileStep` serves every
element and class of its attributes; a memory row holds one element's min, max
and the ``Q`` estimates of every class of one attribute, at address
``element * groups + group`` (a lane serves attributes ``lane``,
``lane + lanes``, ... in successive groups). The read-modify-write takes one
cycle: the read port is transparent for the write port, so the next slot's
read sees this slot's write (the forwarding back-to-back samples need).
"""

from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.params import HardwareParams, _bits
from rtl.quantile import QuantileStep, move_layout

__all__ = ["QuantileLane"]


class QuantileLane(wiring.Component):
    """Members
    -------
    read_element, read_group : In
        The row the *next* slot needs (its read is issued a cycle ahead).
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

    def __init__(self, params: HardwareParams, lane: int, rows: list | None = None) -> None:
        self.p = params
        self.members = [i for i in range(params.n_num) if params.lane_of(i)[0] == lane]
        ebits, gbits = _bits(params.n_elem), _bits(max(2, params.groups))
        super().__init__({
            "read_element": In(ebits), "read_group": In(gbits),
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
        m.d.comb += row.eq(rd.data)

        x = Signal(signed(p.w))
        present = Signal()  # the last group may leave the lane idle
        with m.Switch(self.group):
            for g, i in enumerate(self.members):
                with m.Case(g):
                    m.d.comb += [x.eq(self.x[i]), present.eq(1)]
        step = m.submodules.step = QuantileStep(p.config, scheduled=True)
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
