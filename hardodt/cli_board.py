"""The board commands of the CLI: ``hardodt boards``, ``hardodt build``, ``hardodt stream``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_board_commands"]


def _board_design(args: argparse.Namespace, spec):
    """The configuration to build or stream with: --config / a stream as for `generate`, else the
    board's own default (hardodt/data/boards)."""
    from hardodt.boards import board_config
    from hardodt.cli import _design_config

    if args.config is None and args.stream is None and not args.generator:
        from hardodt.cli import _declared

        _declared_fields, overrides = _declared(args)
        base = board_config(spec)
        if overrides:
            from hardodt.config import Config

            changed = ", ".join(f"{k} = {v!r}" for k, v in sorted(overrides.items()))
            return (f"{spec.name} default with {changed}",
                    Config.from_dict({**base.to_dict(), **overrides}))
        return f"{spec.name} default ({spec.config or 'Electricity schema'})", base
    return _design_config(args)


def _cmd_boards(args: argparse.Namespace) -> int:
    from hardodt.boards import describe

    rows = describe()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'board':<12} {'flow':<9} {'output':<22} {'clock':>9}  {'default config':<16} "
          f"{'stats':<6} {'load':<5} {'placement':<10} {'router':<8} {'reset':<7} board")
    for r in rows:
        print(f"{r['board']:<12} {r['flow']:<9} {r['output']:<22} {r['learner_clock_mhz']:>5.2f} MHz"
              f"  {r['config']:<16} {r['stats']:<6} {'yes' if r['load'] else 'no':<5} "
              f"{r['placement'] or '-':<10} {r['router'] or '-':<8} "
              f"{'global' if r['global_reset'] else '-':<7} {r['board_description']}")
    print("\nicestorm / trellis: yosys + nextpnr + icepack / ecppack from the YoWASP wheels "
          "(bitstream); vivado: Verilog and constraints only (--no-bitstream), AMD Vivado runs next;\n"
          "stats: what STATS reports (basic: samples, splits, leaves, mistakes, link errors);\n"
          "load: the link takes a tree at run time (LOAD; `hardodt stream --load`);\n"
          "placement, router: nextpnr's by default (--placement, --router);\n"
          "reset: global where the learner's reset goes through an ECP5 global buffer (DCCA); "
          "elsewhere nextpnr routes it as it decides.")
    return 0


def _preloaded(args: argparse.Namespace, spec):
    """``(source, config, model)``: with --preload the tree and its configuration (unless
    --config or a stream names one); else the board's design and no model."""
    if args.preload is None:
        source, cfg = _board_design(args, spec)
        return source, cfg, None
    from hardodt.cli import _design_config, tree_config
    from reference import QuantileHoeffdingTree

    model = QuantileHoeffdingTree.load(args.preload)
    if args.config is None and args.stream is None and not args.generator:
        return str(args.preload), tree_config(model, args), model
    source, cfg = _design_config(args)
    return source, cfg, model


def _cmd_build(args: argparse.Namespace) -> int:
    from hardodt.boards import board, build

    spec = board(args.board)
    source, cfg, model = _preloaded(args, spec)
    out = args.output or Path("results") / "build" / spec.name
    quiet = args.json
    started = time.perf_counter()

    def say(text: str) -> None:
        if not quiet:
            print(f"... [{time.perf_counter() - started:6.0f} s] {text}", file=sys.stderr, flush=True)

    report = build(cfg, spec, out, baud=args.baud, clock_divide=args.clock_divide,
                   bitstream=not args.no_bitstream, seed=args.seed, stats=args.stats, preload=model,
                   load=args.load, progress=say, router=args.router, placer=args.placer,
                   placement=args.placement,
                   router_patience=args.router_patience)
    report["design"] = source
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"board       {spec.name}: {report['device']}, {spec.flow} flow; design: {source}")
    print(f"clock       learner at {report['learner_clock_mhz']:g} MHz (oscillator "
          f"{report['oscillator_mhz']:g} MHz / {report['clock_divide']}); UART {report['baud']} baud "
          f"({report['divisor']} cycles per bit, {report['baud_error_percent']:+.2f} %)")
    print(f"fingerprint {report['fingerprint']} (the board reports it; `hardodt stream` checks it)")
    if "fmax_mhz" in report:
        verdict = "met" if report["timing_met"] else "NOT MET: raise --clock-divide"
        cp = report["critical_path"]
        print(f"timing      Fmax {report['fmax_mhz']:.2f} MHz against {report['learner_clock_mhz']:g} MHz: "
              f"{verdict} (critical path {', '.join(cp.get('from_source') or [cp.get('from', '?')])}"
              f" -> {', '.join(cp.get('to_source') or [cp.get('to', '?')])}, "
              f"{cp.get('logic_levels', '?')} logic levels)")
        for name, u in report["utilisation"].items():
            if u["used"]:
                print(f"  {name:<22} {u['used']:>7,} of {u['available']:>7,} "
                      f"({100 * u['used'] / u['available']:.1f} %)")
        print(f"bitstream   {report['bitstream']}")
        times = ", ".join(f"{k} {v:g} s" for k, v in report["seconds"].items())
        print(f"time        {times}")
    else:
        print(f"files       {', '.join(report['files'])} in {report['build_dir']}")
        print(f"next        {report['next']}")
    for note in report.get("notes", []):
        print(f"note        {note}")
    return 0 if report.get("timing_met", True) else 1


