"""Whole-stream co-simulation: the hardware against the golden model, bit-exact.

Runs the default design on the whole bundled Electricity stream and a seeded
stream from each generator, always-ready source and sink (the cycles per
sample of the design itself) and again with random gaps and stalls (agreement
under any timing), and prints one row per run: samples, mismatches, cycles
per sample, latency, simulation speed and the golden model's speed on the
same stream (the ratio is how much slower cycle-accurate simulation is).

    python benchmarks/cosim.py [--samples 20000] [--markdown] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardodt.streams import bundled_electricity  # noqa: E402
from hardodt.streams.generators import generate  # noqa: E402
from reference import QuantileHoeffdingTree  # noqa: E402
from sim.cosim import cosimulate, encode_stream  # noqa: E402


def run(stream, samples_dir: Path, gap: float, stall: float) -> dict:
    cfg = stream.config()
    xn, xc, y = encode_stream(cfg, stream)
    t0 = time.perf_counter()
    QuantileHoeffdingTree(cfg)._run(xn, xc, y, np.ones(len(y), bool))
    golden_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = cosimulate(cfg, xn, xc, y, build_dir=samples_dir, gap=gap, stall=stall)
    wall = time.perf_counter() - t0
    return {
        "stream": stream.name, "samples": report["samples"], "gap": gap, "stall": stall,
        "mismatches": report["mismatches"], "tree_agrees": report["tree_agrees"],
        "leaves": report["leaves"], "cycles_per_sample": report["cycles_per_sample"],
        "latency_cycles": report["latency_cycles"], "accuracy": report["accuracy"],
        "trial_cycles_max": report["trial_cycles_max"],
        "simulation_s": report["simulation_seconds"], "command_s": wall,
        "cycles_per_s": report["cycles"] / report["simulation_seconds"],
        "golden_samples_per_s": len(y) / golden_s,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20_000, help="samples per generator stream")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    streams = [bundled_electricity()] + [generate(g, args.samples, seed=1)
                                          for g in ("sea", "hyperplane", "rbf", "agrawal", "led")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, stream in enumerate(streams):
            for gap, stall in ((0.0, 0.0), (0.2, 0.2)):
                if k and gap:  # timing variation once is enough beyond Electricity
                    continue
                row = run(stream, Path(tmp) / f"{k}_{gap}", gap, stall)
                rows.append(row)
                print(f"{row['stream']}: {row['mismatches']} mismatches, "
                      f"{row['cycles_per_sample']:.4f} cycles/sample", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"Machine: {platform.processor() or platform.machine()}, {date.today()}; "
          f"`python benchmarks/cosim.py --samples {args.samples} --markdown`.\n")
    print("| stream | samples | gaps / stalls | mismatches | tree | leaves | cycles/sample | "
          "latency | longest trial | sim cycles/s | golden samples/s | accuracy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stream']} | {r['samples']:,} | {r['gap']:g} / {r['stall']:g} | "
              f"{r['mismatches']} | {'equal' if r['tree_agrees'] else 'DIFFERS'} | {r['leaves']} | "
              f"{r['cycles_per_sample']:.4f} | {r['latency_cycles']} | {r['trial_cycles_max']} | "
              f"{r['cycles_per_s']:,.0f} | "
              f"{r['golden_samples_per_s']:,.0f} | {100 * r['accuracy']:.2f} % |")
    bad = [r for r in rows if r["mismatches"] or not r["tree_agrees"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
