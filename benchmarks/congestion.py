"""Where router2's congestion is, by the design's source lines.

nextpnr's ``--router2-heatmap PREFIX`` writes, per routing iteration, how many
overused wires each net passes (``PREFIX_congestion_by_net_N.csv``: net, count).
Synthesis hides the learner's signal names (``hardodt/synthesis.py``), so the nets
are named after the cells they connect; this traces each net to the cell that
drives it in the yosys JSON netlist and groups the counts by that cell's ``src``
attribute: the Python line that declares the register or memory
(``rtl/hardodt.py:307``), or, for logic without one, the cell type.

    python benchmarks/congestion.py NETLIST.json HEATMAP_congestion_by_net_N.csv [--top 25]

(the netlist: ``netlist.json`` of ``hardodt pnr``'s build folder; the heat map from
rerunning its nextpnr command with ``--router2-heatmap``, docs/model.md).

The wire the placement asks for, before any routing: with ``--placed`` (a placed
design written by nextpnr's ``--no-route --write placed.json``, which keeps the
cells' ``src`` attributes) it sums each net's half-perimeter wirelength (HPWL,
in tiles) by the same source labels, the share of it in nets longer than 20
tiles, and how far each block RAM memory's blocks are spread (a memory's blocks
far apart make its whole read bus long):

    python benchmarks/congestion.py --placed placed.json [--top 25]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hardodt.pnr import source_line, top_module  # noqa: E402


def source_label(cell: dict) -> str:
    """The design source line of a cell, or its type when it has none."""
    line = source_line(cell.get("attributes", {}).get("src", ""))
    return line or f"{cell.get('type', '?')} (no source line)"


def _top(netlist: dict) -> dict:
    """The netlist's top module, or a ValueError."""
    top = top_module(netlist)
    if top is None:
        raise ValueError("the netlist has no top module")
    return top


def drivers(netlist: dict) -> tuple[dict[int, str], dict[str, list]]:
    """Bit -> the label of the cell driving it, and net name -> bits, for the top module."""
    top = _top(netlist)
    by_bit: dict[int, str] = {}
    for cell in top.get("cells", {}).values():
        dirs = cell.get("port_directions", {})
        for port, bits in cell.get("connections", {}).items():
            if dirs.get(port) == "output":
                for b in bits:
                    by_bit[b] = source_label(cell)
    nets = {name: v["bits"] for name, v in top.get("netnames", {}).items()}
    return by_bit, nets


def congestion_by_source(netlist: dict, rows) -> tuple[Counter, int]:
    """Overuse counts grouped by the driving cell's source; and the total."""
    by_bit, nets = drivers(netlist)
    out: Counter = Counter()
    total = 0
    for row in rows:
        if len(row) < 2 or not row[1].strip().lstrip("-").isdigit():
            continue
        name, count = row[0], int(row[1])
        total += count
        bits = nets.get(name)
        if bits is None and name.endswith("]"):  # one bit of a bus: name[i]
            base, _, index = name[:-1].rpartition("[")
            if base in nets and index.isdigit() and int(index) < len(nets[base]):
                bits = [nets[base][int(index)]]
        if not bits:
            out["(net not in the netlist)"] += count
            continue
        out[by_bit.get(bits[0], "(driven by a port or a constant)")] += count
    return out, total


#: a net longer than this (half perimeter, tiles) counts as long
LONG_NET = 20
#: nets spanning more than this are global (the clock): not general routing
GLOBAL_NET = 200


def _position(cell: dict) -> tuple[int, int] | None:
    """A placed cell's tile (nextpnr's ``NEXTPNR_BEL`` attribute, ``X12/Y34/...``)."""
    found = re.match(r"X(\d+)/Y(\d+)/", str(cell.get("attributes", {}).get("NEXTPNR_BEL", "")))
    return (int(found[1]), int(found[2])) if found else None