def _print_live(res, total: int, session, started: float, final: bool = False) -> None:
    rate = res.samples / max(time.monotonic() - started, 1e-9)
    line = (f"\r{res.samples:>9,}/{total:,} samples  accuracy {100 * res.accuracy:6.2f} %  "
            f"{rate:8,.0f} samples/s  resends {session.resends}  mismatches {len(res.mismatches)}")
    print(line, end="\n" if final else "", file=sys.stderr, flush=True)


async def _stream_serial(args, cfg, xn, xc, y, learn, preload=None, load=None) -> dict[str, Any]:
    from hardodt.driver import Board, SerialTransport
    from reference import QuantileHoeffdingTree
    from sim.readback import golden_tree

    board = Board(SerialTransport(args.port, args.baud), cfg, args.baud, latency=args.latency)
    info = await board.hello()
    if load is not None:  # the tree over the link (LOAD), then on from it
        t0 = time.monotonic()

        def loading(done, total):
            print(f"\rloading the tree: {done:,}/{total:,} frames", end="", file=sys.stderr,
                  flush=True)

        frames = await board.load(load, on_progress=loading)
        print(f"\rloaded the tree: {frames:,} frames in {time.monotonic() - t0:.1f} s",
              file=sys.stderr, flush=True)
        golden = load
    elif preload is None:
        await board.reset()
        golden = QuantileHoeffdingTree(cfg)
    else:  # the board starts from the tree it was built with: no RESET (that empties it)
        golden = preload
    started = time.monotonic()
    shown = [0.0]

    def progress(res):
        now = time.monotonic()
        if now - shown[0] > 0.5:
            shown[0] = now
            _print_live(res, len(y), board.session, started)

    def mismatch(i, hw, gold):  # at once, on its own line
        name = cfg.classes[hw] if hw < len(cfg.classes) else f"class index {hw}"
        print(f"\nMISMATCH at sample {i}: board predicted {name}, golden model {cfg.classes[gold]}",
              file=sys.stderr, flush=True)

    res = await board.stream(xn, xc, y, learn, golden=golden, on_progress=progress,
                             on_mismatch=mismatch)
    _print_live(res, len(y), board.session, started, final=True)
    report = {"samples": res.samples, "mismatches": len(res.mismatches),
              "first_mismatch": res.mismatches[0] if res.mismatches else None,
              "accuracy": res.accuracy, "seconds": res.seconds,
              "samples_per_second": res.samples / res.seconds if res.seconds else 0.0,
              "stats_hardware": res.stats, "resends": board.session.resends,
              "rejections": board.session.rejections_text(), "clock_hz": info.clock_hz}
    if args.tree:
        hw_tree = await board.tree()
        report["tree_agrees"] = hw_tree == golden_tree(golden)
    gold = {k: v & 0xFFFFFFFF for k, v in golden.stats.items() if k in res.stats}
    report["stats_agree"] = all(res.stats[k] == v for k, v in gold.items())
    return report


