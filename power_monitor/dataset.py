"""One kernel's data set: per window, its registers' toggle counts and its estimated power.

``build_dataset`` chains the steps (Amaranth -> gate-level netlist -> probed
Verilator model -> workload -> toggles per window -> :mod:`power_monitor.estimate`)
and keeps the result on disk, keyed by the kernel's Verilog, the workload, the
constants and the harness, so a report or a rerun reads it back in a second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardodt.synthesis import cache_dir
from power_monitor.activity import HARNESS_VERSION, ActivitySimulator
from power_monitor.estimate import ECP5_CONSTANTS, Constants, net_weights, static_power, window_power
from power_monitor.gatelevel import GATE_SCRIPT, Netlist, synthesize_gates
from power_monitor.kernels import kernel
from power_monitor.workload import PHASES, Workload, schedule, stimulus

__all__ = ["Dataset", "build_dataset", "kernel_verilog"]


@dataclass
class Dataset:
    kernel: str
    registers: list[str]  # candidate features: RTL registers of the kernel
    widths: list[int]  # flip-flops per register in the netlist (what a window's count can reach)
    toggles: np.ndarray  # windows x registers
    power: np.ndarray  # W per window (total)
    parts: dict[str, np.ndarray]  # nets, clock, bram, static
    phases: np.ndarray  # phase index per window (into phase_names)
    phase_names: list[str]
    window: int
    drift_window: int  # first window after the workload's drift
    cells: dict[str, int]
    seconds: dict[str, float]
    positions: list[list[int]] = field(default_factory=list)  # those flip-flops' bit positions

    @property
    def windows(self) -> int:
        return len(self.power)

    def power_mw(self) -> dict[str, float]:
        """The power's minimum, median, mean and maximum over the windows, in mW."""
        p = self.power * 1e3
        return {k: round(float(f(p)), 4) for k, f in
                (("min", np.min), ("median", np.median), ("mean", np.mean), ("max", np.max))}

    def save(self, path: Path) -> None:
        meta = {k: getattr(self, k) for k in ("kernel", "registers", "widths", "phase_names",
                                              "window", "drift_window", "cells", "seconds",
                                              "positions")}
        np.savez_compressed(path, toggles=self.toggles, power=self.power, phases=self.phases,
                            meta=json.dumps(meta), **{f"part_{k}": v for k, v in self.parts.items()})

    @classmethod
    def load(cls, path: Path) -> Dataset:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            parts = {k[5:]: z[k] for k in z.files if k.startswith("part_")}
            return cls(toggles=z["toggles"], power=z["power"], phases=z["phases"], parts=parts,
                       **meta)


def kernel_verilog(name: str) -> str:
    from amaranth.back import verilog

    return verilog.convert(kernel(name).make(), name="top")


def _sources() -> str:
    """The text of the modules that make a data set: a change to any of them is a new key."""
    here = Path(__file__).parent
    return "".join((here / f).read_text() for f in ("gatelevel.py", "activity.py", "estimate.py",
                                                    "workload.py", "dataset.py"))


def _key(verilog: str, w: Workload, k: Constants) -> str:
    h = hashlib.sha256()
    for part in (verilog, GATE_SCRIPT, HARNESS_VERSION, json.dumps(dataclasses.asdict(w)),
                 json.dumps(dataclasses.asdict(k)), _sources()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def build_dataset(name: str, workload: Workload | None = None, *, constants: Constants = ECP5_CONSTANTS,
                  root: Path | None = None, use_cache: bool = True, progress=None) -> Dataset:
    """The data set of kernel ``name`` under ``workload`` (from the cache when it is there)."""
    say = progress or (lambda text: None)
    workload = workload or Workload()
    info = kernel(name)
    verilog = kernel_verilog(name)
    root = Path(root) if root is not None else cache_dir() / "power"
    key = _key(verilog, workload, constants)
    path = root / name / f"dataset-{key}.npz"
    if use_cache and path.is_file():
        return Dataset.load(path)
    build = root / name / "build"
    t0 = time.perf_counter()
    say(f"{name}: synthesising to ECP5 cells")
    netlist = Netlist.read(synthesize_gates(verilog, build, progress=say))
    t1 = time.perf_counter()
    say(f"{name}: building the gate-level simulation ({len(netlist.probe_bits)} nets)")
    sim = ActivitySimulator(netlist, build / "sim", progress=say)
    if list(sim.inputs) != ["data", "valid"]:
        raise ValueError(f"kernel {name} must have the inputs data and valid, has {list(sim.inputs)}")
    t2 = time.perf_counter()
    stim = stimulus(workload, info.lanes, info.lane_bits, info.extra_bits, bool(info.mode))
    say(f"{name}: simulating {len(stim):,} cycles ({workload.windows:,} windows)")
    res = sim.run(stim, net_weights(netlist, constants), window=workload.window)
    t3 = time.perf_counter()
    parts = window_power(res["weighted"], res["levels"], netlist.level_kinds, netlist.clocked,
                         workload.window, static_power(netlist, constants), constants)
    regs = netlist.registers
    # registers named in the RTL; ``x$12`` is Amaranth's second signal named ``x`` in one
    # module, which the monitor could not tell apart from the first
    named = [i for i, r in enumerate(regs) if "$" not in r]
    names = [list(regs)[i] for i in named]
    ds = Dataset(kernel=name, registers=names,
                 widths=[len(netlist.positions[r]) for r in names],
                 positions=[netlist.positions[r] for r in names],
                 toggles=res["registers"][:, named], power=parts.pop("total"), parts=parts,
                 phases=schedule(workload), phase_names=list(PHASES), window=workload.window,
                 drift_window=workload.drift_window,
                 cells=dict(netlist.cell_counts),
                 seconds={"synthesis": round(t1 - t0, 1), "build": round(t2 - t1, 1),
                          "simulation": round(t3 - t2, 1)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    ds.save(tmp)
    tmp.replace(path)
    return ds
