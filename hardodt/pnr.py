"""Place and route with nextpnr from the YoWASP wheels: Fmax, utilisation, critical path.

The design is the learner inside :class:`rtl.pnr_shell.PinShell` (a few pins,
every learner port registered), or one of its units alone inside
:class:`rtl.unit_shell.UnitShell` (the ceiling that unit's own logic sets on
the clock), synthesised by :mod:`hardodt.synthesis` to a
JSON netlist, then placed and routed for a device of :mod:`hardodt.devices`
with ``--timing-allow-fail``: the achieved Fmax is the figure, not a pass or a
fail. nextpnr's ``--report`` JSON gives the Fmax per clock, the utilisation
per cell type and the critical path, whose start and end are reported by the
names of the cells (the learner's signal names). Results are cached like
synthesis results, keyed by the netlist, the arguments and the tool version.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from hardodt.config import Config
from hardodt.devices import Device, device
from hardodt.synthesis import SynthesisError, ToolStopped, cache_dir, run_tool, synthesize, tool_command

__all__ = ["CLOCK_PINS", "PLACERS", "ROUTER_PATIENCE", "ROUTERS", "STALL_RESEEDS", "PnrError",
           "PnrResult", "RouterWatch", "add_nextpnr_options", "check_fits", "check_patience",
           "clock_constraint", "default_placer", "design_sources", "first_error",
           "nextpnr_args", "out_of_cells", "parse_report", "place_and_route", "placement_args",
           "source_line", "top_module"]


class PnrError(RuntimeError):
    """nextpnr did not run or did not finish; the message names the log."""


@dataclass
class PnrResult:
    device: str
    fmax_mhz: float
    clock_mhz: float
    utilisation: dict[str, dict[str, int]]
    critical_path: dict[str, Any]
    synth: dict[str, Any]
    tool: str
    seconds: float
    cached: bool
    build_dir: str
    notes: list[str] = field(default_factory=list)
    placer: str = ""  # nextpnr's (results cached before it was recorded: empty)
    placement: str = "timing"  # what the placer minimised (PLACEMENTS)
    router: str = ""
    seed: int = 0
    routed: bool = True  # False: placed only (--no-route), the Fmax is nextpnr's estimate
    unit: str = ""  # a unit placed alone (rtl.unit_shell.UNITS); "": the whole learner

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tool(dev: Device) -> tuple[str, str]:
    from hardodt.devices import FAMILIES

    fam = FAMILIES[dev.family].pnr
    if fam is None:
        raise PnrError(f"{dev.name}: no open place-and-route for the {dev.family} family "
                       f"(nextpnr builds ECP5 and iCE40 devices: "
                       f"{', '.join(d for d in _open_devices())})")
    return f"yowasp-nextpnr-{fam}", f"yowasp-nextpnr-{fam}"


def _open_devices() -> list[str]:
    from hardodt.devices import DEVICES

    return [d.name for d in DEVICES.values() if d.pnr_device]


def tool_version(dev: Device) -> str:
    _cmd, pkg = _tool(dev)
    try:
        return f"{pkg} {metadata.version(pkg)}"
    except metadata.PackageNotFoundError:
        raise PnrError(f"the '{pkg}' package is not installed (pip install {pkg})") from None


ROUTERS = ("router2", "router1")
PLACERS = ("static", "heap")


def default_placer(dev: Device) -> str:
    """The placer a device gets unless one is asked for.

    ECP5: ``static`` (nextpnr's electrostatic placer). With HeAP, nextpnr's default,
    router2 did not converge on the learner on an LFE5U-85F even at 23 % of its logic
    cells (the monitored FIR, docs/power.md): it packs cells densely around the block
    RAMs and DSPs; the same netlist placed by ``static`` routed in 68 iterations.
    iCE40: ``heap``, with which the iCEBreaker build was measured (99 % of the UP5K).
    When the default fails, ``place_and_route`` places again (the next seed, then ``heap``)
    and the board builds with the next seed; both say so in their notes.
    """
    return "static" if dev.family == "ecp5" else "heap"


#: What the placer minimises: nextpnr's default weighs each net by its timing criticality;
#: ``wirelength`` (nextpnr ``--no-tmdriv``) minimises wire alone, for a design whose routing
#: does not converge and whose clock has slack (docs/model.md, "Place and route")
PLACEMENTS = ("timing", "wirelength")


def placement_args(dev: Device, router: str = "router2", placer: str | None = None,
                   placement: str | None = None) -> list[str]:
    """nextpnr's ``--placer``, ``--router`` and what the placer minimises (the first of
    :data:`PLACEMENTS` unless given), checked (``hardodt pnr``, board builds)."""
    # router2 by default: router1 stalls for hours on the default design (45k LUTs on an 85F);
    # on smaller designs that router2 does not converge on, router1 may finish
    if router not in ROUTERS:
        raise PnrError(f"router must be one of {', '.join(ROUTERS)}, not {router!r}")
    placer = placer or default_placer(dev)
    if placer not in PLACERS:
        raise PnrError(f"placer must be one of {', '.join(PLACERS)}, not {placer!r}")
    placement = placement or PLACEMENTS[0]
    if placement not in PLACEMENTS:
        raise PnrError(f"placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
    return ["--placer", placer, "--router", router, *(["--no-tmdriv"] if placement == "wirelength" else [])]


#: nextpnr's words for a design with more cells than the device: no other placement helps
OUT_OF_CELLS = ("Failed to expand region", "Unable to place")


def first_error(text: str) -> str | None:
    """nextpnr's first ``ERROR`` line in its output and log, if any."""
    return next((ln for ln in text.splitlines() if "ERROR" in ln), None)


