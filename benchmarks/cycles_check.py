"""The performance model against co-simulation on the validation configurations.

For each configuration of ``benchmarks/resource_fit.py`` chosen (default: a
spread of small ones, so the Verilator builds stay short), stream a seeded
stream of its schema through the RTL in Verilator (always-ready source and
sink) and compare the measured cycles per sample, latency and longest split
trial with ``hardodt.estimate.performance`` given the golden model's trials
and splits on the same stream. Target: cycles per sample within 2 %.

    python benchmarks/cycles_check.py [--points NAME ...] [--samples 5000] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from resource_fit import point  # noqa: E402

from hardodt.estimate import latency_cycles, performance, trial_cycles  # noqa: E402
from hardodt.sweep import point_config, point_stream  # noqa: E402
from sim.cosim import cosimulate  # noqa: E402

DEFAULT = ["n2-q2-e16", "n3-cat3", "n12-l3-c3", "n14-l7", "n5-q3", "n16-c8-l2", "cat-only",
           "n4-c8"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", nargs="+", default=DEFAULT)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    rows = []
    for name in args.points:
        cfg = point_config(point(name))
        xn, xc, y = point_stream(cfg, args.samples, seed=2)
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{name}: co-simulating {args.samples} samples ...", file=sys.stderr, flush=True)
            rep = cosimulate(cfg, xn, xc, y, build_dir=Path(tmp))
        st = rep["stats_golden"]
        perf = performance(cfg, args.samples, st["split_trials"], st["splits"])
        rows.append({"point": name, "mismatches": rep["mismatches"],
                     "measured": rep["cycles_per_sample"], "model": perf.cycles_per_sample,
                     "error": (perf.cycles_per_sample - rep["cycles_per_sample"])
                     / rep["cycles_per_sample"],
                     "latency": rep["latency_cycles"], "latency_model": latency_cycles(cfg),
                     "trial": rep["trial_cycles_max"], "trial_model": trial_cycles(cfg),
                     "trials": st["split_trials"], "splits": st["splits"]})
    head = f"{platform.processor() or platform.machine()}, {date.today()}"
    worst = max(abs(r["error"]) for r in rows)
    if args.markdown:
        print(f"Cycles per sample, model against Verilator ({args.samples} samples each; {head}).\n")
        print("| point | mismatches | trials / splits | cycles/sample measured | model | error "
              "| latency (model) | longest trial (model) |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['point']} | {r['mismatches']} | {r['trials']} / {r['splits']} | "
                  f"{r['measured']:.4f} | {r['model']:.4f} | {100 * r['error']:+.2f} % | "
                  f"{r['latency']} ({r['latency_model']}) | {r['trial']} ({r['trial_model']}) |")
        print(f"\nworst |error| {100 * worst:.2f} % (target 2 %)")
    else:
        print(json.dumps({"machine": head, "rows": rows, "worst_error": worst}, indent=1))
    return 0 if worst <= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