def _cmd_stream(args: argparse.Namespace) -> int:
    from hardodt.boards import board
    from sim.cosim import CosimulationMismatch, encode_stream

    if (args.port is None) == (not args.sim):
        raise ValueError("give --port DEVICE (a board) or --sim (the board's top level in Verilator)")
    from hardodt.cli import _declared, _load_stream

    spec = board(args.board) if args.board else None
    stream = _load_stream(args)
    model = None
    if args.preload is not None and args.load is not None:
        raise ValueError("--preload (the board was built with the tree) or --load (send the tree "
                         "over the link), not both")
    tree_file = args.preload if args.preload is not None else args.load
    if tree_file is not None:
        from reference import QuantileHoeffdingTree

        model = QuantileHoeffdingTree.load(tree_file)
    if model is not None and args.config is None:  # the board runs the tree's design
        from hardodt.cli import tree_config

        cfg = tree_config(model, args)
    elif spec is not None and args.config is None and args.stream is None and not args.generator:
        _source, cfg = _board_design(args, spec)
    else:
        declared, overrides = _declared(args)
        cfg = stream.config(declared, **overrides)
    if model is not None:  # the tree must fit the design it goes to, before anything runs
        from rtl.params import HardwareParams
        from rtl.preload import preload_image

        preload_image(HardwareParams(cfg), model)
    xn, xc, y = encode_stream(cfg, stream)
    if args.limit is not None:
        xn, xc, y = xn[:args.limit], xc[:args.limit], y[:args.limit]
    import numpy as np

    learn = np.ones(len(y), dtype=bool)
    # the tree: the one the board was built with (--preload), or one to send (--load)
    built_with, to_load = (None, model) if args.load is not None else (model, None)
    if args.port is not None:
        report = asyncio.run(_stream_serial(args, cfg, xn, xc, y, learn, preload=built_with,
                                            load=to_load))
        ok = report["mismatches"] == 0 and report["stats_agree"] and report.get("tree_agrees", True)
    else:
        from hardodt.progress import Progress
        from sim.board_sim import simulate_board

        faults = {}
        for item in args.faults or []:
            key, _, value = item.partition("=")
            if key not in ("corrupt", "drop", "reply_corrupt", "seed"):
                raise ValueError(f"--faults {item}: one of corrupt=P, drop=P, reply_corrupt=P, seed=N")
            faults[key] = float(value) if key != "seed" else int(value)
        build = args.build_dir or Path("results") / "stream-sim"
        show = Progress(f"streaming {stream.name} (simulated board)",
                        enabled=None if not args.json else False)
        try:
            report = simulate_board(cfg, xn, xc, y, learn, build_dir=build, divisor=args.sim_divisor,
                                    faults=faults, progress=show, stats=spec.stats if spec else "all",
                                    preload=built_with, load_tree=to_load,
                                    load=spec.load if spec else True,
                                    stage=None if args.json else
                                    (lambda t: print(f"... {t}", file=sys.stderr, flush=True)))
            ok = True
        except CosimulationMismatch as exc:
            report, ok = exc.report, False
    report["stream"] = stream.name
    if args.json:
        print(json.dumps(report, indent=1))
        return 0 if ok else 1
    n = report["samples"]
    where = args.port or f"simulated board (Verilator, {args.sim_divisor} cycles per bit)"
    print(f"stream      {stream.name}: {n} samples through {where}")
    if ok:
        also = ", the statistics" + (" and the tree read back" if report.get("tree_agrees") else "")
        print(f"agreement   every prediction{also} equal the golden model's")
    else:
        print(f"agreement   MISMATCH: {report['mismatches']} predictions differ (first: "
              f"{report.get('first_mismatch')}); statistics or tree differ: see the report")
    print(f"accuracy    {100 * report['accuracy']:.2f} % (prequential)")
    if "link_efficiency" in report:
        print(f"link        {report['samples_per_second']:,.0f} samples/s of simulated time, "
              f"{100 * report['link_efficiency']:.1f} % of what the UART allows "
              f"({report['uart_cap_samples_per_second']:,.0f}/s); {report['resends']} resends, "
              f"rejections {report['rejections'] or 'none'}")
    else:
        print(f"link        {report['samples_per_second']:,.0f} samples/s; {report['resends']} resends "
              f"({report['rejections']})")
    return 0 if ok else 1