def out_of_cells(text: str) -> bool:
    """Whether nextpnr failed for want of logic cells (``OUT_OF_CELLS``)."""
    return any(words in text for words in OUT_OF_CELLS)


#: Iterations router2 may go without a new fewest count of overused wires (at least as many
#: as it took to reach that count) before its run is ended as not converging: nextpnr itself
#: never gives up. An iCEBreaker build that reached 3 at iteration 96 then took until 820 to
#: reach 2 and was still at 2 at iteration 3,849; routed placements have got to 0 within
#: 137 (iCE40) and 68 (ECP5) iterations.
ROUTER_PATIENCE = 100
#: Placements with the next seeds after router2 stalls (placement luck: an iCEBreaker
#: design tried on 2026-12-01 stalled with seeds 1 and 2 and routed with seed 3).
STALL_RESEEDS = 3


def check_patience(patience: int) -> int:
    """``patience`` if it is a count of iterations (0: never stop), else :class:`PnrError`."""
    if patience < 0:
        raise PnrError(f"router patience must be 0 (never stop) or more, not {patience}")
    return patience


class RouterWatch:
    """Whether the router still converges, read from nextpnr's log as it grows: the fewest
    overused wires so far and the iteration that reached it. Called, it gives a reason to
    stop once ``max(patience, that iteration)`` iterations have gone by without fewer
    (``patience`` 0: never); ``run_tool`` then ends the run and the caller places again.
    router1 logs no iterations: for it an "iteration" is a thousand arc routings and the
    count watched is the arcs still queued (a routed run of the default design on the 85F
    never went more than 6 of them without a new low)."""

    _ITER = re.compile(r"iter=(\d+)\b.*\boverused=(\d+)")
    _ROUTER1 = re.compile(r"^Info:\s+(\d+) \|\s+\d+\s+\d+ \|\s+\d+\s+\d+ \|\s+(\d+)\|")

    def __init__(self, log: Path, patience: int = ROUTER_PATIENCE) -> None:
        self.log, self.patience = Path(log), check_patience(patience)
        self.best: int | None = None
        self.best_iteration = self.iteration = 0
        self.router = "router2"
        self._offset = 0

    def _read(self) -> None:
        try:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                text = f.read()
        except OSError:
            return
        end = text.rfind(b"\n") + 1  # complete lines only
        self._offset += end
        for line in text[:end].decode(errors="replace").splitlines():
            router1 = self._ROUTER1.match(line)
            match = router1 or self._ITER.search(line)
            if not match:
                continue
            if router1:
                self.router = "router1"
            self.iteration, overused = int(match[1]) // (1000 if router1 else 1), int(match[2])
            if self.best is None or overused < self.best:
                self.best, self.best_iteration = overused, self.iteration

    def __call__(self) -> str | None:
        self._read()
        if not self.patience or not self.best:
            return None
        since = self.iteration - self.best_iteration
        if since > max(self.patience, self.best_iteration):
            if self.router == "router1":
                return (f"router1 stopped converging: its fewest queued arcs, {self.best:,}, "
                        f"after {self.best_iteration},000 routings, and none fewer in the "
                        f"{since},000 since (--router-patience {self.patience})")
            return (f"router2 stopped converging: its fewest overused wires, {self.best:,}, at "
                    f"iteration {self.best_iteration}, and none fewer in the {since} iterations "
                    f"since (--router-patience {self.patience})")
        return None


