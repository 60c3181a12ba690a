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
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hardodt.pnr import source_line, top_module  # noqa: E402


def source_label(cell: dict) -> str:
    """The design source line of a cell, or its type when it has none."""
    line = source_line(cell.get("attributes", {}).get("src", ""))
    return line or f"{cell.get('type', '?')} (no source line)"


def drivers(netlist: dict) -> tuple[dict[int, str], dict[str, list]]:
    """Bit -> the label of the cell driving it, and net name -> bits, for the top module."""
    top = top_module(netlist)
    if top is None:
        raise ValueError("the netlist has no top module")
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netlist", type=Path)
    ap.add_argument("heatmap", type=Path, help="a router2 congestion_by_net CSV")
    ap.add_argument("--top", type=int, default=25, help="lines to print")
    args = ap.parse_args(argv)
    netlist = json.loads(args.netlist.read_text())
    with args.heatmap.open(newline="") as f:
        counts, total = congestion_by_source(netlist, csv.reader(f))
    print(f"overuse counted over all nets: {total:,}")
    for label, n in counts.most_common(args.top):
        print(f"{n:>9,} {100 * n / max(total, 1):5.1f} %  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
