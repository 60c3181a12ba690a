"""How often a sample updates the same quantile estimates as the sample just before it.

A quantile lane updates a leaf's estimates of one class per sample, and the
next sample may update the very same ones, so the update is a loop that must
close in one cycle (``rtl/quantile_lane.py``: the write back forwarded into
the next slot's update). An update over two cycles would have to hold the
input whenever two samples in a row reach the same leaf with the same class:
this script counts how often that is, with the golden model's tree as it
learns (each sample routed through the tree it meets, then learned), on
Electricity and the seeded generators.

    python benchmarks/lane_hazard.py [--samples 20000] [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardodt import Config, QuantileHoeffdingTree  # noqa: E402
from hardodt.streams import GENERATORS, Stream, bundled_electricity, generate  # noqa: E402
from reference.kernels import _route  # noqa: E402


def same_update_fraction(stream: Stream, cfg: Config) -> tuple[float, float]:
    """Of the stream's consecutive pairs of samples, the fraction that reach the same leaf,
    and the fraction that reach the same leaf with the same class (the lane's forward)."""
    if len(stream) < 2:
        raise ValueError(f"{stream.name}: needs at least two samples, got {len(stream)}")
    tree = QuantileHoeffdingTree(cfg)
    features = stream.features
    labels = np.asarray(stream.labels).astype(str)
    prev_leaf, prev_label = None, None
    leaf_pairs = both_pairs = 0
    for i in range(len(stream)):
        row = features[i:i + 1]
        xn, xc = tree._encode_rows(row, i)
        leaf = int(tree._tree[4][_route(tree._tree, xn[0], xc[0])])
        if prev_leaf is not None:
            leaf_pairs += leaf == prev_leaf
            both_pairs += leaf == prev_leaf and labels[i] == prev_label
        prev_leaf, prev_label = leaf, labels[i]
        tree.partial_fit(row, labels[i:i + 1])
    pairs = len(stream) - 1
    return leaf_pairs / pairs, both_pairs / pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20000, help="generator samples (default 20000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = ap.parse_args(argv)
    streams = [bundled_electricity()] + [generate(name, args.samples, args.seed)
                                         for name in sorted(GENERATORS)]
    rows = []
    for stream in streams:
        leaf, both = same_update_fraction(stream, stream.config())
        rows.append((stream.name, len(stream), leaf, both))
        print(f"{stream.name}: {len(stream)} samples", file=sys.stderr)
    head = f"{platform.processor() or platform.machine()}, {date.today()}"
    if args.markdown:
        print(f"Default configuration of each stream ({head}):\n")
        print("| stream | samples | next sample at the same leaf | ... and the same class |")
        print("|---|---|---|---|")
        for name, n, leaf, both in rows:
            print(f"| {name} | {n} | {leaf:.1%} | {both:.1%} |")
    else:
        for name, n, leaf, both in rows:
            print(f"{name:12s} {n:7d}  same leaf {leaf:.3f}  same leaf and class {both:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
