"""The stand-in for a vendor power analyser: power per window from gate-level activity.

    P(window) = (1/2 V^2 sum_nets toggles x C_net + E_clock + E_bram + E_dsp) / T + P_static

* ``C_net`` (:func:`net_capacitance`): a routing part that grows with fanout plus
  the input pins the net drives, by kind of cell. A net that reaches a top-level
  output also pays an output port (the kernel's result leaves the block).
* ``E_clock``: the clock toggles twice a cycle into every clocked pin
  (flip-flops, memory ports); no clock gating is modelled.
* ``E_bram``: energy per cycle a memory port is enabled, read or write.
* ``E_dsp``: a multiplier's input pins carry its internal switching
  (``dsp_input`` per toggled input bit), so a DSP costs in proportion to how
  much its operands change.
* ``P_static``: leakage of the resources the kernel occupies (the device's
  quiescent power shared out per LUT, flip-flop, block RAM and multiplier; the
  rest of the chip is not the kernel's), a constant per kernel.

Every constant lives in :data:`ECP5_CONSTANTS` with where its value comes from.
None is calibrated against a vendor tool or a board: the absolute watts are an
order-of-magnitude estimate, while the *differences* between windows (what the
monitor learns to tell apart) follow the activity. docs/power.md lists the limits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from power_monitor.gatelevel import Netlist

__all__ = ["Constants", "ECP5_CONSTANTS", "net_capacitance", "net_weights", "window_power",
           "static_power", "CONSTANT_SOURCES"]


@dataclass(frozen=True)
class Constants:
    """Electrical constants of one device family (capacitances in fF, energies in pJ)."""

    vcc: float  # core supply, V
    route_base: float  # routing capacitance of a net with one sink
    route_per_fanout: float  # extra routing per further sink
    pin_lut: float  # a LUT4 or PFUMX/L6MUX input
    pin_carry: float  # a CCU2C input
    pin_ff: float  # a flip-flop data, enable or set/reset input
    pin_bram: float  # a memory data or address input
    dsp_input: float  # a multiplier input bit: pin plus its internal switching
    pin_output: float  # a top-level output port (the kernel's consumer)
    clock_pin: float  # one clocked pin's share of the clock tree, per edge
    bram_read: float  # pJ per enabled read port and cycle
    bram_write: float  # pJ per enabled write port and cycle
    leak_lut: float  # uW per LUT4 (a CCU2C counts as two)
    leak_ff: float  # uW per flip-flop
    leak_bram: float  # uW per 18-kbit block RAM
    leak_dsp: float  # uW per 18x18 multiplier
    clock_hz: float  # the clock the windows are timed at


#: Sources (docs/power.md repeats them): ``vcc`` is the ECP5 core supply (Lattice
#: DS1044, recommended operating conditions: 1.1 V). The capacitances are of the
#: magnitude published for 40-65 nm FPGA fabrics (routing: tens of fF per net plus
#: per sink; pins: a few fF) in the power models of Poon, Wilton and Zeng (ACM
#: TODAES 10(2), 2005) and in the per-resource tables of the vendors' spreadsheet
#: estimators; block-RAM access energies (tens of pJ) and DSP switching likewise.
#: The leakage shares divide the order of the quiescent core power of an LFE5U-85F
#: (tens of mW) over its 84k LUTs, 84k flip-flops, 208 block RAMs and 156 multipliers.
#: None of them was fitted to a measurement.
CONSTANT_SOURCES = {
    "vcc": "Lattice DS1044 (ECP5 family data sheet), recommended VCC 1.1 V",
    "route_base": "order of magnitude, Poon/Wilton/Zeng TODAES 2005 (routing per net)",
    "route_per_fanout": "same; routing grows with the number of sinks",
    "pin_lut": "order of magnitude of an FPGA LUT input pin",
    "pin_carry": "as a LUT input (CCU2C is two LUT4 with carry logic)",
    "pin_ff": "order of magnitude of a flip-flop input",
    "pin_bram": "block-RAM port pin, larger than a LUT input",
    "dsp_input": "equivalent per operand bit toggled, folds in the array's switching",
    "pin_output": "a route out of the kernel to its consumer",
    "clock_pin": "clock tree share per clocked pin and edge",
    "bram_read": "tens of pJ per 18-kbit block access (40-65 nm FPGAs)",
    "bram_write": "as a read, slightly more",
    "leak_lut": "quiescent core power of an LFE5U-85F (order 60 mW) shared out per resource",
    "leak_ff": "same",
    "leak_bram": "same",
    "leak_dsp": "same",
    "clock_hz": "the monitored kernel's clock (a choice, not a device fact)",
}

ECP5_CONSTANTS = Constants(vcc=1.1, route_base=30.0, route_per_fanout=12.0, pin_lut=4.0,
                           pin_carry=5.0, pin_ff=3.0, pin_bram=6.0, dsp_input=60.0,
                           pin_output=40.0, clock_pin=3.0, bram_read=20.0, bram_write=25.0,
                           leak_lut=0.4, leak_ff=0.1, leak_bram=60.0, leak_dsp=40.0,
                           clock_hz=100e6)

assert set(CONSTANT_SOURCES) == {f.name for f in fields(Constants)}


def _pin(cell: str, port: str, k: Constants) -> float:
    if cell in ("LUT4", "PFUMX", "L6MUX21"):
        return k.pin_lut
    if cell == "CCU2C":
        return k.pin_carry
    if cell == "TRELLIS_FF":
        return k.pin_ff
    if cell == "$mem_v2":
        return k.pin_bram
    if cell == "$mul":
        return k.dsp_input
    raise ValueError(f"no pin capacitance for {cell}.{port}")


def net_capacitance(sinks: list[tuple[str, str]], output: bool, k: Constants) -> float:
    """Switched capacitance (fF) of one net: routing by fanout, plus each sink's pin."""
    fanout = len(sinks) + int(output)
    if fanout == 0:
        return 0.0  # drives nothing: optimised away on the board
    route = k.route_base + k.route_per_fanout * (fanout - 1)
    return route + sum(_pin(c, p, k) for c, p in sinks) + (k.pin_output if output else 0.0)


