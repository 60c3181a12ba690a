"""Long runs: a million samples through the golden model, and a long co-simulation.

Golden model: one million seeded SEA samples in chunks of 100,000, with every
counter checked after each chunk (samples add up, learned + frozen + inactive
= learn requests, no leaf count above 2^count_bits - 1, the tree within
max_leaves and its node and element pools) and the process's resident memory
measured after each chunk: it must stay flat (the model's arrays are sized by
the configuration, not by the stream). Co-simulation (``--cosim N``, default
200,000): the same kind of stream through Verilator against the golden model,
bit-exact on every prediction, the counters and the final tree.

    python benchmarks/long_run.py [--samples 1000000] [--cosim 200000] [--markdown]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hardodt.streams.generators import generate  # noqa: E402
from reference import QuantileHoeffdingTree  # noqa: E402
from sim.cosim import encode_stream  # noqa: E402


def rss_mib() -> float:
    """Resident memory of this process now (Linux /proc), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check(model: QuantileHoeffdingTree, seen: int) -> list[str]:
    """What is wrong with the model's counters after ``seen`` samples (all learn requests)."""
    cfg, st = model.config, model.stats
    problems = []
    if st["samples"] != seen:
        problems.append(f"samples {st['samples']} != {seen}")
    if st["learned"] + st["frozen_samples"] + st["inactive_samples"] != seen:
        problems.append("learned + frozen + inactive != learn requests")
    if model.n_leaves > cfg.max_leaves:
        problems.append(f"{model.n_leaves} leaves > max_leaves {cfg.max_leaves}")
    if model.n_nodes > 2 * cfg.max_leaves - 1:
        problems.append(f"{model.n_nodes} nodes > {2 * cfg.max_leaves - 1}")
    if model.n_elements_used > cfg.element_capacity:
        problems.append("more elements than the pool")
    used = model.n_elements_used
    if (model._elem[0][:used] > cfg.fixed.count_max).any() or \
            (model._elem[1][:used] > cfg.fixed.count_max).any():
        problems.append("a count above 2^count_bits - 1")
    if st["splits"] != model.n_leaves - 1:
        problems.append(f"splits {st['splits']} != leaves - 1")
    return problems


def golden_run(samples: int, chunk: int = 100_000) -> dict:
    stream = generate("sea", samples, seed=42)
    cfg = stream.config(grace_period=200, max_leaves=256, elements=128, count_bits=16)
    xn, xc, y = encode_stream(cfg, stream)
    model = QuantileHoeffdingTree(cfg)
    learn = np.ones(len(y), dtype=bool)
    model._run(xn[:1000], xc[:1000], y[:1000], learn[:1000])  # compile, then start over
    model = QuantileHoeffdingTree(cfg)
    rss, problems, seconds = [], [], 0.0
    hits = 0
    for start in range(0, samples, chunk):
        stop = min(samples, start + chunk)
        t0 = time.perf_counter()
        pred = model._run(xn[start:stop], xc[start:stop], y[start:stop], learn[start:stop])
        seconds += time.perf_counter() - t0
        hits += int((pred == y[start:stop]).sum())
        problems += [f"after {stop}: {p}" for p in check(model, stop)]
        rss.append(round(rss_mib(), 1))
    st = model.stats
    return {"samples": samples, "seconds": round(seconds, 1), "accuracy": hits / samples,
            "leaves": model.n_leaves, "max_leaves": cfg.max_leaves,
            "elements_used": model.n_elements_used, "elements": cfg.element_capacity,
            "frozen_samples": st["frozen_samples"], "inactive_samples": st["inactive_samples"],
            "trials_skipped_leaves": st["trials_skipped_leaves"],
            "rss_mib_per_chunk": rss, "rss_growth_mib": round(rss[-1] - rss[0], 1),
            "problems": problems}


def cosim_run(samples: int) -> dict:
    from sim.cosim import cosimulate

    stream = generate("sea", samples, seed=43)
    cfg = stream.config(grace_period=200, max_depth=8, max_leaves=64, elements=32,
                        count_bits=12, split_delay=64)
    xn, xc, y = encode_stream(cfg, stream)
    with tempfile.TemporaryDirectory(prefix="hardodt-long-") as tmp:
        t0 = time.perf_counter()
        r = cosimulate(cfg, xn, xc, y, build_dir=Path(tmp), gap=0.05, stall=0.05, seed=3)
    return {"samples": r["samples"], "mismatches": r["mismatches"],
            "tree_agrees": r["tree_agrees"], "stats_agree": r["stats_hardware"] == r["stats_golden"],
            "splits": r["stats_golden"]["splits"], "leaves": r["leaves"],
            "frozen_samples": r["stats_golden"]["frozen_samples"],
            "inactive_samples": r["stats_golden"]["inactive_samples"],
            "trials_skipped_leaves": r["stats_golden"]["trials_skipped_leaves"],
            "cycles_per_sample": r["cycles_per_sample"], "seconds": round(time.perf_counter() - t0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--cosim", type=int, default=200_000, help="0: skip the co-simulation")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    out = {"machine": f"{platform.processor() or platform.machine()}, {date.today()}",
           "golden": golden_run(args.samples)}
    if args.cosim:
        out["cosim"] = cosim_run(args.cosim)
    ok = not out["golden"]["problems"] and (
        not args.cosim or (out["cosim"]["mismatches"] == 0 and out["cosim"]["tree_agrees"]
                           and out["cosim"]["stats_agree"]))
    if not args.markdown:
        print(json.dumps(out, indent=1))
        return 0 if ok else 1
    g = out["golden"]
    print(f"Long runs ({out['machine']}; `python benchmarks/long_run.py --markdown`).\n")
    print(f"- golden model: {g['samples']:,} SEA samples in {g['seconds']} s, accuracy "
          f"{100 * g['accuracy']:.2f} %, {g['leaves']} of {g['max_leaves']} leaves, "
          f"{g['elements_used']} of {g['elements']} elements, {g['frozen_samples']:,} frozen "
          f"and {g['inactive_samples']:,} inactive samples, {g['trials_skipped_leaves']:,} "
          f"trials skipped at the leaf limit; counters checked every 100,000 samples: "
          f"{len(g['problems'])} problems; resident memory {g['rss_mib_per_chunk'][0]} MiB "
          f"after the first chunk, {g['rss_mib_per_chunk'][-1]} MiB after the last "
          f"({g['rss_growth_mib']:+} MiB).")
    if args.cosim:
        c = out["cosim"]
        print(f"- co-simulation: {c['samples']:,} SEA samples in {c['seconds']} s, "
              f"{c['mismatches']} mismatches, tree {'equal' if c['tree_agrees'] else 'DIFFERS'}, "
              f"counters {'equal' if c['stats_agree'] else 'DIFFER'}; {c['splits']} splits, "
              f"{c['leaves']} leaves, {c['frozen_samples']:,} frozen and "
              f"{c['inactive_samples']:,} inactive samples, {c['trials_skipped_leaves']:,} "
              f"trials skipped at the leaf limit; {c['cycles_per_sample']:.4f} cycles per sample.")
    for p in g["problems"]:
        print(f"PROBLEM {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
