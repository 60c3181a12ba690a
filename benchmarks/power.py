"""The power-monitoring study on every kernel, with the RTL learner co-simulated and the monitor's
overhead synthesised and placed: the figures of docs/power.md.

    python benchmarks/power.py [--no-pnr] [--no-reconfigure] [--windows 20000] [KERNEL ...]

Writes results/power/power.md, power.json and the plots; exits 1 if the RTL learner disagrees
with the golden model anywhere or a data set took longer than 15 minutes to build.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from power_monitor.kernels import KERNELS  # noqa: E402
from power_monitor.report import write_report  # noqa: E402
from power_monitor.workload import Workload  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kernels", nargs="*", default=list(KERNELS))
    ap.add_argument("--windows", type=int, default=20000)
    ap.add_argument("--no-pnr", action="store_true")
    ap.add_argument("--no-reconfigure", action="store_true",
                    help="the drift changes the phases only (no kernel's mode bit)")
    ap.add_argument("--output", type=Path, default=Path("results/power"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = write_report(args.kernels, args.output, workload=Workload(windows=args.windows,
                                                                reconfigure=not args.no_reconfigure),
                        cosim=True, overhead=True, pnr=not args.no_pnr,
                        progress=lambda s: print(f"  {s}", file=sys.stderr, flush=True))
    print((args.output / "power.md").read_text())
    failed = False
    for r in rows:
        build = sum(r["dataset_seconds"].values())
        print(f"{r['kernel']}: data set {build:.0f} s (budget 900 s), whole row {r['seconds']} s")
        if build > 900 or not r["cosim"]["agree"]:
            failed = True
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
