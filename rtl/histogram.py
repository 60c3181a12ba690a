"""One categorical attribute's histograms: a class count per value, per element.

A row holds one element's whole histogram. A new leaf's histogram is not
cleared value by value: the element's status bit (kept with its counters, the
paper's status table) says whether the row is valid, and a read while it is
clear counts as zeros. The read-modify-write is one cycle with a transparent
read port, as in :mod:`rtl.quantile_lane`.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.params import HardwareParams, _bits

__all__ = ["Histogram"]


class Histogram(wiring.Component):
    """Members
    -------
    read_element : In
        The row the next slot needs.
    element, value, label : In
        This slot's element, categorical value and class.
    valid_row : In(1)
        The element's status bit: 0 reads the row as zeros.
    learn : In(1)
        Count the sample (write the row back).
    first_group : In(1)
        This slot is the sample's first group: later groups read the row it wrote.
    updated : Out
        The histogram after this sample (the split trial's snapshot).
    load_en, load_row, load_data : In
        Write ``load_data`` into element ``load_row`` (a run-time load; the pipeline is idle).
    """

    def __init__(self, params: HardwareParams, attribute: int, rows: list | None = None) -> None:
        self.p, self.c = params, attribute
        self.layout = params.histogram_row_layout(attribute)
        ebits = _bits(params.n_elem)
        super().__init__({
            "read_element": In(ebits), "element": In(ebits),
            "value": In(params.value_bits), "label": In(_bits(params.n_cls)),
            "valid_row": In(1), "learn": In(1), "first_group": In(1),
            "load_en": In(1), "load_row": In(ebits), "load_data": In(self.layout),
            "updated": Out(self.layout),
        })
        init = [self.layout.const(r) for r in rows or []]  # rows: a preload
        self.memory = Memory(shape=self.layout, depth=params.n_elem, init=init)

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        m.submodules.memory = self.memory
        wr = self.memory.write_port()
        rd = self.memory.read_port(transparent_for=(wr,))
        m.d.comb += rd.addr.eq(self.read_element)
        row = Signal(self.layout)
        m.d.comb += row.eq(Mux(self.valid_row, rd.data.as_value(), 0))
        upd = Signal(self.layout)
        m.d.comb += upd.eq(row)
        for val in range(p.config.categorical_values[self.c]):
            for j in range(p.n_cls):
                with m.If((self.value == val) & (self.label == j)):
                    m.d.comb += upd[val][j].eq(row[val][j] + 1)
        m.d.comb += [wr.addr.eq(self.element), wr.en.eq(self.learn & self.first_group),
                     wr.data.eq(upd),
                     self.updated.eq(Mux(self.first_group, upd.as_value(), rd.data.as_value()))]
        with m.If(self.load_en):
            m.d.comb += [wr.addr.eq(self.load_row), wr.en.eq(1), wr.data.eq(self.load_data)]
        return m
