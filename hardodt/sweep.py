"""Design-space sweeps: the resource model on a grid, synthesis on a sample of it.

A sweep is a TOML file (docs/model.md, "Sweeps")::

    target = "ecp5"            # family or device
    clock_mhz = 100
    samples = 100000           # the stream length the cycles are counted for
    synth_sample = 4           # synthesise this many points of the grid (0: none)
    software_samples = 0       # > 0: time the golden model on a stream this long per point
    [fixed]                    # fields every point shares
    grace_period = 200
    [grid]                     # every combination of these is one point
    numeric = [2, 4, 8]
    quantiles = [4, 8, 16]
    elements = [64, 256, 1024]

A point is a plain dict of design fields (:func:`point_config` turns it into a
:class:`Config`; ``numeric``, ``categorical`` and ``classes`` stand for the
attribute lists) and :func:`evaluate_point` is a pure function of it, so the
grid can be handed to any pool (a process pool here; Dask or Ray later). The
CSV is appended point by point and a rerun skips the points it already holds.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import random
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from hardodt.config import Config, ConfigError
from hardodt.paper_model import paper_model

__all__ = ["point_config", "point_id", "point_stream", "software_speed", "evaluate_point",
           "expand_grid", "read_spec", "run_sweep", "pareto_front", "plot_sweep", "RESOURCE_KEYS"]

RESOURCE_KEYS = ("lut", "ff", "bram", "dsp")
_SPEC_KEYS = {"target", "clock_mhz", "samples", "synth_sample", "seed", "fixed", "grid",
              "workers", "software_samples"}


def point_config(point: dict[str, Any]) -> Config:
    """The configuration of a sweep point.

    ``numeric`` (a count), ``categorical`` (a list of value counts) and ``classes``
    (a count) declare the attributes; ``fraction_bits`` defaults to ``word_bits - 2``
    (inputs in [-1, 1]); ``max_leaves`` to ``elements``; ``split_delay`` to the larger
    of 128 and the hardware's minimum; every other key is a :class:`Config` field.
    """
    fields = {k: v for k, v in point.items() if k not in ("numeric", "categorical")}
    n = int(point.get("numeric", 0))
    cat = list(point.get("categorical", []))
    fields["numeric_attributes"] = n
    fields["numeric_ranges"] = [[-1.0, 1.0]] * n
    fields["categorical_values"] = cat
    fields.setdefault("classes", 2)
    if "word_bits" in fields:
        fields.setdefault("fraction_bits", int(fields["word_bits"]) - 2)
    if "elements" in fields:
        fields.setdefault("max_leaves", fields["elements"])
    fields.setdefault("split_delay", max(128, int(fields.get("max_depth", 15)) + 3))
    return Config.from_dict(fields, source="sweep point")


def point_id(point: dict[str, Any], target: str) -> str:
    """A stable identifier of (point, target): resuming matches on it."""
    text = json.dumps({"target": target, **point}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def evaluate_point(point: dict[str, Any], target: str, clock_mhz: float, samples: int,
                   synth: bool = False, build_root: str | None = None,
                   software_samples: int = 0) -> dict[str, Any]:
    """Model (and optionally synthesis) of one point: one flat row for the CSV.

    With ``software_samples``, the golden model's speed on a seeded stream of the
    point's schema too, and the hardware's speed-up over it at ``clock_mhz``.

    Pure in its arguments (synthesis results are cached by design and tool version),
    so points can run in any order and in any process.
    """
    from hardodt.estimate import estimate, performance, sample_bits

    row: dict[str, Any] = {"id": point_id(point, target), "target": target,
                           "point": json.dumps(point, sort_keys=True)}
    try:
        cfg = point_config(point)
        est = estimate(cfg, target, samples=samples)
    except ConfigError as exc:
        row["error"] = str(exc)
        return row
    perf = performance(cfg, samples)
    tput = perf.throughput(clock_mhz * 1e6, sample_bits(cfg))
    row.update({f"model_{k}": getattr(est, k) for k in (*RESOURCE_KEYS, "lutram")})
    row.update(memory_bits=est.memory_bits, cycles_per_sample=round(est.cycles_per_sample, 6),
               latency_cycles=est.latency_cycles, trial_cycles=est.trial_cycles,
               samples_per_s=round(tput["samples_per_s"]), bits_per_s=round(tput["bits_per_s"]))
    # The paper's own equations for the same attributes: a reference, not our design.
    paper = paper_model(cfg.n_numeric, cfg.n_categorical, cfg.n_classes,
                        depth=cfg.max_depth, elements=cfg.element_capacity,
                        quantiles=cfg.quantiles)
    row["paper_dsp"], row["paper_bram36"] = paper["dsp"], paper["bram36_quantile_store"]
    if software_samples:
        sw = software_speed(cfg, software_samples)
        row["software_samples_per_s"] = round(sw["software_samples_per_s"])
        row["speedup"] = round(tput["samples_per_s"] / sw["software_samples_per_s"], 1)
    if synth:
        from hardodt.synthesis import SynthesisError, synthesize

        build = Path(build_root or "results/sweep") / f"{row['id']}"
        try:
            res = synthesize(cfg, target, build)
        except SynthesisError as exc:
            row["error"] = str(exc)
            return row
        for k in (*RESOURCE_KEYS, "lutram"):
            row[f"synth_{k}"] = getattr(res, k)
        for k in RESOURCE_KEYS:
            m, s = row[f"model_{k}"], row[f"synth_{k}"]
            row[f"error_{k}"] = round((m - s) / s, 4) if s else (0.0 if m == 0 else None)
        row["synth_seconds"] = res.seconds
    return row


def point_stream(cfg: Config, samples: int, seed: int = 1):
    """A seeded stream in the point's schema, already encoded: numeric words uniform over
    the declared range, categorical values uniform, and labels from a hidden rule on the
    first attributes (so the tree has splits to find), with 10 % label noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    one = 1 << cfg.fraction_bits
    xn = rng.integers(-one, one, size=(samples, cfg.n_numeric), dtype=np.int64)
    xc = np.stack([rng.integers(0, v, size=samples) for v in cfg.categorical_values],
                  axis=1) if cfg.n_categorical else np.zeros((samples, 0), dtype=np.int64)
    score = np.zeros(samples)
    if cfg.n_numeric:
        score += xn[:, 0] / one + (xn[:, 1] / one if cfg.n_numeric > 1 else 0.0)
    if cfg.n_categorical:
        score += xc[:, 0] / max(1, cfg.categorical_values[0] - 1)
    edges = np.quantile(score, np.linspace(0, 1, cfg.n_classes + 1)[1:-1])
    y = np.searchsorted(edges, score).astype(np.int64)
    noise = rng.random(samples) < 0.1
    y[noise] = rng.integers(0, cfg.n_classes, size=int(noise.sum()))
    return xn, xc.astype(np.int64), y


