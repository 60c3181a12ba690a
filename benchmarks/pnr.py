"""Place and route: Fmax, critical path and utilisation of the reference designs.

* a small design (``benchmarks/configs/small.toml``) on the LFE5U-25F;
* the default design (Electricity schema, ``Config()`` defaults) on the
  LFE5U-85F, speed grade 6 (the ULX3S board's part): more than an hour;
* the smallest useful design (``benchmarks/configs/tiny.toml``) on the iCE40
  HX8K, and made compact (``benchmarks/configs/up5k.toml``: 6 quotient bits per
  divider stage) on the UP5K (the iCEBreaker's part);
* ``units``: each unit of the default design placed and routed alone on the
  LFE5U-85F (``hardodt pnr --unit``): the clock its own logic allows, against
  the 100 MHz target (about five minutes a unit).

For each: the achieved Fmax (nextpnr with ``--timing-allow-fail``), the
critical path (length, logic levels, routing share), the utilisation, and the
hardware's throughput at that Fmax against the golden model's on the same
stream (the default design: the bundled Electricity; the tiny one: a seeded
stream of its schema), each with the model's cycles per sample for that
stream. Long (tens of minutes for the ECP5 design): results are cached.

    python benchmarks/pnr.py [--only small|default|up5k|hx8k|units ...] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hardodt.config import Config, read_toml_fields  # noqa: E402
from hardodt.estimate import estimate, performance  # noqa: E402
from hardodt.pnr import PnrError, place_and_route  # noqa: E402
from hardodt.streams import bundled_electricity  # noqa: E402
from hardodt.sweep import point_stream  # noqa: E402
from reference import QuantileHoeffdingTree  # noqa: E402
from sim.cosim import encode_stream  # noqa: E402

TINY = ROOT / "benchmarks" / "configs" / "tiny.toml"
UP5K = ROOT / "benchmarks" / "configs" / "up5k.toml"
SMALL = ROOT / "benchmarks" / "configs" / "small.toml"


def golden_speed(cfg: Config, xn, xc, y) -> tuple[float, dict]:
    learn = np.ones(len(y), dtype=bool)
    QuantileHoeffdingTree(cfg)._run(xn[:200], xc[:200], y[:200], learn[:200])  # compile
    model = QuantileHoeffdingTree(cfg)
    t0 = time.perf_counter()
    model._run(xn, xc, y, learn)
    return len(y) / (time.perf_counter() - t0), model.stats


def cases() -> dict:
    elec = bundled_electricity()
    default = elec.config()
    tiny = Config.from_dict(read_toml_fields(TINY), source=str(TINY))
    small = Config.from_dict(read_toml_fields(SMALL), source=str(SMALL))
    compact = Config.from_dict(read_toml_fields(UP5K), source=str(UP5K))
    return {
        "small": (small, "LFE5U-25F", 100.0, lambda: point_stream(small, 20_000),
                  "small, seeded", "small-25f"),
        "default": (default, "LFE5U-85F", 100.0, lambda: encode_stream(default, elec),
                    "bundled Electricity", "default-85f"),
        "up5k": (compact, "iCE40UP5K", 12.0, lambda: point_stream(compact, 20_000),
                 "tiny, seeded", "compact-up5k"),
        "hx8k": (tiny, "iCE40HX8K", 24.0, lambda: point_stream(tiny, 20_000), "tiny, seeded",
                 "tiny-hx8k"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=["small", "default", "up5k", "hx8k", "units"])
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    rows = []
    units = unit_rows() if not args.only or "units" in args.only else []
    for name, (cfg, dev, clock, stream, what, folder) in cases().items():
        if args.only and name not in args.only:
            continue
        print(f"{name}: place and route on {dev} ...", file=sys.stderr, flush=True)
        row = {"design": name, "device": dev}
        try:
            res = place_and_route(cfg, dev, ROOT / "results" / "pnr" / folder,
                                  clock_mhz=clock,
                                  progress=lambda s: print(f"  {s}", file=sys.stderr, flush=True))
        except PnrError as exc:
            row["error"] = str(exc)
            rows.append(row)
            print(f"  {exc}", file=sys.stderr)
            continue
        xn, xc, y = stream()
        sw, st = golden_speed(cfg, xn, xc, y)
        perf = performance(cfg, len(y), st["split_trials"], st["splits"])
        hw = res.fmax_mhz * 1e6 / perf.cycles_per_sample
        est = estimate(cfg, dev)
        row.update(fmax_mhz=res.fmax_mhz, critical_path=res.critical_path,
                   utilisation=res.utilisation, synth=res.synth,
                   model={k: getattr(est, k) for k in ("lut", "ff", "bram", "dsp")},
                   stream=what, samples=len(y), cycles_per_sample=perf.cycles_per_sample,
                   hardware_samples_per_s=hw, golden_samples_per_s=sw, ratio=hw / sw,
                   tool=res.tool, seconds=res.seconds, notes=res.notes)
        rows.append(row)
    head = f"{platform.processor() or platform.machine()}, {date.today()}"
    if not args.markdown:
        print(json.dumps({"machine": head, "rows": rows, "units": units}, indent=1))
        return 0
    print(f"Place and route ({head}).\n")
    print("| design | device | Fmax | critical path | LUT / FF / BRAM / DSP (yosys) "
          "| logic cells used | throughput at Fmax | golden model | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['design']} | {r['device']} | - | {r['error']} | | | | | |")
            continue
        cp = r["critical_path"]
        s = r["synth"]
        cells = next((v for k, v in r["utilisation"].items()
                      if k in ("ICESTORM_LC", "TRELLIS_COMB")), None)
        used = f"{cells['used'] / cells['available']:.0%}" if cells else "-"
        print(f"| {r['design']} | {r['device']} | {r['fmax_mhz']:.1f} MHz | "
              f"{cp.get('delay_ns', 0):.1f} ns, {cp.get('logic_levels', 0)} levels, "
              f"{cp.get('routing_ns', 0):.1f} ns routing"
              f"{_ends(cp)} | {s['lut']:,} / {s['ff']:,} / "
              f"{s['bram']:g} / {s['dsp']} | {used} | "
              f"{r['hardware_samples_per_s'] / 1e6:.1f} M/s | "
              f"{r['golden_samples_per_s'] / 1e6:.2f} M/s | {r['ratio']:.0f}x |")
    if units:
        print(f"\nEach unit of the default design alone on the {UNIT_DEVICE}, routed "
              f"(the clock its own logic allows):\n")
        print(f"| unit | Fmax | against {UNIT_TARGET:g} MHz | critical path "
              "| LUT / FF / BRAM / DSP (yosys) |")
        print("|---|---|---|---|---|")
        for r in units:
            if "error" in r:
                print(f"| {r['unit']} | - | - | {r['error'][:160]} | |")
                continue
            cp, s = r["critical_path"], r["synth"]
            print(f"| {r['unit']} | {r['fmax_mhz']:.1f} MHz | {r['fmax_mhz'] / UNIT_TARGET:.2f} | "
                  f"{cp.get('delay_ns', 0):.1f} ns, {cp.get('logic_levels', 0)} levels, "
                  f"{cp.get('routing_ns', 0):.1f} ns routing{_ends(cp)} | {s['lut']:,} / "
                  f"{s['ff']:,} / {s['bram']:g} / {s['dsp']} |")
    return 0


UNIT_DEVICE, UNIT_TARGET = "LFE5U-85F", 100.0


def unit_rows() -> list[dict]:
    """Each unit of the default design (``rtl.unit_shell.UNITS``) placed and routed alone;
    a unit the design lacks or a tool's failure is a row with its error."""
    from rtl.unit_shell import UNITS

    default = bundled_electricity().config()
    rows = []
    for name in UNITS:
        print(f"unit {name}: place and route alone on {UNIT_DEVICE} ...", file=sys.stderr,
              flush=True)
        row = {"unit": name, "device": UNIT_DEVICE}
        try:
            res = place_and_route(default, UNIT_DEVICE,
                                  ROOT / "results" / "pnr" / f"unit-{name}-85f",
                                  clock_mhz=UNIT_TARGET, unit=name,
                                  progress=lambda s: print(f"  {s}", file=sys.stderr, flush=True))
        except PnrError as exc:
            row["error"] = str(exc)
            print(f"  {exc}", file=sys.stderr)
        else:
            row.update(fmax_mhz=res.fmax_mhz, critical_path=res.critical_path,
                       synth=res.synth, utilisation=res.utilisation, tool=res.tool,
                       seconds=res.seconds, cached=res.cached)
        rows.append(row)
    return rows


def _ends(cp: dict) -> str:
    """The critical path's first and last register by source line, if known."""
    if not cp.get("from_source"):
        return ""
    return f"; {cp['from_source'][0]} to {(cp.get('to_source') or ['?'])[0]}"


if __name__ == "__main__":
    sys.exit(main())
