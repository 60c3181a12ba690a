"""hardodt against river (and scikit-multiflow) on the same streams, side by side.

For each stream (Electricity in stream order, and the five seeded generators)
this runs, one after the other in this process on the same samples: river's
``HoeffdingTreeClassifier`` (Gaussian splitter, Gini, majority-class leaves,
the same ``n_min``, ``delta``, ``tau``, ``max_depth``) and hardodt in float and
fixed point for every ``Q`` asked; scikit-multiflow's ``HoeffdingTreeClassifier``
runs in its own environment (see ``skmultiflow_env.sh``) in a child process on
the same samples. It prints prequential accuracy for every learner and the
samples/s of each with its ratio to river.

    python benchmarks/compare.py                       # everything, ~3 minutes
    python benchmarks/compare.py --streams elec --quantiles 8 --no-skmultiflow
    python benchmarks/compare.py --json results.json --markdown
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from hardodt import Config, QuantileHoeffdingTree
from hardodt.evaluate import prequential, warm_up
from hardodt.streams import GENERATORS, bundled_electricity, generate

HERE = Path(__file__).resolve().parent
SETTINGS = dict(grace_period=200, delta=1e-3, tau=0.05, max_depth=15)


def load(name: str, samples: int, seed: int):
    return bundled_electricity() if name == "elec" else generate(name, samples, seed)


def run_river(stream) -> dict:
    from river import tree

    model = tree.HoeffdingTreeClassifier(
        grace_period=SETTINGS["grace_period"], delta=SETTINGS["delta"], tau=SETTINGS["tau"],
        max_depth=SETTINGS["max_depth"], split_criterion="gini", leaf_prediction="mc")
    xs = stream.dicts()
    ys = stream.labels.tolist()
    hits = 0
    t0 = time.perf_counter()
    for x, y in zip(xs, ys, strict=True):
        hits += model.predict_one(x) == y
        model.learn_one(x, y)
    dt = time.perf_counter() - t0
    return {"accuracy": hits / len(ys), "samples_per_s": len(ys) / dt,
            "leaves": model.n_leaves, "depth": model.height}


def run_skmultiflow(stream, python: str) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "stream.npz"
        classes = stream.classes
        y = np.array([classes.index(v) for v in stream.labels.tolist()], dtype=np.int64)
        np.savez(data, X=stream.features, y=y, n_classes=len(classes), **SETTINGS)
        proc = subprocess.run([python, str(HERE / "skmultiflow_runner.py"), str(data)],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  scikit-multiflow failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def _config(stream, number: str, q: int, rule: str | None):
    extra = {"initial_quantiles": rule} if rule else {}
    return stream.config(number=number, quantiles=q, **extra, **SETTINGS)


def run_hardodt(stream, number: str, q: int, rule: str | None) -> dict:
    cfg = _config(stream, number, q, rule)
    warm_up(cfg)
    r = prequential(QuantileHoeffdingTree(cfg), stream)
    return {"accuracy": r.accuracy, "samples_per_s": r.samples_per_s, "leaves": r.leaves,
            "depth": r.depth}


def run_hardodt_learn_one(stream, number: str, q: int, rule: str | None) -> dict:
    """The per-sample Python API (``predict_one`` then ``learn_one``), for comparison."""
    cfg = _config(stream, number, q, rule)
    model = QuantileHoeffdingTree(cfg)
    xs = stream.dicts()
    ys = stream.labels.tolist()
    hits = 0
    t0 = time.perf_counter()
    for x, y in zip(xs, ys, strict=True):
        hits += str(model.predict_one(x)) == y
        model.learn_one(x, y)
    dt = time.perf_counter() - t0
    return {"accuracy": hits / len(ys), "samples_per_s": len(ys) / dt}


def skmultiflow_python(enabled: bool) -> str | None:
    if not enabled:
        return None
    env = HERE.parent / ".venv-skmultiflow"
    proc = subprocess.run(["bash", str(HERE / "skmultiflow_env.sh"), str(env)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print("scikit-multiflow environment could not be built; running without it:\n"
              + proc.stderr.strip()[-800:], file=sys.stderr)
        return None
    return proc.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", default="elec," + ",".join(GENERATORS),
                    help="comma list: elec and/or generator names")
    ap.add_argument("--samples", type=int, default=100_000, help="samples per generator")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quantiles", default="2,4,8,16,32", help="comma list of Q")
    ap.add_argument("--speed-q", type=int, default=8, help="Q of the speed comparison")
    ap.add_argument("--initial-quantiles", default=None,
                    help="initial-quantile rule (default: the configuration's)")
    ap.add_argument("--split-delay", type=int, default=None,
                    help="hardodt's split_delay (default: the configuration's)")
    ap.add_argument("--skmultiflow", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--learn-one", action=argparse.BooleanOptionalAction, default=True,
                    help="also time the per-sample API on Electricity")
    ap.add_argument("--json", type=Path, help="write all results to this file")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables")
    args = ap.parse_args(argv)
    if args.split_delay is not None:
        SETTINGS["split_delay"] = args.split_delay
    qs = [int(q) for q in args.quantiles.split(",")]
    if args.speed_q not in qs:
        qs.append(args.speed_q)
    skm = skmultiflow_python(args.skmultiflow)
    results: dict = {"date": date.today().isoformat(), "machine": platform.platform(),
                     "python": platform.python_version(), "processor": platform.machine(),
                     "settings": SETTINGS,
                     "initial_quantiles": args.initial_quantiles or Config().initial_quantiles,
                     "streams": {}}
    for name in args.streams.split(","):
        stream = load(name, args.samples, args.seed)
        print(f"{stream.name}: {len(stream)} samples", file=sys.stderr, flush=True)
        res: dict = {"samples": len(stream), "river": run_river(stream)}
        if skm:
            res["skmultiflow"] = run_skmultiflow(stream, skm)
        for number in ("float", "fixed"):
            for q in qs:
                res[f"hardodt_{number}_q{q}"] = run_hardodt(stream, number, q,
                                                            args.initial_quantiles)
        if args.learn_one and name == "elec":
            res[f"hardodt_fixed_q{args.speed_q}_learn_one"] = run_hardodt_learn_one(
                stream, "fixed", args.speed_q, args.initial_quantiles)
        results["streams"][stream.name] = res
    report(results, qs, args.speed_q, args.markdown)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def report(results: dict, qs: list[int], speed_q: int, markdown: bool) -> None:
    sep = " | " if markdown else "  "
    streams = results["streams"]
    has_skm = any(r.get("skmultiflow") for r in streams.values())

    def row(cells):
        line = sep.join(f"{c:>12}" if i else f"{c:<18}" for i, c in enumerate(cells))
        return f"| {line} |" if markdown else line

    def rule(n):
        return "|" + "|".join(["---"] * n) + "|"

    print(f"\nPrequential accuracy (%), {results['date']}, {results['machine']}")
    head = ["stream", "river"] + (["skmultiflow"] if has_skm else []) + [
        f"Q={q} {m}" for q in qs for m in ("float", "fixed")]
    print(row(head))
    if markdown:
        print(rule(len(head)))
    for name, r in streams.items():
        cells = [name, f"{100 * r['river']['accuracy']:.2f}"]
        if has_skm:
            s = r.get("skmultiflow")
            cells.append(f"{100 * s['accuracy']:.2f}" if s else "n/a")
        for q in qs:
            for m in ("float", "fixed"):
                cells.append(f"{100 * r[f'hardodt_{m}_q{q}']['accuracy']:.2f}")
        print(row(cells))

    print(f"\nSpeed, samples/s (ratio to river), Q={speed_q}")
    head = ["stream", "river"] + (["skmultiflow"] if has_skm else []) + [
        "hardodt float", "hardodt fixed"]
    print(row(head))
    if markdown:
        print(rule(len(head)))
    for name, r in streams.items():
        base = r["river"]["samples_per_s"]
        cells = [name, f"{base:,.0f}"]
        if has_skm:
            s = r.get("skmultiflow")
            cells.append(f"{s['samples_per_s']:,.0f} ({s['samples_per_s'] / base:.2f}x)"
                         if s else "n/a")
        for m in ("float", "fixed"):
            v = r[f"hardodt_{m}_q{speed_q}"]["samples_per_s"]
            cells.append(f"{v:,.0f} ({v / base:.1f}x)")
        print(row(cells))
        lo = r.get(f"hardodt_fixed_q{speed_q}_learn_one")
        if lo:
            print(f"  per-sample API (predict_one + learn_one), fixed: {lo['samples_per_s']:,.0f}"
                  f" samples/s ({lo['samples_per_s'] / base:.2f}x river)")


if __name__ == "__main__":
    sys.exit(main())