def add_nextpnr_options(parser) -> None:
    """``--placer``, ``--placement``, ``--router`` and ``--router-patience`` for the commands
    that run nextpnr (pnr, build, power build)."""
    parser.add_argument("--placer", choices=PLACERS, default=None,
                        help="nextpnr's placer (default: static on ECP5, heap on iCE40; "
                             "docs/model.md, 'Place and route')")
    parser.add_argument("--placement", choices=PLACEMENTS, default=None,
                        help="what the placer minimises: timing (nextpnr's default) or "
                             "wirelength (--no-tmdriv: less wire, a slower clock; for a design "
                             "whose routing does not converge). Default: timing, or the board's")
    parser.add_argument("--router", choices=ROUTERS, default=None,
                        help="nextpnr's router (default router2, or the board's; router1 may "
                             "finish a design router2 does not converge on, slowly)")
    parser.add_argument("--router-patience", type=int, default=ROUTER_PATIENCE, metavar="N",
                        help="end a router2 run whose overused wires have not reached a new "
                             "low in max(N, the iteration of the last low) iterations (router1: "
                             "queued arcs, per thousand routings), and "
                             f"place again with the next seed (default {ROUTER_PATIENCE}; 0: "
                             "never)")


#: A dedicated clock input per package: the pin the boards of amaranth-boards feed their
#: clock into (ULX3S G2, iCEBreaker 35, iCE40-HX8K breakout J3), a global-buffer pin.
CLOCK_PINS = {"CABGA381": "G2", "sg48": "35", "ct256": "J3"}


def clock_constraint(dev: Device) -> tuple[str, str] | None:
    """The constraint file (name, text) that puts the shell's ``clk`` on the package's
    clock pin, or None.

    Left to nextpnr, the clock may land on an ordinary pin: the static placer then
    twice left the arc from that pad to the global buffer unroutable (the small design
    on the 25F, a monitored kernel on the 85F). Every other pin stays unconstrained.
    """
    pin = CLOCK_PINS.get(dev.package or "")
    if pin is None:
        return None
    if dev.family == "ecp5":
        return "clock.lpf", (f'LOCATE COMP "clk" SITE "{pin}";\n'
                             f'IOBUF PORT "clk" IO_TYPE=LVCMOS33;\n')
    return "clock.pcf", f"set_io clk {pin}\n"


def nextpnr_args(dev: Device, clock_mhz: float, seed: int = 1, router: str = "router2",
                 placer: str | None = None, placement: str | None = None,
                 route: bool = True) -> list[str]:
    """Arguments for nextpnr (run in the build folder: relative paths; the clock
    constraint file, if the package has one, written there by :func:`place_and_route`;
    ``route=False``: place only, ``--no-route``, and write the placed netlist to
    ``placed.json`` for ``hardodt.placed_paths``)."""
    args = [f"--{dev.pnr_device}"]
    if dev.package:
        args += ["--package", dev.package]
    if dev.speed and dev.family == "ecp5":
        args += ["--speed", dev.speed]
    constraint = clock_constraint(dev)
    if constraint is not None:  # --lpf or --pcf, after the file's kind
        kind = constraint[0].rsplit(".", 1)[1]
        args += [f"--{kind}", constraint[0], f"--{kind}-allow-unconstrained"]
    return [*args, "--json", "netlist.json", "--freq", f"{clock_mhz:g}", "--timing-allow-fail",
            *placement_args(dev, router, placer, placement),
            *([] if route else ["--no-route", "--write", "placed.json"]),
            "--report", "report.json", "--seed", str(seed), "-q", "-l", "pnr.log"]