def add_board_commands(sub, conf, stream_arguments) -> None:
    from hardodt.boards import BOARDS

    boards = sub.add_parser("boards", help="list the boards `hardodt build` supports",
                            description="The boards, their flow (open: a bitstream; vivado: Verilog "
                                        "and constraints), the learner's clock and default design.")
    boards.add_argument("--json", action="store_true")
    boards.set_defaults(func=_cmd_boards)

    build = sub.add_parser(
        "build", parents=[conf], help="build the learner for a board (bitstream or Verilog)",
        description="Wrap the learner in the board's top level (UART host link, LEDs: activity and "
                    "errors, reset button; docs/protocol.md) on its amaranth-boards platform, and "
                    "build it with yosys, nextpnr and the bitstream packer from the YoWASP wheels. "
                    "Writes the bitstream and board.json (utilisation, Fmax against the learner's "
                    "clock). The design: --config / a stream as for `generate`, else the board's "
                    "default. Exits 1 when the clock is not met.")
    stream_arguments(build, 10_000)
    build.add_argument("--board", required=True, choices=sorted(BOARDS))
    build.add_argument("--no-bitstream", action="store_true",
                       help="stop after the Verilog/RTLIL and constraints (the only output for "
                            "boards whose vendor tools are not open)")
    build.add_argument("--baud", type=int, default=115200, help="UART baud rate (default 115200)")
    build.add_argument("--clock-divide", type=int, metavar="N",
                       help="learner clock = oscillator / N, a power of two (default: the board's)")
    build.add_argument("--stats", choices=("all", "basic"),
                       help="what STATS reports: every counter, or the basic ones (samples, splits, "
                            "leaves, mistakes, link errors; the learner's other counters are left "
                            "out: for small FPGAs); default: the board's")
    build.add_argument("--preload", type=Path, metavar="TREE.json",
                       help="start from a tree learned in software (`hardodt learn --tree`): its "
                            "memories and counters as the board's initial state; the configuration "
                            "comes from the tree unless --config or a stream is given")
    build.add_argument("--load", dest="load", action="store_true", default=None,
                       help="the host link takes LOAD: a tree sent at run time (`hardodt stream "
                            "--load`); default: the board's (`hardodt boards`)")
    build.add_argument("--no-load", dest="load", action="store_false",
                       help="leave LOAD out (its row buffer and the learner's load paths)")
    build.add_argument("--placer-seed", dest="seed", type=int, default=1, help="nextpnr seed")
    from hardodt.pnr import add_nextpnr_options

    add_nextpnr_options(build)
    build.add_argument("-o", "--output", type=Path, metavar="DIR",
                       help="build folder (default results/build/BOARD)")
    build.add_argument("--json", action="store_true", help="print the report as JSON")
    build.set_defaults(func=_cmd_build)

    stream = sub.add_parser(
        "stream", parents=[conf], help="stream samples to a board and check it live",
        description="Send a stream to a board running the learner (`hardodt build`) over its UART, "
                    "test-then-train, with the golden model beside it: prints prequential accuracy "
                    "live and reports any prediction that differs at once; then the statistics "
                    "(and with --tree the learned tree) are compared. The board must run the "
                    "design of this configuration (its fingerprint is checked). --sim runs the "
                    "board's top level in Verilator instead, through its UART pins. Exits 1 on a "
                    "mismatch.")
    stream_arguments(stream, 10_000)
    stream.add_argument("--board", choices=sorted(BOARDS),
                        help="use the board's default design when no --config is given")
    stream.add_argument("--port", metavar="DEVICE", help="serial port, e.g. /dev/ttyUSB0")
    stream.add_argument("--baud", type=int, default=115200, help="as built (default 115200)")
    stream.add_argument("--latency", type=float, default=0.05, metavar="S",
                        help="round-trip latency the serial adapter adds (resend timer; default 0.05)")
    stream.add_argument("--tree", action="store_true",
                        help="read the learned tree back at the end and compare it (slow at 115200 baud)")
    stream.add_argument("--sim", action="store_true",
                        help="the simulated board (Verilator) instead of a serial port")
    stream.add_argument("--sim-divisor", type=int, default=8, metavar="N",
                        help="--sim: clock cycles per UART bit (default 8)")
    stream.add_argument("--faults", action="append", metavar="KIND=P",
                        help="--sim: corrupt=P, drop=P (host bytes), reply_corrupt=P, seed=N")
    stream.add_argument("--preload", type=Path, metavar="TREE.json",
                        help="the board was built with this tree (`hardodt build --preload`): the "
                             "golden model starts from it and the board is not reset")
    stream.add_argument("--load", type=Path, metavar="TREE.json",
                        help="send this tree to the board first (LOAD frames, docs/protocol.md; "
                             "the board's design must take LOAD) and continue it; the "
                             "configuration comes from the tree unless --config is given")
    stream.add_argument("--limit", type=int, metavar="N", help="only the first N samples")
    stream.add_argument("--build-dir", type=Path, metavar="DIR",
                        help="--sim: where the simulator is built (default results/stream-sim)")
    stream.add_argument("--json", action="store_true", help="print the report as JSON")
    stream.set_defaults(func=_cmd_stream)
