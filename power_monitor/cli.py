"""``hardodt power ...``: the power-monitoring case study from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hardodt.pnr import add_nextpnr_options

__all__ = ["add_power_commands"]


def _say(args):
    if getattr(args, "json", False):
        return lambda text: None
    return lambda text: print(f"  {text}", file=sys.stderr, flush=True)


def _workload(args):
    from power_monitor.workload import Workload

    return Workload(windows=args.windows, window=args.window, seed=args.seed,
                    drift_at=args.drift_at, reconfigure=not args.no_reconfigure)


def _kernels(names: list[str]) -> list[str]:
    from power_monitor.kernels import KERNELS, kernel

    if not names:
        return list(KERNELS)
    for n in names:
        kernel(n)  # an unknown name: a clear error
    return names


def _cmd_kernels(args) -> int:
    from power_monitor.kernels import KERNELS

    for k in KERNELS.values():
        print(f"{k.name:<10} data {k.lanes} x {k.lane_bits} bits"
              f"{f' + {k.extra_bits}' if k.extra_bits else ''}"
              f"{' + mode' if k.mode else ''}: {k.character}"
              f"{f'; at the drift: {k.mode}' if k.mode else ''}")
    return 0


def _cmd_dataset(args) -> int:
    from power_monitor.dataset import build_dataset

    ds = build_dataset(args.kernel, _workload(args), progress=_say(args))
    info = {"kernel": ds.kernel, "windows": ds.windows, "window": ds.window, "cells": ds.cells,
            "registers": len(ds.registers), "seconds": ds.seconds,
            "power_mW": ds.power_mw(),
            "parts_mW_mean": {k: round(float(v.mean()) * 1e3, 4) for k, v in ds.parts.items()}}
    if args.output:
        ds.save(args.output)
        info["saved"] = str(args.output)
    print(json.dumps(info, indent=None if args.json else 1))
    return 0


def _check_fit(args) -> None:
    """The fitting windows must end before the drift: refused before anything is built."""
    drift = int(args.drift_at * args.windows)
    if not 0 < args.fit_windows < drift:
        raise ValueError(f"--fit-windows {args.fit_windows} must be between 1 and the drift at "
                         f"window {drift} (--drift-at {args.drift_at:g} of {args.windows} windows)")


def _flow(args):
    from power_monitor.dataset import build_dataset
    from power_monitor.flow import run_flow

    _workload(args)  # an impossible workload is refused first
    _check_fit(args)
    ds = build_dataset(args.kernel, _workload(args), progress=_say(args))
    cos = Path(args.output or "results/power") / "cosim" / args.kernel if args.cosim else None
    return ds, run_flow(ds, fit_windows=args.fit_windows, warm=not args.cold, cosim_dir=cos,
                        progress=_say(args))


def _cmd_run(args) -> int:
    _ds, res = _flow(args)
    summary = res.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        for k, v in summary.items():
            print(f"{k:>26}: {v}")
    if res.cosim is not None and not res.cosim["agree"]:
        print("hardodt: error: the RTL learner disagrees with the golden model", file=sys.stderr)
        return 1
    return 0


def _cmd_build(args) -> int:
    from power_monitor.monitor import overhead

    ds, res = _flow(args)
    out = Path(args.output or "results/power") / "monitor" / args.kernel
    report = overhead(args.kernel, res.signals, res.config, out, window=ds.window,
                      positions=res.positions, pnr=not args.no_pnr, router=args.router,
                      placer=args.placer, placement=args.placement,
                      router_patience=args.router_patience,
                      progress=_say(args))
    # the kernel's own figures under "alone" (its name takes the "kernel" key)
    report = {"kernel": args.kernel, "signals": res.signals,
              "learner": {k: res.config.to_dict()[k] for k in
                          ("classes", "max_depth", "elements", "quantiles", "word_bits")},
              "alone": report.pop("kernel"), **report}
    print(json.dumps(report, indent=None if args.json else 1, default=str))
    return 0


def _cmd_report(args) -> int:
    from power_monitor.report import write_report

    _workload(args)
    _check_fit(args)
    out = Path(args.output or "results/power")
    rows = write_report(_kernels(args.kernels), out, workload=_workload(args), cosim=args.cosim,
                        overhead=args.overhead or args.pnr, pnr=args.pnr,
                        fit_windows=args.fit_windows, progress=_say(args))
    print((out / "power.md").read_text())
    bad = [r["kernel"] for r in rows if r.get("cosim") and not r["cosim"]["agree"]]
    if bad:
        print(f"hardodt: error: the RTL learner disagrees with the golden model on {bad}",
              file=sys.stderr)
        return 1
    return 0


def add_power_commands(sub) -> None:
    power = sub.add_parser(
        "power", help="the FPGA power-monitoring case study (docs/power.md)",
        description="Kernels run phased workloads as gate-level ECP5 netlists in Verilator; toggles "
                    "per window become estimated power (power_monitor/estimate.py); a learner "
                    "predicts the power class from a few registers' activity, online.")
    psub = power.add_subparsers(dest="power_command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--windows", type=int, default=20000, help="windows per run (20000)")
    common.add_argument("--window", type=int, default=256, help="cycles per window (256)")
    common.add_argument("--seed", type=int, default=1, help="workload seed (1)")
    common.add_argument("--drift-at", type=float, default=0.6,
                        help="where the workload changes character, a fraction of the run (0.6)")
    common.add_argument("--no-reconfigure", action="store_true",
                        help="the drift changes the phases only (default: kernels with a mode "
                             "input also switch it there; `hardodt power kernels` lists them)")
    common.add_argument("--json", action="store_true", help="one JSON object, no progress")
    flow = argparse.ArgumentParser(add_help=False, parents=[common])
    flow.add_argument("--output", type=Path, help="folder for results (results/power)")
    flow.add_argument("--fit-windows", type=int, default=5000,
                      help="windows that fix signals, clusters and learner (5000)")
    flow.add_argument("--cold", action="store_true",
                      help="the online learner starts empty after the fitting windows "
                           "(default: it learns from them too)")

    k = psub.add_parser("kernels", help="list the monitored kernels")
    k.set_defaults(func=_cmd_kernels)
    d = psub.add_parser("dataset", parents=[common], help="build (or read) a kernel's data set",
                        description="Synthesise, simulate and estimate power per window; cached. "
                                    "--output FILE.npz also saves it there.")
    d.add_argument("kernel")
    d.add_argument("--output", type=Path, help="also save the data set to this .npz file")
    d.set_defaults(func=_cmd_dataset, cosim=False)
    r = psub.add_parser("run", parents=[flow], help="the selection / clustering / online flow",
                        description="Signal selection, power clustering, online learning and the "
                                    "offline CART baselines on one kernel.")
    r.add_argument("kernel")
    r.add_argument("--cosim", action="store_true",
                   help="run the RTL learner in Verilator too (it must agree exactly)")
    r.set_defaults(func=_cmd_run)
    b = psub.add_parser("build", parents=[flow], help="the monitor in hardware: its overhead",
                        description="The kernel with activity counters on the chosen registers "
                                    "feeding a learner; synth_ecp5 with and without the monitor, "
                                    "and Fmax on an LFE5U-85F (nextpnr) unless --no-pnr.")
    b.add_argument("kernel")
    b.add_argument("--no-pnr", action="store_true", help="resources only, no place and route")
    add_nextpnr_options(b)
    b.set_defaults(func=_cmd_build, cosim=False)
    rep = psub.add_parser("report", parents=[flow], help="the table and plots of every kernel",
                          description="power.md (a table like the paper's Table VI), power.json "
                                      "and a plot per kernel.")
    rep.add_argument("kernels", nargs="*", help="kernels (default: all)")
    rep.add_argument("--cosim", action="store_true", help="co-simulate the RTL learner too")
    rep.add_argument("--overhead", action="store_true", help="synthesise the monitor's overhead")
    rep.add_argument("--pnr", action="store_true", help="and place and route for the Fmax")
    rep.set_defaults(func=_cmd_report)
