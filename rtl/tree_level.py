"""One level of the tree pipeline: its node memory, and the branch of one slot per cycle.

Each level has its own memory (a row holds a sibling pair), so a sample can
enter every cycle while earlier ones are deeper. A sample that has not met its
leaf yet reads its node here: at a leaf it keeps the leaf's element, class and
address; at an internal node it compares one attribute and moves to a child
one level down.

With more than one lane (``HardwareParams.level_stages``) a level takes two
stages: the slot's node goes into a register as it is read, and the branch is
made from that register a stage later; the next level reads the registered
node's child pair whatever the comparison gives (the comparison picks the node
of that pair). No memory output, and no next level's read address, then waits
on a comparison, for a cycle per level of each split trial's window
(docs/model.md, "The cycle budget").

With one stage a level, the deep levels (``HardwareParams.retimed``: at least
``retimed_rows`` rows, 64 by default, a block RAM whose output comes 5.6 ns after the clock
on an ECP5 at speed grade 6) make that comparison one level down instead: the
slot takes the sample's value of the node's attribute (picked beside the
memory's decoding) and the node's threshold along to the child pair, whose
row needs no comparison to be read, and there the comparison, from the slot's
registers and with no multiplexer before it, picks which node of the row is
the slot's. The memory's output then
reaches the next slot register through the node's decoding and one
multiplexer, never through a comparison, and without a pipeline stage more
(a stage more would be a stall cycle per split trial).

A split's two commit slots each carry the one row they write, with its level,
address and node mask: the first turns the split leaf into an
internal node, the second, right behind it, writes the two children one level
down; the level's write port takes them as they come, with no multiplexer
between a node and a pair. A run-time load of a row comes the same way, as a
slot (``rtl.hardodt``): the write port has one source.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.compare import less
from rtl.params import (
    CATEGORICAL,
    INACTIVE,
    LEAF,
    OP_SAMPLE,
    HardwareParams,
)

__all__ = ["TreeLevel"]


class TreeLevel(wiring.Component):
    """With ``params.level_stages == 2`` the level takes two stages: the slot's node of the
    row read goes into a register (the memory's output drives nothing else), and the
    branch is made a stage later from that register; the next level's read address is
    the registered node's child pair, whatever the comparison gives (the comparison picks
    the node of that pair, as the slot's address's low bit). The slot register between
    the two stages is the caller's, as every slot register is (``rtl.hardodt``).

    Members
    -------
    row : In
        The row the slot entering this level next cycle reads (or a debug row).
    valid, slot : In
        The slot at this level (its first stage); the memory's read data is for its row,
        and a commit slot writes its row here.
    branch : In(slot_layout), with two stages
        The slot at the level's second stage (the one ``slot`` was a cycle ago).
    next : Out(slot_layout)
        The slot for the next level (combinational).
    child_row : Out
        The row the next level reads for this slot (combinational): the child pair of the
        slot's node here (a slot past its leaf, or a commit slot, ignores what it reads).
    data : Out
        The row read (for the read-back port).
    """

    def __init__(self, params: HardwareParams, level: int, rows: list | None = None) -> None:
        self.p, self.level = params, level
        pair = params.pair_layout
        members = {
            "row": In(params.pair_bits), "valid": In(1), "slot": In(params.slot_layout),
            "next": Out(params.slot_layout), "child_row": Out(params.pair_bits),
            "data": Out(pair),
        }
        if params.level_stages == 2:
            members["branch"] = In(params.slot_layout)
        super().__init__(members)
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
        m.submodules.memory = self.memory
        wr = self.memory.write_port(granularity=1)
        rd = self.memory.read_port(transparent_for=(wr,))
        m.d.comb += [rd.addr.eq(self.row), self.data.eq(rd.data)]
        cur = self.slot
        if p.level_stages == 2:
            self._branch_from_register(m, rd)
        elif p.retimed(lv):
            self._compare_one_level_down(m, rd)
        else:
            self._compare_here(m, rd)
        # a commit (or load) slot writes its one row, data and mask as they come, at the
        # level's first stage (the slot right behind reads the row written, through the
        # transparent read port): no multiplexer here
        m.d.comb += [wr.addr.eq(cur.c_row), wr.data.eq(cur.c_data)]
        with m.If(self.valid & (cur.op != OP_SAMPLE) & (cur.g == 0) & (cur.c_level == lv)):
            m.d.comb += wr.en.eq(cur.c_mask)
        return m

    def _go_left(self, m: Module, x, xc, attr, thr, categorical) -> Signal:
        """``x[attr] < thr`` for a numeric node, ``xc[attr] == thr`` for a categorical one."""
        return self._compare(m, self._value_of(m, x, xc, attr, categorical), thr, categorical)

    def _value_of(self, m: Module, x, xc, attr, categorical) -> Signal:
        """The sample's value of ``attr``: ``x[attr]``, or ``xc[attr]`` zero-extended for a
        categorical node."""
        p = self.p
        value = Signal(signed(p.w))
        if p.n_num:
            xs = Array(x[i] for i in range(p.n_num))
            m.d.comb += value.eq(xs[attr])
        if p.n_cat:
            xcs = Array(xc[c] for c in range(p.n_cat))
            with m.If(categorical):
                m.d.comb += value.eq(xcs[attr])
        return value

    def _compare(self, m: Module, value, thr, categorical) -> Signal:
        """Left: ``value < thr`` at a numeric node, the low bits equal at a categorical one."""
        p = self.p
        go_left = Signal()
        if p.n_num:
            m.d.comb += go_left.eq(less(value, thr))
        if p.n_cat:
            with m.If(categorical):
                vb = p.value_bits
                m.d.comb += go_left.eq(value.as_unsigned()[:vb] == thr.as_unsigned()[:vb])
        return go_left

    def _at_leaf(self, slot, word, addr) -> list:
        """``slot`` has met its leaf, ``word``, at this level's address ``addr``."""
        return [slot.found.eq(1), slot.leaf_kind.eq(word.kind), slot.leaf_elem.eq(word.elem),
                slot.leaf_cls.eq(word.cls), slot.leaf_level.eq(self.level),
                slot.leaf_addr.eq(addr)]

    def _compare_here(self, m: Module, rd) -> None:
        """The slot's node is picked by its address and compared in this cycle (a shallow
        level: its memory is flip-flops or LUT RAM)."""
        cur = self.slot
        word = Signal(self.p.node_layout)
        m.d.comb += [word.eq(rd.data[cur.addr[0]]), self.child_row.eq(self.next.addr >> 1)]
        self._branch(m, cur, word)

    def _branch_from_register(self, m: Module, rd) -> None:
        """Two stages: the slot's node of the row read into a register, then the branch from
        it and the slot's registers; the next level reads the node's child pair."""
        word = Signal(self.p.node_layout)  # the slot's node, as the branch sees it
        m.d.sync += word.eq(rd.data[self.slot.addr[0]])
        m.d.comb += self.child_row.eq(word.child)
        self._branch(m, self.branch, word)

    def _branch(self, m: Module, cur, word) -> None:
        """``next`` is ``cur`` past its node ``word``: a sample not at its leaf yet keeps the
        leaf, or takes the child the comparison picks."""
        nxt = self.next
        m.d.comb += nxt.eq(cur)
        with m.If((cur.op == OP_SAMPLE) & ~cur.found):
            with m.If((word.kind == LEAF) | (word.kind == INACTIVE)):
                m.d.comb += self._at_leaf(nxt, word, cur.addr)
            with m.Else():
                go_left = self._go_left(m, cur.s.x, cur.s.xc, word.attr, word.thr,
                                        word.kind == CATEGORICAL)
                m.d.comb += nxt.addr.eq(Cat(~go_left, word.child))

    def _compare_one_level_down(self, m: Module, rd) -> None:
        """The comparison of the node the slot met one level up, made here from the
        slot's registers (``pend``: that node was internal), picks the node of the row
        read here; both nodes are decoded side by side from the memory's output, which
        so meets no comparison on its way to the next slot register."""
        p, cur, nxt, lv = self.p, self.slot, self.next, self.level
        lane = Signal()  # which node of the row is the slot's
        if lv > 0 and p.retimed(lv - 1):
            go_left = self._compare(m, cur.p_x, cur.p_thr, cur.p_cat)
            m.d.comb += lane.eq(Mux(cur.pend, ~go_left, cur.addr[0]))
        else:  # the level above compared where it read: the address is whole
            m.d.comb += lane.eq(cur.addr[0])
        cand = []
        for k in range(2):
            word, c = rd.data[k], Signal(p.slot_layout, name=f"at_node{k}")
            m.d.comb += c.eq(cur)
            with m.If((cur.op == OP_SAMPLE) & ~cur.found):
                with m.If((word.kind == LEAF) | (word.kind == INACTIVE)):
                    m.d.comb += [*self._at_leaf(c, word, Cat(k, cur.addr[1:])), c.pend.eq(0)]
                with m.Else():  # the child is chosen one level down, from the value picked here
                    cat = word.kind == CATEGORICAL
                    m.d.comb += [c.addr.eq(word.child << 1), c.pend.eq(1),
                                 c.p_x.eq(self._value_of(m, cur.s.x, cur.s.xc, word.attr, cat)),
                                 c.p_thr.eq(word.thr), c.p_cat.eq(cat)]
            cand.append(c)
        m.d.comb += [nxt.eq(Mux(lane, cand[1], cand[0])),
                     self.child_row.eq(Mux(lane, rd.data[1].child, rd.data[0].child))]