def software_speed(cfg: Config, samples: int = 20_000, seed: int = 1) -> dict[str, float]:
    """The golden model's samples/s on :func:`point_stream` (after a warm-up run that
    compiles its kernels), with its split trials and splits on that stream."""
    import time

    import numpy as np

    from reference.tree import QuantileHoeffdingTree

    xn, xc, y = point_stream(cfg, samples, seed)
    learn = np.ones(samples, dtype=bool)
    QuantileHoeffdingTree(cfg)._run(xn[:100], xc[:100], y[:100], learn[:100])
    model = QuantileHoeffdingTree(cfg)
    t0 = time.perf_counter()
    model._run(xn, xc, y, learn)
    secs = time.perf_counter() - t0
    return {"software_samples_per_s": samples / secs, "trials": model.stats["split_trials"],
            "splits": model.stats["splits"]}


def expand_grid(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the ``[grid]`` lists, each merged over ``[fixed]``."""
    grid = spec.get("grid", {})
    for k, v in grid.items():
        if not isinstance(v, list) or not v:
            raise ConfigError(f"grid.{k}: expected a non-empty list of values, got {v!r}")
    keys = sorted(grid)
    points = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        points.append({**spec.get("fixed", {}), **dict(zip(keys, combo, strict=True))})
    return points


def read_spec(path: Path) -> dict[str, Any]:
    try:
        spec = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such sweep file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; a sweep has "
                          f"{sorted(_SPEC_KEYS)}")
    if not spec.get("grid"):
        raise ConfigError(f"{path}: a [grid] table with at least one list is required")
    return spec


def _done_ids(csv_path: Path) -> dict[str, dict[str, str]]:
    if not csv_path.is_file():
        return {}
    with csv_path.open() as f:
        return {r["id"]: r for r in csv.DictReader(f) if r.get("id")}


_COLUMNS = ["id", "target", "point", *(f"model_{k}" for k in (*RESOURCE_KEYS, "lutram")),
            "memory_bits", "cycles_per_sample", "latency_cycles", "trial_cycles",
            "samples_per_s", "bits_per_s", "software_samples_per_s", "speedup",
            "paper_dsp", "paper_bram36",
            *(f"synth_{k}" for k in (*RESOURCE_KEYS, "lutram")),
            *(f"error_{k}" for k in RESOURCE_KEYS), "synth_seconds", "error"]


def run_sweep(spec: dict[str, Any], out_csv: Path, *, workers: int = 2,
              progress: Callable[[int, int], None] | None = None,
              build_root: Path | None = None) -> list[dict[str, Any]]:
    """Evaluate every grid point not yet in ``out_csv`` and append it; return all rows.

    The model runs in this process (thousands of points per second); the sampled
    synthesis points run in a process pool of ``workers``.
    """
    target = spec.get("target", "ecp5")
    clock = float(spec.get("clock_mhz", 100.0))
    samples = int(spec.get("samples", 100_000))
    software = int(spec.get("software_samples", 0))
    points = expand_grid(spec)
    n_synth = int(spec.get("synth_sample", 0))
    rng = random.Random(spec.get("seed", 1))
    synth_ids = {point_id(p, target) for p in rng.sample(points, min(n_synth, len(points)))}
    done = _done_ids(out_csv)
    todo = [p for p in points if point_id(p, target) not in done
            or (point_id(p, target) in synth_ids and not done[point_id(p, target)].get("synth_lut"))]
    total, finished = len(points), len(points) - len(todo)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    new_file = not out_csv.is_file()
    rows_by_id: dict[str, dict[str, Any]] = dict(done)
    with out_csv.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_COLUMNS, extrasaction="ignore")
        if new_file:
            writer.writeheader()

        def record(row: dict[str, Any]) -> None:
            nonlocal finished
            writer.writerow(row)
            f.flush()
            rows_by_id[row["id"]] = row
            finished += 1
            if progress:
                progress(finished, total)

        heavy = [p for p in todo if point_id(p, target) in synth_ids]
        for p in todo:
            if point_id(p, target) not in synth_ids:
                record(evaluate_point(p, target, clock, samples, software_samples=software))
        if heavy:
            root = str(build_root or out_csv.parent / "builds")
            with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
                futures = [pool.submit(evaluate_point, p, target, clock, samples, True, root,
                                       software) for p in heavy]
                for fut in as_completed(futures):
                    record(fut.result())
    # The file may hold a model-only row and later its synthesised row: keep the last.
    return [_typed(r) for r in _dedupe(out_csv).values()]


def _typed(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row with its numbers as numbers and empty cells as None."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if v in ("", None):
            out[k] = None
        elif k in ("id", "target", "point", "error"):
            out[k] = v
        else:
            num = float(v)
            out[k] = int(num) if num.is_integer() and "." not in v else num
    return out


def _dedupe(csv_path: Path) -> dict[str, dict[str, str]]:
    rows = _done_ids(csv_path)
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows.values():
            writer.writerow(r)
    return rows


def _num(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def pareto_front(rows: Iterable[dict[str, Any]], cost: str = "model_lut",
                 gain: str = "bits_per_s") -> list[dict[str, Any]]:
    """Points no other point beats on both ``cost`` (lower) and ``gain`` (higher)."""
    pts = [r for r in rows if _num(r.get(cost)) is not None and _num(r.get(gain)) is not None]
    pts.sort(key=lambda r: (_num(r[cost]), -_num(r[gain])))
    front, best = [], float("-inf")
    for r in pts:
        if _num(r[gain]) > best:
            front.append(r)
            best = _num(r[gain])
    return front


def plot_sweep(rows: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """PNG plots: LUTs against throughput (bits/s: designs for wider samples are not
    penalised for taking more per sample) with the Pareto front; model against synthesis
    per resource with each point's error. Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    ok = [r for r in rows if not r.get("error") and _num(r.get("model_lut")) is not None]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([_num(r["model_lut"]) for r in ok], [_num(r["bits_per_s"]) / 1e9 for r in ok],
               s=10, alpha=0.5, label="design points (model)")
    front = pareto_front(ok)
    ax.plot([_num(r["model_lut"]) for r in front], [_num(r["bits_per_s"]) / 1e9 for r in front],
            "r.-", label="Pareto front")
    ax.set_xlabel("LUTs (model)")
    ax.set_ylabel("throughput (Gbit/s of samples)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out_dir / "pareto.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    measured = [r for r in ok if _num(r.get("synth_lut")) is not None]
    if measured:
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
        for ax, k in zip(axes, RESOURCE_KEYS, strict=True):
            xs = [_num(r[f"synth_{k}"]) for r in measured]
            ys = [_num(r[f"model_{k}"]) for r in measured]
            ax.scatter(xs, ys, s=14)
            hi = max(xs + ys + [1])
            ax.plot([0, hi], [0, hi], "k--", lw=0.8)
            errs = [abs(_num(r[f"error_{k}"])) for r in measured
                    if _num(r.get(f"error_{k}")) is not None]
            med = sorted(errs)[len(errs) // 2] if errs else float("nan")
            ax.set_title(f"{k}: median |error| {100 * med:.1f} %")
            ax.set_xlabel("synthesis")
            ax.set_ylabel("model")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out_dir / "model_vs_synthesis.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
