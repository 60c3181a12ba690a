"""One level of the tree pipeline: its node memory, and the branch of one slot per cycle.

Each level has its own memory (a row holds a sibling pair), so a sample can
enter every cycle while earlier ones are deeper. A sample that has not met its
leaf yet reads its node here: at a leaf it keeps the leaf's element, class and
address; at an internal node it compares one attribute and moves to a child
one level down. A split's two commit slots each carry the one row they write,
with its level, address and node mask: the first turns the split leaf into an
internal node, the second, right behind it, writes the two children one level
down; the level's write port takes them as they come, with no multiplexer
between a node and a pair. A run-time load of a row comes the same way, as a
slot (``rtl.hardodt``): the write port has one source.
"""

from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.params import (
    CATEGORICAL,
    INACTIVE,
    LEAF,
    OP_SAMPLE,
    HardwareParams,
)

__all__ = ["TreeLevel"]


class TreeLevel(wiring.Component):
    """Members
    -------
    row : In
        The row the slot entering this level next cycle reads (or a debug row).
    valid, slot : In
        The slot at this level; the memory's read data is for its row.
    next : Out(slot_layout)
        The slot for the next level (combinational).
    data : Out
        The row read (for the read-back port).
    """

    def __init__(self, params: HardwareParams, level: int, rows: list | None = None) -> None:
        self.p, self.level = params, level
        pair = params.pair_layout
        super().__init__({
            "row": In(params.pair_bits), "valid": In(1), "slot": In(params.slot_layout),
            "next": Out(params.slot_layout), "data": Out(pair),
        })
        init = []
        node = params.node_layout
        if rows is not None:  # a preloaded tree (rtl.preload)
            init = [[node.const(a), node.const(b)] for a, b in rows]
        elif level == 0:  # the root: a leaf holding element 0
            init = [[node.const({"kind": LEAF, "elem": 0, "cls": 0}), node.const({})]]
        self.memory = Memory(shape=pair, depth=params.level_rows(level), init=init)

    def elaborate(self, platform) -> Module:
        m = Module()
        p, lv = self.p, self.level
        N, NC = p.n_num, p.n_cat
        m.submodules.memory = self.memory
        wr = self.memory.write_port(granularity=1)
        rd = self.memory.read_port(transparent_for=(wr,))
        m.d.comb += [rd.addr.eq(self.row), self.data.eq(rd.data)]
        cur, nxt = self.slot, self.next
        word = Signal(p.node_layout)
        m.d.comb += [word.eq(rd.data[cur.addr[0]]), nxt.eq(cur)]
        with m.If((cur.op == OP_SAMPLE) & ~cur.found):
            with m.If((word.kind == LEAF) | (word.kind == INACTIVE)):
                m.d.comb += [nxt.found.eq(1), nxt.leaf_kind.eq(word.kind),
                             nxt.leaf_elem.eq(word.elem), nxt.leaf_cls.eq(word.cls),
                             nxt.leaf_level.eq(lv), nxt.leaf_addr.eq(cur.addr)]
            with m.Else():
                go_left = Signal()
                if N:
                    xs = Array(cur.s.x[i] for i in range(N))
                    m.d.comb += go_left.eq(xs[word.attr] < word.thr)
                if NC:
                    xcs = Array(cur.s.xc[c] for c in range(NC))
                    with m.If(word.kind == CATEGORICAL):
                        m.d.comb += go_left.eq(
                            xcs[word.attr] == word.thr.as_unsigned()[:p.value_bits])
                m.d.comb += nxt.addr.eq(Mux(go_left, word.child << 1, (word.child << 1) | 1))
        # a commit (or load) slot writes its one row, data and mask as they come: no
        # multiplexer here
        m.d.comb += [wr.addr.eq(cur.c_row), wr.data.eq(cur.c_data)]
        with m.If(self.valid & (cur.op != OP_SAMPLE) & (cur.g == 0) & (cur.c_level == lv)):
            m.d.comb += wr.en.eq(cur.c_mask)
        return m