def placed_label(name: str, cell: dict) -> str:
    """A cell's source line, or its type and the learner unit its name starts with
    (packed LUTs keep no line of their own, but their names keep the unit's)."""
    if source_line(cell.get("attributes", {}).get("src", "")):
        return source_label(cell)
    unit = re.match(r"(?:learner\.)+([a-z_]+?)\d*\.", name)
    return source_label(cell) + (f" in {unit[1]}" if unit else "")


def wirelength_by_source(placed: dict) -> tuple[Counter, Counter, int]:
    """Half-perimeter wirelength of every net of a placed design, by its driver's
    ``placed_label``; the part in nets longer than ``LONG_NET``; and the total."""
    cells = _top(placed).get("cells", {})
    where = {name: _position(c) for name, c in cells.items()}
    driver: dict[int, str] = {}
    pins: dict[int, list] = defaultdict(list)
    for name, cell in cells.items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell.get("connections", {}).items():
            for b in bits:
                if isinstance(b, int):
                    if dirs.get(port) == "output":
                        driver[b] = name
                    pins[b].append(name)
    total, long = Counter(), Counter()
    for bit, name in driver.items():
        spots = [where[c] for c in pins[bit] if where.get(c)]
        if len(spots) < 2:
            continue
        xs, ys = [s[0] for s in spots], [s[1] for s in spots]
        hpwl = max(xs) - min(xs) + max(ys) - min(ys)
        if hpwl > GLOBAL_NET:
            continue
        label = placed_label(name, cells[name])
        total[label] += hpwl
        if hpwl > LONG_NET:
            long[label] += hpwl
    return total, long, sum(total.values())


def block_ram_spread(placed: dict, kind: str = "DP16KD") -> dict[str, dict]:
    """Each memory's blocks (cells ``NAME.i.j`` of type ``kind``): how many, and the
    columns and rows they were placed in."""
    spots: dict[str, list] = defaultdict(list)
    for name, cell in _top(placed).get("cells", {}).items():
        at = _position(cell)
        if cell.get("type") == kind and at:
            spots[re.sub(r"(\.\d+)+$", "", name)].append(at)
    return {mem: {"blocks": len(s), "columns": (min(x for x, _ in s), max(x for x, _ in s)),
                  "rows": sorted({y for _, y in s})} for mem, s in sorted(spots.items())}


def print_wirelength(placed: dict, top_n: int) -> None:
    total, long, whole = wirelength_by_source(placed)
    print(f"half-perimeter wirelength of all nets: {whole:,} tiles "
          f"({sum(long.values()) / max(whole, 1):.1%} in nets longer than {LONG_NET})")
    for label, n in total.most_common(top_n):
        print(f"{n:>9,} {100 * n / max(whole, 1):5.1f} %  long {100 * long[label] / max(whole, 1):4.1f} %"
              f"  {label}")
    print("block RAMs per memory: columns spanned, rows")
    for mem, info in block_ram_spread(placed).items():
        lo, hi = info["columns"]
        print(f"  {mem}: {info['blocks']} blocks, columns {lo}-{hi}, rows {info['rows']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netlist", type=Path, nargs="?")
    ap.add_argument("heatmap", type=Path, nargs="?", help="a router2 congestion_by_net CSV")
    ap.add_argument("--placed", type=Path,
                    help="a placed design (nextpnr --write): wirelength by source instead")
    ap.add_argument("--top", type=int, default=25, help="lines to print")
    args = ap.parse_args(argv)
    if args.placed:
        print_wirelength(json.loads(args.placed.read_text()), args.top)
        return 0
    if args.netlist is None or args.heatmap is None:
        ap.error("give NETLIST and HEATMAP, or --placed PLACED")
    netlist = json.loads(args.netlist.read_text())
    with args.heatmap.open(newline="") as f:
        counts, total = congestion_by_source(netlist, csv.reader(f))
    print(f"overuse counted over all nets: {total:,}")
    for label, n in counts.most_common(args.top):
        print(f"{n:>9,} {100 * n / max(total, 1):5.1f} %  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