#: Cached results hold the parsed report: a change to the parser changes this.
_PARSER_VERSION = 3


def source_line(src: str) -> str | None:
    """The design's own line (``rtl/hardodt.py:307``) in a cell's ``src`` attribute, if any
    (yosys joins the sources of merged cells with ``|``; library cells have none)."""
    for part in src.split("|"):
        path, _, line = part.rpartition(":")
        for root in ("rtl/", "power_monitor/", "hardodt/"):
            at = path.rfind("/" + root)
            if at >= 0 or path.startswith(root):
                return f"{path[at + 1:] if at >= 0 else path}:{line.split('.')[0]}"
    return None


def top_module(netlist: dict[str, Any]) -> dict[str, Any] | None:
    """The top module of a yosys JSON netlist (its ``top`` attribute is a bit string)."""
    return next((m for m in netlist.get("modules", {}).values()
                 if str(m.get("attributes", {}).get("top", "")).strip("0")), None)


def design_sources(netlist: dict[str, Any], cells: list[str]) -> list[str]:
    """The design's source lines (``rtl/...py:LINE``) of ``cells`` of a yosys JSON netlist, in
    order, once each. Synthesis hides the learner's signal names (``hardodt.synthesis``), so
    a timing path's cells are named after the cells they connect; their ``src`` attributes
    still say which register or memory of the Python source each one is."""
    top = top_module(netlist)
    if top is None:
        return []
    found: list[str] = []
    for name in cells:
        line = source_line(top.get("cells", {}).get(name, {}).get("attributes", {}).get("src", ""))
        if line and line not in found:
            found.append(line)
    return found


