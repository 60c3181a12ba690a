"""Fuzzed co-simulation: many random valid configurations, bit-exact or a failure.

Each example is one configuration and stream drawn by ``sim.fuzz.cases`` (see
there), built into Verilog, run in Verilator under random input gaps and
back-pressure, and compared with the golden model on every prediction, the
statistics counters and the final tree. Prints how many configurations and
samples were tried and how many disagreed; a failure prints the drawn case
(rerun it with the same ``--seed``) and exits 1. About 30 s per example here
(mostly the Verilator build); ``--jobs 2`` runs two seeds side by side.

    python benchmarks/fuzz.py --examples 200 [--seed 1] [--jobs 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run(examples: int, seed: int, worker: int = 0) -> dict:
    """Run ``examples`` fuzzed cases from hypothesis seed ``seed``; the tally."""
    from hypothesis import given
    from hypothesis import seed as hseed

    from sim.fuzz import cases, fuzz_settings, run_case

    tally = {"seed": seed, "configurations": 0, "samples": 0, "splits": 0, "failures": [],
             "seconds": 0.0}
    t0 = time.perf_counter()

    @hseed(seed)
    @fuzz_settings(examples)
    @given(case=cases())
    def one(case):
        with tempfile.TemporaryDirectory(prefix="hardodt-fuzz-") as tmp:
            try:
                report = run_case(case, Path(tmp))
            except Exception as exc:  # noqa: BLE001 (every failure is reported)
                tally["failures"].append({"error": f"{type(exc).__name__}: {exc}"[:2000],
                                          "case": case.describe()})
                raise
        tally["configurations"] += 1
        tally["samples"] += len(case.stream) - case.preload_at  # through the hardware
        tally["preloaded"] = tally.get("preloaded", 0) + bool(case.preload_at)
        tally["reset"] = tally.get("reset", 0) + (case.reset_at is not None)
        tally["splits"] += report["stats_golden"]["splits"]
        print(f"[w{worker}] {tally['configurations']}/{examples} ok: {case.describe()}",
              file=sys.stderr, flush=True)

    try:
        one()
    except Exception:  # noqa: BLE001 (the failure is in the tally)
        pass
    tally["seconds"] = round(time.perf_counter() - t0, 1)
    return tally


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=200, help="configurations to try in all")
    ap.add_argument("--seed", type=int, default=1, help="hypothesis seed (job k uses seed + k)")
    ap.add_argument("--jobs", type=int, default=1, help="processes side by side")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.examples < 1 or args.jobs < 1:
        ap.error("--examples and --jobs must be at least 1")
    share = [args.examples // args.jobs + (k < args.examples % args.jobs)
             for k in range(args.jobs)]
    with ProcessPoolExecutor(args.jobs) as pool:
        tallies = list(pool.map(run, share, [args.seed + k for k in range(args.jobs)],
                                range(args.jobs)))
    total = {"machine": f"{platform.processor() or platform.machine()}, {date.today()}",
             "configurations": sum(t["configurations"] for t in tallies),
             "samples": sum(t["samples"] for t in tallies),
             "splits": sum(t["splits"] for t in tallies),
             "preloaded": sum(t.get("preloaded", 0) for t in tallies),
             "reset": sum(t.get("reset", 0) for t in tallies),
             "failures": [f for t in tallies for f in t["failures"]],
             "seconds": max(t["seconds"] for t in tallies), "jobs": tallies}
    if args.json:
        print(json.dumps(total, indent=1))
    else:
        print(f"fuzzed co-simulation ({total['machine']}): {total['configurations']} "
              f"configurations ({total['preloaded']} preloaded with a tree learned in software, "
              f"{total['reset']} reset mid-stream), {total['samples']:,} samples, "
              f"{total['splits']:,} splits, {len(total['failures'])} failing, "
              f"{total['seconds']:.0f} s")
        for f in total["failures"]:
            print(f"FAILED {f['error']}\n  case: {f['case']}")
    return 1 if total["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
