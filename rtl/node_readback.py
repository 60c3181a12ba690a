"""The read-back port's node rows: one level's row, gathered from the level's own memory.

Each tree level keeps its node memory beside its own stage, and the placer
spreads those memories' block RAMs over the device. A multiplexer of every
level's whole row (the pair of node words) pulls a bus of that width out of
every level to one place: with it nextpnr's router stalled near 13,000
overused wires on the default design on the LFE5U-85F, with the chain it came
down to 322 (docs/model.md, "Place and route").
From ``CHAIN_MIN_LEVELS`` levels on, the row comes down a registered chain
one byte wide instead: each level picks one byte of its own row, the chosen
level's byte travels down the chain to level 0, and the bytes are assembled
into the row next to the port. Fewer levels keep the multiplexer, which is
smaller there (the iCEBreaker's design fills its part).

Read-back happens only while the learner is idle, so the time it takes
(``readback_cycles``) costs nothing while learning.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from rtl.copies import registered_copies
from rtl.params import HardwareParams

__all__ = ["NodeReadback", "CHAIN_MIN_LEVELS", "CHAIN_BITS", "readback_cycles",
           "readback_registers", "uses_chain"]

#: From this many levels on the rows come down the byte chain.
CHAIN_MIN_LEVELS = 8
#: The chain's width: one byte per hop.
CHAIN_BITS = 8
#: Bytes a level first picks a group of, into a register beside its memory, before
#: the byte is picked from that group.
GROUP_BYTES = 4
#: Bits of a byte's place in its group.
_WITHIN_BITS = (GROUP_BYTES - 1).bit_length()


def uses_chain(params: HardwareParams) -> bool:
    """The byte chain (many levels) or the multiplexer (few)."""
    return params.levels >= CHAIN_MIN_LEVELS


def _row_bytes(params: HardwareParams) -> int:
    """Bytes of a level's row (the pair of node words), the last one padded."""
    return -(-params.pair_layout.size // CHAIN_BITS)


def readback_cycles(params: HardwareParams) -> int:
    """Cycles from ``en`` rising to ``valid``: one for the memories through the
    multiplexer; down the chain ``levels + 4`` for each byte (the memories, its
    group's pick, its own pick, its register, a hop per level below, its capture)."""
    if not uses_chain(params):
        return 1
    return _row_bytes(params) * (params.levels + 4)


def readback_registers(params: HardwareParams) -> int:
    """The port's flip-flops: ``valid``; with the chain also the assembled row, per level
    its group of bytes, two bytes (its pick, its hop), a copy of the byte counter, the
    byte's place in its group and the "chosen" flag; and the byte and wait counters (the
    resource model counts them as they are)."""
    if not uses_chain(params):
        return 1
    n_bytes, L = _row_bytes(params), params.levels
    index_bits = (n_bytes - 1).bit_length()
    per_level = (GROUP_BYTES + 2) * CHAIN_BITS + index_bits + _WITHIN_BITS + 1
    return n_bytes * CHAIN_BITS + index_bits + (L + 3).bit_length() + 1 + L * per_level


class NodeReadback(wiring.Component):
    """Members
    -------
    en : In(1)
        Read-back requested; ``level`` (and the levels' read address) held while it is set.
        A read starts when it rises (it falls for a cycle between reads).
    level : In(range(levels))
        The level whose row is read.
    rows : In(ArrayLayout(pair, levels))
        Each level's memory read data (the row at the read-back address one cycle after ``en``).
    node : Out(pair)
        The row read; valid while ``valid`` and ``en`` stay set.
    valid : Out(1)
        ``node`` holds the row: ``readback_cycles(params)`` cycles after ``en`` rose,
        until ``en`` falls.
    """

    def __init__(self, params: HardwareParams) -> None:
        self.p = params
        self.pair = params.pair_layout
        self.chain = uses_chain(params)
        self.n_bytes = _row_bytes(params)
        super().__init__({
            "en": In(1), "level": In(range(params.levels)),
            "rows": In(data.ArrayLayout(self.pair, params.levels)),
            "node": Out(self.pair), "valid": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        L = self.p.levels
        rows = [self.rows[lv].as_value() for lv in range(L)]
        if not self.chain:
            m.d.comb += self.node.eq(Array(rows)[self.level])
            m.d.sync += self.valid.eq(self.en)
            return m
        nb, W = self.n_bytes, CHAIN_BITS
        index = Signal(range(nb))  # the byte being read
        wait = Signal(range(L + 4))  # cycles since it was chosen
        node = Signal(nb * W)
        done = Signal()
        # hop[lv] holds what reached level lv: the byte of the chosen level, once it has
        # passed every level between; only the chosen level puts a byte in, the rest pass
        # zero. The byte is picked from the memory's output in two steps, each into a
        # register of its own before it joins the chain: its group of ``GROUP_BYTES``
        # (beside the block RAM, whose output is slow), then the byte (picked[lv]).
        hop = [Signal(W, name=f"hop{lv}") for lv in range(L)]
        # Each level picks by registers of its own: a copy of the byte counter
        # (``rtl.copies``) and the flag "this level is chosen" (one counter read by every
        # level reached them, spread over the device, through one long net), which lag
        # the counter by a cycle, and the byte's place in its group a cycle later still.
        indices = registered_copies(m, index, L, "index")
        gb = GROUP_BYTES * W
        groups = -(-nb // GROUP_BYTES)
        for lv in range(L):
            padded = Cat(rows[lv], Const(0, groups * gb - len(rows[lv])))
            chosen = Signal(name=f"chosen{lv}")
            m.d.sync += chosen.eq(self.level == lv)
            group = Signal(gb, name=f"group{lv}")
            m.d.sync += group.eq(Mux(chosen, padded.word_select(indices[lv][_WITHIN_BITS:], gb), 0))
            within = Signal(_WITHIN_BITS, name=f"within{lv}")
            m.d.sync += within.eq(indices[lv][:_WITHIN_BITS])
            picked = Signal(W, name=f"picked{lv}")
            m.d.sync += picked.eq(group.word_select(within, W))
            below = hop[lv + 1] if lv + 1 < L else 0
            m.d.sync += hop[lv].eq(below | picked)
        with m.If(~self.en):
            m.d.sync += [index.eq(0), wait.eq(0), done.eq(0)]
        with m.Elif(~done):
            # the memories answer one cycle after en; a byte chosen at level lv has its
            # group picked a cycle later (the counter's copy lags a cycle: for a later
            # byte, that is a cycle after it is chosen too), itself the cycle after, and
            # reaches hop[0] lv + 1 cycles after that: after L + 3 cycles every level's
            # has arrived
            with m.If(wait == L + 3):
                m.d.sync += [node.word_select(index, W).eq(hop[0]), wait.eq(0),
                             index.eq(index + 1)]
                with m.If(index == nb - 1):
                    m.d.sync += done.eq(1)
            with m.Else():
                m.d.sync += wait.eq(wait + 1)
        m.d.comb += [self.node.eq(node[:self.pair.size]), self.valid.eq(done & self.en)]
        return m