def net_weights(netlist: Netlist, k: Constants = ECP5_CONSTANTS) -> np.ndarray:
    """The capacitance of every probed net, in the order of ``netlist.probe_bits``."""
    return np.array([net_capacitance(netlist.nets[b].sinks, netlist.nets[b].output, k)
                     for b in netlist.probe_bits], dtype=np.float64)


def static_power(netlist: Netlist, k: Constants = ECP5_CONSTANTS) -> float:
    """Leakage (W) of the resources the netlist occupies."""
    c = netlist.cell_counts
    luts = c.get("LUT4", 0) + 2 * c.get("CCU2C", 0)
    brams = sum(-(-int(p["parameters"]["SIZE"], 2) * int(p["parameters"]["WIDTH"], 2) // 18432)
                for _, p in netlist.memories)
    dsps = sum(-(-int(p["parameters"]["A_WIDTH"], 2) // 18) * -(-int(p["parameters"]["B_WIDTH"], 2)
                                                                 // 18)
               for _, p in netlist.multipliers)
    return 1e-6 * (luts * k.leak_lut + c.get("TRELLIS_FF", 0) * k.leak_ff + brams * k.leak_bram
                   + dsps * k.leak_dsp)


def window_power(weighted_ff: np.ndarray, levels: np.ndarray, level_kinds: list[str],
                 clocked_pins: int, window: int, static_w: float,
                 k: Constants = ECP5_CONSTANTS) -> dict:
    """Power per window (W) from the simulation's per-window sums: ``weighted_ff`` (fF of
    toggled nets), ``levels`` (cycles each memory port was enabled), plus ``static_w``
    (:func:`static_power`). Returns the total and its parts."""
    weighted_ff = np.asarray(weighted_ff, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64).reshape(len(weighted_ff), len(level_kinds))
    t = window / k.clock_hz
    v2 = k.vcc ** 2
    nets = 0.5 * v2 * weighted_ff * 1e-15 / t
    clock = 0.5 * v2 * (2 * window * clocked_pins * k.clock_pin) * 1e-15 / t
    per_access = np.array([k.bram_read if kind == "read" else k.bram_write for kind in level_kinds])
    bram = (levels @ per_access if len(level_kinds) else np.zeros(len(weighted_ff))) * 1e-12 / t
    clock = np.full(len(weighted_ff), clock)
    total = nets + clock + bram + static_w
    return {"total": total, "nets": nets, "clock": clock, "bram": bram,
            "static": np.full(len(weighted_ff), static_w)}
