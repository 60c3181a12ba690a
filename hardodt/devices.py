"""FPGA families and devices as tables of facts, for the resource model and the tools.

A family is what the model needs to count in its units: the LUT size, the
block RAM's size and the shapes yosys can use it in, the multiplier width of a
DSP block, the distributed (LUT) RAM primitive, and which yosys ``synth_*``
and nextpnr commands build for it. A device adds its capacity, so a report can
say whether a design fits. Nothing here is a code path: adding a family is
adding a row.

Sources: the vendors' family data sheets (Lattice FPGA-DS-02012 ECP5, FPGA-DS-02008
iCE40 UltraPlus, iCE40 LP/HX DS1040; Xilinx DS180 7 series, DS923 UltraScale+)
and the memory libraries yosys ships (``share/lattice/brams_16kd.txt``,
``share/ice40/brams.txt``, ``share/xilinx/brams_xc*``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Device", "Family", "FAMILIES", "DEVICES", "family", "device"]


@dataclass(frozen=True)
class Family:
    name: str
    synth: str  # the yosys command
    synth_args: tuple[str, ...]
    lut_inputs: int
    bram_name: str
    #: Block RAM for one write and one read port: (depth, width, yosys cost, blocks),
    #: blocks counted in the family's reporting unit (Xilinx: RAMB36; a RAMB18 is 0.5).
    bram_shapes: tuple[tuple[int, int, int, float], ...]
    #: Distributed RAM primitives: (depth, width, yosys cost, LUTs it occupies).
    lutram_shapes: tuple[tuple[int, int, int, int], ...]
    #: A multiplier of a x b bits (unsigned) fits one DSP when a <= dsp_a and b <= dsp_b.
    dsp_a: int
    dsp_b: int
    dsp_name: str
    #: Cell types that count as LUTs, with the LUTs each stands for.
    lut_cells: tuple[tuple[str, int], ...]
    ff_prefixes: tuple[str, ...]
    bram_cells: tuple[tuple[str, float], ...]
    dsp_cells: tuple[str, ...]
    pnr: str | None  # nextpnr flavour, if an open place-and-route exists
    #: What a synchronous read from distributed RAM adds to its cost, per bit, in the
    #: choice yosys makes (found against synthesis: ECP5's counts, Xilinx's does not).
    lutram_read_cost: float = 0.0
    #: Chunk of the wide operand when a multiplier is split over DSPs (yosys'
    #: DSP_A_MAXWIDTH_PARTIAL; 0: the DSP's own width).
    dsp_partial: int = 0
    #: Narrowest operand chunk still given a DSP (yosys' DSP_*_MINWIDTH; Xilinx DSPs are
    #: signed only, so an unsigned chunk of 1 bit plus its sign bit still gets one).
    dsp_min_chunk: int = 2
    #: Narrowest product still given a DSP (yosys' DSP_Y_MINWIDTH; 0: no such rule).
    dsp_min_product: int = 0
    #: The yosys script marks every memory with a write port and more than one row for
    #: block RAM (``ram_block``) instead of letting yosys weigh it against registers:
    #: for a family with no distributed RAM, where logic cells are scarcer than blocks.
    memories_in_bram: bool = False
    #: A block RAM's write-enable byte: a row written in separately enabled parts takes
    #: each part in whole bytes (ECP5 and Xilinx block RAMs: 9 bits; 1: a mask per bit).
    bram_byte: int = 1
    #: LUTs per partial-product bit (``a * b``) of a multiplier left in LUTs, measured
    #: (where DSPs take every wide one, the few narrow ones are in the fitted terms).
    soft_multiplier_luts: float = 0.0


_XILINX_BRAM = tuple((d, w, 129, 0.5) for d, w in ((16384, 1), (8192, 2), (4096, 4), (2048, 9),
                                                   (1024, 18), (512, 36))) + tuple(
    (d, w, 257, 1.0) for d, w in ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18),
                                  (1024, 36), (512, 72)))
_XILINX_LUTS = tuple((f"LUT{i}", 1) for i in range(1, 7)) + (
    ("RAM32M", 4), ("RAM64M", 4), ("RAM32X1D", 2), ("RAM64X1D", 2), ("RAM128X1D", 4),
    ("RAM32M16", 8), ("RAM64M8", 8), ("SRL16E", 1), ("SRLC32E", 1))
_XILINX_FFS = ("FDRE", "FDSE", "FDCE", "FDPE")
_ICE40_BRAM = tuple((d, w, 64, 1.0) for d, w in ((2048, 2), (1024, 4), (512, 8), (256, 16)))

FAMILIES = {f.name: f for f in [
    # ECP5: DP16KD, 18 Kbit (PDPW16KD gives 512 x 36 for one write and one read port);
    # TRELLIS_DPR16X4 distributed RAM (two LUT4s of a slice); MULT18X18D.
    Family("ecp5", "synth_ecp5", (), 4, "DP16KD",
           tuple((d, w, 128, 1.0) for d, w in ((16384, 1), (8192, 2), (4096, 4), (2048, 9),
                                                (1024, 18), (512, 36))),
           ((16, 4, 4, 2),), 18, 18, "MULT18X18D",
           (("LUT4", 1), ("CCU2C", 2), ("TRELLIS_DPR16X4", 2)), ("TRELLIS_FF",),
           (("DP16KD", 1.0), ("PDPW16KD", 1.0)), ("MULT18X18D", "ALU54B"), "ecp5", 1.0,
           bram_byte=9),
    # iCE40 LP/HX: SB_RAM40_4K, 4 Kbit, 256 x 16 .. 2048 x 2, no distributed RAM, no
    # DSP: multipliers in LUTs (1.9 LUTs per partial-product bit, measured on
    # benchmarks/configs/tiny.toml: 2,073 LUTs for 1,095 bits).
    Family("ice40", "synth_ice40", (), 4, "SB_RAM40_4K", _ICE40_BRAM,
           (), 0, 0, "SB_MAC16", (("SB_LUT4", 1),), ("SB_DFF",),
           (("SB_RAM40_4K", 1.0),), ("SB_MAC16",), "ice40", memories_in_bram=True,
           soft_multiplier_luts=1.9),
    # iCE40 UltraPlus: as LP/HX, plus SB_MAC16 16 x 16 multipliers (synth_ice40 -dsp:
    # operands of 2 bits or more and products of 11 bits or more).
    Family("ice40up", "synth_ice40", ("-dsp",), 4, "SB_RAM40_4K", _ICE40_BRAM,
           (), 16, 16, "SB_MAC16", (("SB_LUT4", 1),), ("SB_DFF",),
           (("SB_RAM40_4K", 1.0),), ("SB_MAC16",), "ice40", memories_in_bram=True,
           soft_multiplier_luts=1.9, dsp_min_product=11),
    # Xilinx 7 series: RAMB36E1 (a RAMB18E1 counts 0.5), SDP up to 512 x 72; RAM32M is
    # 32 x 6 in simple dual port (4 LUT6); DSP48E1 25 x 18 signed (24 x 17 unsigned).
    Family("xilinx", "synth_xilinx", ("-family", "xc7"), 6, "RAMB36E1", _XILINX_BRAM,
           ((32, 6, 8, 4), (64, 3, 8, 4)), 24, 17, "DSP48E1", _XILINX_LUTS, _XILINX_FFS,
           (("RAMB36E1", 1.0), ("RAMB18E1", 0.5)), ("DSP48E1",), None, dsp_partial=17,
           dsp_min_chunk=1, bram_byte=9),
    # Xilinx UltraScale+: as 7 series; DSP48E2 27 x 18 signed (26 x 17 unsigned).
    Family("xcup", "synth_xilinx", ("-family", "xcup"), 6, "RAMB36E2", _XILINX_BRAM,
           ((32, 6, 8, 4), (64, 3, 8, 4)), 26, 17, "DSP48E2", _XILINX_LUTS, _XILINX_FFS,
           (("RAMB36E2", 1.0), ("RAMB18E2", 0.5)), ("DSP48E2",), None, dsp_partial=17,
           dsp_min_chunk=1, bram_byte=9),
]}

@dataclass(frozen=True)
class Device:
    name: str
    family: str
    luts: int
    ffs: int
    brams: int
    dsps: int
    pnr_device: str | None  # nextpnr's --device / part argument
    package: str | None
    speed: str | None


DEVICES = {d.name: d for d in [
    Device("LFE5U-25F", "ecp5", 24288, 24288, 56, 28, "25k", "CABGA381", "6"),
    Device("LFE5U-45F", "ecp5", 43848, 43848, 108, 72, "45k", "CABGA381", "6"),
    Device("LFE5U-85F", "ecp5", 83640, 83640, 208, 156, "85k", "CABGA381", "6"),
    Device("iCE40UP5K", "ice40up", 5280, 5280, 30, 8, "up5k", "sg48", None),
    Device("iCE40HX8K", "ice40", 7680, 7680, 32, 0, "hx8k", "ct256", None),
    Device("XC7A35T", "xilinx", 20800, 41600, 50, 90, None, None, None),
    Device("XC7A100T", "xilinx", 63400, 126800, 135, 240, None, None, None),
    Device("XCVU9P", "xcup", 1182240, 2364480, 2160, 6840, None, None, None),
]}


def family(name: str) -> Family:
    """The family called ``name`` (a device name also works: its family)."""
    if name in FAMILIES:
        return FAMILIES[name]
    for dev in DEVICES.values():
        if dev.name.lower() == name.lower():
            return FAMILIES[dev.family]
    raise ValueError(f"unknown target {name!r}: families {', '.join(FAMILIES)}; "
                     f"devices {', '.join(DEVICES)}")


def device(name: str) -> Device:
    for dev in DEVICES.values():
        if dev.name.lower() == name.lower():
            return dev
    raise ValueError(f"unknown device {name!r}: one of {', '.join(DEVICES)}")