def parse_report(report: dict[str, Any], netlist: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fmax (the slowest clock), utilisation and the critical path from nextpnr's report
    (with the synthesised ``netlist``: the path's source lines too, ``design_sources``)."""
    fmax = report.get("fmax", {})
    if not fmax:
        raise PnrError("the nextpnr report holds no clock (is the design clocked?)")
    clock, worst = min(fmax.items(), key=lambda kv: kv[1]["achieved"])
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in report.get("utilization", {}).items() if v.get("used")}
    crit: dict[str, Any] = {}
    paths = report.get("critical_paths", [])
    if paths:
        # the slowest clock's own register-to-register path (nextpnr lists one per pair
        # of clock edges, and pseudo-clocks such as iCE40 DSPs' constant clock first)
        ends = (f"posedge {clock}", f"negedge {clock}")
        cp = next((p for p in paths if p.get("from") in ends and p.get("to") in ends),
                  next((p for p in paths if p.get("to") in ends), paths[0]))
        steps = cp.get("path", [])
        if steps:
            cells = [s["from"]["cell"] for s in steps if s.get("type") == "clk-to-q"] or \
                    [steps[0]["from"]["cell"]]
            crit = {"from": cells[0], "to": steps[-1]["to"]["cell"],
                    "delay_ns": round(sum(float(s.get("delay", 0)) for s in steps), 3),
                    "logic_levels": sum(1 for s in steps if s.get("type") == "logic"),
                    "routing_ns": round(sum(float(s.get("delay", 0)) for s in steps
                                            if s.get("type") == "routing"), 3)}
            if netlist is not None:
                order = [c for s in steps for c in (s["from"]["cell"], s["to"]["cell"])]
                crit["from_source"] = design_sources(netlist, [crit["from"]])
                crit["to_source"] = design_sources(netlist, [crit["to"]])
                crit["through"] = design_sources(netlist, order)
    return {"clock": clock, "fmax_mhz": float(worst["achieved"]),
            "constraint_mhz": float(worst.get("constraint", 0)), "utilisation": util,
            "critical_path": crit}


_PLACED_FMAX = re.compile(r"Max frequency for clock '([^']+)': ([0-9.]+) MHz")


def placed_fmax(log_text: str) -> dict[str, float]:
    """Each clock's Fmax as nextpnr's log gives it last (after placement, for a run with
    ``--no-route``, whose report holds no timing)."""
    return {clock: float(mhz) for clock, mhz in _PLACED_FMAX.findall(log_text)}


def _pnr_step(lines: list[str]) -> str:
    """What nextpnr is doing, from its log's last lines (placer and router iterations)."""
    for ln in reversed(lines):
        if ln.startswith("Info:") and ("Running" in ln or "iter" in ln.lower()
                                       or "Program finished" in ln):
            return ln
    return ""


def check_fits(cfg: Config, dev: Device) -> list[str]:
    """Refuse a design whose block RAMs or DSPs (which the model counts as yosys maps them)
    exceed the device, before hours of tool time; return notes on a tight LUT budget."""
    from hardodt.estimate import estimate

    est = estimate(cfg, dev.name)
    for what, need, have, hint in (
            ("block RAMs", est.bram, dev.brams,
             "fewer elements (-E), a narrower word_bits or fewer quantiles"),
            ("DSP blocks", est.dsp, dev.dsps, "a narrower count_bits or fewer classes")):
        if need > have:
            raise PnrError(f"{dev.name}: the design needs {need:g} {what} and the device has "
                           f"{have} (elements={cfg.element_capacity}, word_bits={cfg.word_bits}, "
                           f"quantiles={cfg.quantiles}); try {hint}, or a larger device")
    notes = []
    if est.lut > dev.luts:
        notes.append(f"the model estimates {est.lut:,} LUTs against the device's {dev.luts:,}")
    return notes


def place_and_route(cfg: Config, device_name: str, build_dir: Path, *, clock_mhz: float = 100.0,
                    seed: int = 1, use_cache: bool = True,
                    progress: Callable[[str], None] | None = None, top=None,
                    router: str | None = None, placer: str | None = None,
                    placement: str | None = None,
                    router_patience: int = ROUTER_PATIENCE, route: bool = True,
                    unit: str | None = None) -> PnrResult:
    """Synthesise ``cfg`` in its pin shell (or ``top``, a design whose ports fit the
    package; or ``unit``, one of ``rtl.unit_shell.UNITS`` of ``cfg``'s learner alone in
    its shell) and place and route it on ``device_name`` (``placer``: the device's
    :func:`default_placer` unless given; ``placement``, ``router``: one of
    :data:`PLACEMENTS`, :data:`ROUTERS`, the first unless given;
    ``router_patience``: :class:`RouterWatch`; ``route=False``: place only, the result's
    Fmax and critical path nextpnr's estimates after placement, ``routed`` false)."""
    from rtl.pnr_shell import PinShell

    if unit is not None:
        from rtl.params import HardwareParams
        from rtl.unit_shell import UnitShell
        from rtl.unit_shell import unit as build_unit

        if top is not None:
            raise PnrError("place a unit or a top design, not both")
        try:
            top = UnitShell(build_unit(HardwareParams(cfg), unit))
        except ValueError as exc:
            raise PnrError(str(exc)) from None
    router = router or ROUTERS[0]
    dev = device(device_name)
    cmd_name, _pkg = _tool(dev)
    placement_args(dev, router, placer, placement)  # a bad choice is refused before synthesis
    placement = placement or PLACEMENTS[0]
    check_patience(router_patience)  # ... and a bad patience
    version = tool_version(dev)
    fit_notes = check_fits(cfg, dev) if unit is None else []  # (a unit alone is small)
    build_dir = Path(build_dir)
    try:
        syn = synthesize(cfg, dev.family, build_dir, use_cache=use_cache, progress=progress,
                         top=top if top is not None else PinShell(cfg), netlist=True)
    except SynthesisError as exc:
        raise PnrError(str(exc)) from None
    # the device's default placer; if that run fails, the same placer with the next seed,
    # then HeAP. nextpnr's static placer has been seen to leave the clock's arc from its
    # pad to the global buffer unroutable when the clock was on an ordinary pin (before
    # clock_constraint); another placement avoided it.
    attempts = [(placer or default_placer(dev), seed)]
    if placer is None and attempts[0][0] != "heap":
        attempts += [(attempts[0][0], seed + 1), ("heap", seed)]
    placers = [f"{pl}/{sd}" for pl, sd in attempts]
    args = nextpnr_args(dev, clock_mhz, seed, router, attempts[0][0], placement, route)
    netlist = build_dir / "netlist.json"
    h = hashlib.sha256()
    with netlist.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    constraint = clock_constraint(dev)
    if constraint is not None:
        (build_dir / constraint[0]).write_text(constraint[1])
        h.update(constraint[1].encode())
    h.update(" ".join([*args, version, f"parser {_PARSER_VERSION}", *placers]).encode())
    key = h.hexdigest()[:24]
    cached = cache_dir() / "pnr" / f"{key}.json"
    if use_cache and cached.is_file():
        data = json.loads(cached.read_text())
        data.update(cached=True, build_dir=str(build_dir))
        return PnrResult(**data)
    t0 = time.perf_counter()
    command = tool_command(cmd_name)
    if command is None:
        raise PnrError(f"{cmd_name} is not installed (pip install {cmd_name})")
    log = build_dir / "pnr.log"
    report_path = build_dir / "report.json"
    notes = list(fit_notes)
    reseeds = 0
    for attempt, (used, used_seed) in enumerate(attempts):
        args = nextpnr_args(dev, clock_mhz, used_seed, router, used, placement, route)
        if progress:
            progress(f"{cmd_name} {' '.join(args[:6])} --placer {used} --seed {used_seed} ... started")
        report_path.unlink(missing_ok=True)
        log.unlink(missing_ok=True)  # the watch reads this run's log only
        stopped = None
        try:
            status, err = run_tool([*command, *args], build_dir, log, _pnr_step, progress,
                                   poll=1.0, stop=RouterWatch(log, router_patience))
        except ToolStopped as exc:
            status, err, stopped = -1, "", str(exc)
        if status == 0 and report_path.is_file():
            break
        detail = stopped or first_error(
            err + (log.read_text(errors="replace") if log.is_file() else "")) or "no report written"
        full = out_of_cells(detail)
        if stopped and attempt + 1 == len(attempts) and reseeds < STALL_RESEEDS:
            attempts.append((used, used_seed + 1))  # a stall is placement luck: the next seed
            reseeds += 1
        if not full and attempt + 1 < len(attempts):
            kept = log.with_name(f"pnr-{used}-{used_seed}.log")
            log.replace(kept)
            notes.append(f"nextpnr with the {used} placer, seed {used_seed}, failed ({detail}; "
                         f"{kept.name}); placed again with the {attempts[attempt + 1][0]} placer, "
                         f"seed {attempts[attempt + 1][1]}")
            continue
        if full:
            detail += (f" (the design needs more logic cells than the {dev.name} has; "
                       f"for a small FPGA: a larger divider_stage_bits, as in "
                       f"benchmarks/configs/up5k.toml)")
        raise PnrError(f"nextpnr failed ({'stopped' if stopped else f'exit {status}'}): "
                       f"{detail}; see {log}")
    report = json.loads(report_path.read_text())
    if not route:  # the report has no timing before routing: the log's estimate
        report["fmax"] = {clock: {"achieved": mhz, "constraint": clock_mhz}
                          for clock, mhz in placed_fmax(log.read_text(errors="replace")).items()}
        notes.append("placed only (--no-route): the Fmax is nextpnr's estimate after "
                     "placement, before routing (a routed run's differs); nextpnr reports no "
                     "critical path before routing: `python -m hardodt.placed_paths "
                     f"{build_dir / 'placed.json'}` estimates the slowest")
    parsed = parse_report(report, json.loads(netlist.read_text()))
    if parsed["fmax_mhz"] < clock_mhz:
        notes.append(f"the requested {clock_mhz:g} MHz is not met; the achieved Fmax is reported")
    result = PnrResult(device=dev.name, fmax_mhz=round(parsed["fmax_mhz"], 2),
                       clock_mhz=clock_mhz, utilisation=parsed["utilisation"],
                       critical_path={"clock": parsed["clock"], **parsed["critical_path"]},
                       synth={k: getattr(syn, k) for k in ("lut", "ff", "bram", "dsp", "lutram")},
                       tool=f"{syn.tool}; {version}", seconds=round(time.perf_counter() - t0, 1),
                       cached=False, build_dir=str(build_dir), notes=notes,
                       placer=used, placement=placement, router=router, seed=used_seed,
                       routed=route, unit=unit or "")
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result.to_dict(), indent=1))
    (build_dir / "pnr.json").write_text(json.dumps(result.to_dict(), indent=1))
    return result
