"""The resource model against synthesis: fit the LUT and FF weights, validate every count.

Synthesises a fixed set of configurations spanning attributes (2-16), classes
(2-8), Q (2-32), E (16-1024), depth (4-15), lanes (1-all) and word width
(16-32) with yosys for each family asked (default ECP5 and Xilinx 7 series),
in a process pool, cached (a rerun synthesises nothing it has seen). Then:

* fits the per-family weights of the LUT and FF terms (``hardodt.estimate``)
  by non-negative least squares on relative error over all points and writes
  them to ``hardodt/data/resource_fit.json`` (``--write``);
* validates by leave-one-out: each point is predicted with weights fitted on
  the others, so no point is judged by a fit that saw it. Block RAMs and DSPs
  have no fitted weight: their error is the model's as it stands;
* prints a table per point and the median and worst absolute error per
  resource, against the targets of 10 % (median) and 25 % (worst);
* times the golden model on a seeded 20,000-sample stream of each point's
  schema and prints the hardware's throughput at ``--clock`` (the model's
  cycles per sample with that stream's trials and splits) against it.

    python benchmarks/resource_fit.py [--families ecp5 xilinx] [--workers 2]
                                      [--clock MHZ] [--write] [--markdown] [--csv OUT.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardodt.estimate import counted, ff_terms, lut_terms, performance  # noqa: E402
from hardodt.sweep import point_config, software_speed  # noqa: E402
from hardodt.synthesis import synthesize, yosys_version  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# name: (numeric, categorical values, classes, Q, P, E, depth, lanes, word bits, count bits)
POINTS = {
    "n2-q2-e16": (2, [], 2, 2, 4, 16, 4, 0, 16, 12),
    "n2-q32": (2, [], 2, 32, 8, 64, 6, 0, 16, 12),
    "n4-w24": (4, [], 2, 8, 8, 128, 8, 0, 24, 16),
    "n4-c8": (4, [], 8, 4, 4, 64, 6, 0, 16, 12),
    "elec-default": (6, [], 2, 8, 10, 1024, 15, 0, 32, 20),
    "n8-l2": (8, [], 2, 4, 8, 256, 10, 2, 16, 16),
    "n16-l4": (16, [], 2, 2, 4, 64, 6, 4, 16, 12),
    "n16-e512": (16, [], 2, 4, 8, 512, 12, 0, 24, 16),
    "n3-cat3": (3, [3], 2, 4, 4, 16, 4, 0, 16, 12),
    "n2-cat44-c4": (2, [4, 4], 4, 8, 4, 32, 5, 1, 20, 14),
    "cat-only": (0, [5, 5, 5], 3, 2, 1, 64, 6, 0, 16, 12),
    "n5-c5": (5, [2], 5, 4, 6, 128, 7, 0, 16, 16),
    "n10-l5-w32": (10, [], 2, 8, 10, 256, 9, 5, 32, 20),
    "n12-l3-c3": (12, [], 3, 2, 4, 32, 4, 3, 16, 12),
    "n4-q16-e512": (4, [], 2, 16, 16, 512, 11, 0, 32, 20),
    "n2-cat8-e1024": (2, [8], 2, 4, 4, 1024, 15, 0, 16, 16),
    "n6-l3-w24": (6, [], 2, 8, 10, 256, 12, 3, 24, 18),
    "n8-cat33-c6": (8, [3, 3], 6, 2, 4, 64, 8, 4, 16, 12),
    "n3-c7": (3, [], 7, 8, 8, 128, 8, 0, 20, 14),
    "n14-l7": (14, [], 2, 2, 2, 16, 4, 7, 16, 12),
    "n4-cat6-q32-l2": (4, [6], 2, 32, 8, 64, 6, 2, 16, 12),
    "n2-c8-q16": (2, [], 8, 16, 8, 32, 5, 0, 24, 16),
    "n7-cat234": (7, [2, 3, 4], 2, 8, 6, 256, 10, 0, 32, 20),
    "n9-l3-c4": (9, [], 4, 4, 8, 128, 13, 3, 20, 16),
    "n5-q3": (5, [], 2, 3, 5, 48, 6, 0, 18, 13),
    "n16-c8-l2": (16, [], 8, 2, 2, 16, 4, 2, 16, 12),
}
KEYS = ("lut", "ff", "bram", "dsp")


def point(name: str) -> dict:
    n, cat, c, q, p, e, depth, lanes, w, cb = POINTS[name]
    return {"numeric": n, "categorical": cat, "classes": c, "quantiles": q, "split_points": p,
            "elements": e, "max_depth": depth, "lanes": lanes, "word_bits": w,
            "count_bits": cb}


def synth_one(name: str, fam: str, build_root: str) -> dict:
    cfg = point_config(point(name))
    res = synthesize(cfg, fam, Path(build_root) / f"{name}-{fam}")
    return {"name": name, "family": fam, **{k: getattr(res, k) for k in (*KEYS, "lutram")},
            "seconds": res.seconds, "cached": res.cached}


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.optimize import nnls

    return nnls(a, b)[0]


def fit(rows: list[dict], kind: str, terms_of) -> tuple[list[str], np.ndarray]:
    """Weights minimising the relative error of ``kind`` (what the model counts exactly,
    ``hardodt.estimate.counted``, is taken out first: the memories, the registers counted
    bit for bit, the multipliers)."""
    names = list(terms_of(point_config(point(rows[0]["name"]))))
    a, b = [], []
    for r in rows:
        cfg = point_config(point(r["name"]))
        t = terms_of(cfg)
        known = r[f"known_{kind}"]
        scale = max(1.0, r[kind])
        a.append([t[k] / scale for k in names])
        b.append((r[kind] - known) / scale)
    return names, _nnls(np.array(a), np.array(b))


def predict(cfg, names, weights, terms_of, known) -> float:
    t = terms_of(cfg)
    return float(sum(w * t[k] for k, w in zip(names, weights, strict=True)) + known)


def fit_family(rows: list[dict], fam: str) -> dict[str, dict[str, float]]:
    """The LUT and FF weights of ``fam`` fitted on the synthesis results ``rows`` (each
    with ``name``, ``lut`` and ``ff``), which gain what the model counts exactly
    (``known_*``, ``model_bram``, ``model_dsp``) and each point's leave-one-out
    prediction (``model_lut``, ``model_ff``: weights fitted on the other points)."""
    for r in rows:  # what the model counts exactly is taken out before fitting
        known = counted(point_config(point(r["name"])), fam)
        r["known_lut"], r["known_ff"] = known.lut, known.ff
        r["model_bram"], r["model_dsp"] = known.bram, known.dsp
    coefs = {}
    for kind, terms_of in (("lut", lut_terms), ("ff", ff_terms)):
        tn, w = fit(rows, kind, terms_of)
        coefs[kind] = {k: round(float(v), 5) for k, v in zip(tn, w, strict=True)}
        for i, r in enumerate(rows):  # leave one out
            others = rows[:i] + rows[i + 1:]
            _, wo = fit(others, kind, terms_of)
            r[f"model_{kind}"] = predict(point_config(point(r["name"])), tn, wo, terms_of,
                                         r[f"known_{kind}"])
    return coefs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", nargs="+", default=["ecp5", "xilinx"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", nargs="+", metavar="NAME", help="a subset of the points")
    ap.add_argument("--build-root", default=str(ROOT / "results" / "resource_fit"))
    ap.add_argument("--write", action="store_true", help="write hardodt/data/resource_fit.json")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--clock", type=float, default=100.0, metavar="MHZ",
                    help="clock for the throughput column (default 100 MHz)")
    ap.add_argument("--no-software", action="store_true", help="skip the throughput table")
    args = ap.parse_args()
    names = args.only or list(POINTS)
    jobs = [(n, f) for f in args.families for n in names]
    measured: dict[tuple[str, str], dict] = {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futs = {pool.submit(synth_one, n, f, args.build_root): (n, f) for n, f in jobs}
        for i, fut in enumerate(as_completed(futs), 1):
            n, f = futs[fut]
            try:
                r = fut.result()
            except Exception as exc:  # noqa: BLE001 - reported, the others go on
                print(f"[{i}/{len(jobs)}] {n} {f}: FAILED {exc}", file=sys.stderr, flush=True)
                continue
            measured[(n, f)] = r
            print(f"[{i}/{len(jobs)}] {n} {f}: {r['lut']} LUT {r['ff']} FF {r['bram']} BRAM "
                  f"{r['dsp']} DSP ({'cached' if r['cached'] else str(r['seconds']) + ' s'}; "
                  f"{time.perf_counter() - t0:.0f} s so far)", file=sys.stderr, flush=True)

    out_fit = {"fitted_on": str(date.today()), "tool": yosys_version(),
               "points": names, "families": {}}
    table = []
    summary = {}
    for fam in args.families:
        rows = [measured[(n, fam)] for n in names if (n, fam) in measured]
        if len(rows) < 6:
            print(f"{fam}: only {len(rows)} points synthesised; no fit", file=sys.stderr)
            continue
        out_fit["families"][fam] = fit_family(rows, fam)
        errs = {k: [] for k in KEYS}
        for r in rows:
            line = {"name": r["name"], "family": fam}
            for k in KEYS:
                m, s = r[f"model_{k}"], r[k]
                e = (m - s) / s if s else (0.0 if m == 0 else float("inf"))
                errs[k].append(abs(e))
                line[f"synth_{k}"], line[f"model_{k}"], line[f"error_{k}"] = s, round(m, 1), e
            table.append(line)
        summary[fam] = {k: {"median": float(np.median(v)), "worst": float(np.max(v))}
                        for k, v in errs.items()}
    if args.write:
        path = ROOT / "hardodt" / "data" / "resource_fit.json"
        path.write_text(json.dumps(out_fit, indent=1) + "\n")
        print(f"wrote {path}", file=sys.stderr)
    if args.csv:
        with args.csv.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(table[0]))
            w.writeheader()
            w.writerows(table)
    speed = []
    if not args.no_software:
        for n in names:
            cfg = point_config(point(n))
            sw = software_speed(cfg, 20_000)
            perf = performance(cfg, 20_000, sw["trials"], sw["splits"])
            hw = args.clock * 1e6 / perf.steady_cycles_per_sample
            speed.append({"name": n, "cycles_per_sample": perf.cycles_per_sample,
                          "software_samples_per_s": sw["software_samples_per_s"],
                          "hardware_samples_per_s": hw,
                          "ratio": hw / sw["software_samples_per_s"]})
    head = f"{platform.processor() or platform.machine()}, {date.today()}, {yosys_version()}"
    if args.markdown:
        print(f"Model (leave-one-out) against yosys; {head}.\n")
        print("| point | family | LUT synth / model | FF synth / model | BRAM synth / model "
              "| DSP synth / model |")
        print("|---|---|---|---|---|---|")
        for r in table:
            cells = [f"{r[f'synth_{k}']:g} / {r[f'model_{k}']:g} ({100 * r[f'error_{k}']:+.0f} %)"
                     for k in KEYS]
            print(f"| {r['name']} | {r['family']} | " + " | ".join(cells) + " |")
        print("\n| family | " + " | ".join(f"{k} median / worst" for k in KEYS) + " |")
        print("|---|" + "---|" * len(KEYS))
        for fam, s in summary.items():
            print(f"| {fam} | " + " | ".join(f"{100 * s[k]['median']:.1f} % / "
                                              f"{100 * s[k]['worst']:.1f} %" for k in KEYS) + " |")
        if speed:
            print(f"\nThroughput at {args.clock:g} MHz (the model's cycles per sample on the "
                  f"point's 20,000-sample stream) against the golden model on the same stream, "
                  f"one core.\n")
            print("| point | cycles/sample | golden model samples/s | hardware samples/s | ratio |")
            print("|---|---|---|---|---|")
            for r in speed:
                print(f"| {r['name']} | {r['cycles_per_sample']:.4f} | "
                      f"{r['software_samples_per_s']:,.0f} | {r['hardware_samples_per_s']:,.0f} | "
                      f"{r['ratio']:.0f}x |")
    else:
        print(json.dumps({"machine": head, "summary": summary, "points": table,
                          "throughput": speed}, indent=1))
    ok = all(s[k]["median"] <= 0.10 and s[k]["worst"] <= 0.25
             for s in summary.values() for k in KEYS)
    print(f"targets (median <= 10 %, worst <= 25 %): {'met' if ok else 'NOT met'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
