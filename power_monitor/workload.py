"""Seeded workloads with phases: what drives a kernel's inputs, cycle by cycle.

A workload is a schedule of phases, each a whole number of windows long. A
phase sets how often an input arrives (``duty``: 0 idle, 1 every cycle, in
between as bursts of geometric length) and how much the data toggles
(``random``: every lane uniform; ``smooth``: each lane a slow random walk;
``counter``: lanes count up; ``zero``: constant). The schedule's phases are
drawn from one pool before ``drift_at`` (a fraction of the run) and from
another after it: the workload changes character mid-run, the drift that
motivates learning online. With ``reconfigure`` (the default) the drift also
switches the kernel's mode, for kernels that have one (a ``mode`` bit above
their data lanes, e.g. matvec's weight address held): the same activity of the
watched registers then draws a different power, a change new phases alone do
not make. The same seed gives the same cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Phase", "PHASES", "Workload", "schedule", "stimulus"]


@dataclass(frozen=True)
class Phase:
    name: str
    duty: float  # share of cycles with valid input
    data: str  # random | smooth | counter | zero
    burst: int = 1  # mean burst length when 0 < duty < 1


PHASES = {p.name: p for p in [
    Phase("idle", 0.0, "zero"),
    Phase("full-random", 1.0, "random"),
    Phase("full-smooth", 1.0, "smooth"),
    Phase("bursty-random", 0.5, "random", burst=16),
    Phase("sparse-random", 0.15, "random", burst=4),
    Phase("full-counter", 1.0, "counter"),
    Phase("bursty-smooth", 0.5, "smooth", burst=64),
    Phase("half-random", 0.5, "random", burst=1),
]}

#: Before the drift the workload alternates among these; after it, among the second list,
#: which brings phases never seen before (and drops some).
EARLY = ("idle", "full-random", "full-smooth", "bursty-random")
LATE = ("sparse-random", "full-counter", "bursty-smooth", "half-random", "full-random", "idle")


@dataclass(frozen=True)
class Workload:
    windows: int = 20000
    window: int = 256
    seed: int = 1
    drift_at: float = 0.6
    min_phase: int = 20  # windows
    max_phase: int = 200
    reconfigure: bool = True  # the drift also sets the kernel's mode bit (if it has one)

    def __post_init__(self):
        if self.windows < 1 or self.window < 1:
            raise ValueError("a workload needs at least one window of at least one cycle")
        if not 0.0 <= self.drift_at <= 1.0:
            raise ValueError(f"drift_at is a fraction of the run, got {self.drift_at}")
        if not 1 <= self.min_phase <= self.max_phase:
            raise ValueError("phases need 1 <= min_phase <= max_phase windows")

    @property
    def drift_window(self) -> int:
        """The first window after the drift."""
        return int(self.drift_at * self.windows)


def schedule(w: Workload) -> np.ndarray:
    """The phase index (into ``list(PHASES)``) of every window."""
    rng = np.random.default_rng(w.seed)
    names = list(PHASES)
    out = np.empty(w.windows, dtype=np.int64)
    drift = w.drift_window
    k, last = 0, None
    while k < w.windows:
        pool = [p for p in (EARLY if k < drift else LATE) if p != last]
        last = pool[rng.integers(len(pool))]
        n = int(rng.integers(w.min_phase, w.max_phase + 1))
        end = min(k + n, w.windows, drift if k < drift else w.windows)
        out[k:end] = names.index(last)
        k = end
    return out


def stimulus(w: Workload, lanes: int, lane_bits: int, extra_bits: int = 0,
             mode_bit: bool = False) -> np.ndarray:
    """Cycles x 2 (``data``, ``valid``, in the kernel's port order) as uint64: ``data`` holds
    ``lanes`` lanes of ``lane_bits``, then ``extra_bits`` random flag bits, then (with
    ``mode_bit``) the kernel's mode: 0 before the drift, 1 from it on if ``w.reconfigure``."""
    if lanes * lane_bits + extra_bits + mode_bit > 64:
        raise ValueError("the data word must fit 64 bits")
    rng = np.random.default_rng(w.seed + 1)
    phases = schedule(w)
    names = list(PHASES)
    cycles = w.windows * w.window
    valid = np.zeros(cycles, dtype=np.uint64)
    lanes_v = np.zeros((cycles, lanes), dtype=np.int64)
    top = 1 << lane_bits
    # contiguous runs of one phase
    starts = np.flatnonzero(np.r_[True, phases[1:] != phases[:-1]])
    ends = np.r_[starts[1:], len(phases)]
    for s, e in zip(starts, ends, strict=True):
        p = PHASES[names[phases[s]]]
        a, b = s * w.window, e * w.window
        n = b - a
        valid[a:b] = _duty(rng, n, p)
        if p.data == "random":
            lanes_v[a:b] = rng.integers(0, top, (n, lanes))
        elif p.data == "smooth":
            steps = rng.integers(-2, 3, (n, lanes))
            lanes_v[a:b] = (rng.integers(0, top, lanes) + np.cumsum(steps, axis=0)) % top
        elif p.data == "counter":
            lanes_v[a:b] = (np.arange(n)[:, None] + rng.integers(0, top, lanes)) % top
        # zero: stays 0
    data = np.zeros(cycles, dtype=np.uint64)
    for i in range(lanes):
        data |= lanes_v[:, i].astype(np.uint64) << np.uint64(i * lane_bits)
    if extra_bits:
        flags = rng.integers(0, 1 << extra_bits, cycles).astype(np.uint64)
        data |= flags << np.uint64(lanes * lane_bits)
    data[valid == 0] = _hold(data, valid)[valid == 0]
    if mode_bit and w.reconfigure:  # a level, held whether or not an input arrives
        data[w.drift_window * w.window:] |= np.uint64(1) << np.uint64(lanes * lane_bits + extra_bits)
    return np.stack([data, valid], axis=1)


def _duty(rng, n: int, p: Phase) -> np.ndarray:
    if p.duty <= 0.0:
        return np.zeros(n, dtype=np.uint64)
    if p.duty >= 1.0:
        return np.ones(n, dtype=np.uint64)
    # alternating on/off bursts with geometric lengths of mean burst and burst*(1-d)/d
    out = np.zeros(n, dtype=np.uint64)
    k, on = 0, bool(rng.random() < p.duty)
    mean_off = p.burst * (1 - p.duty) / p.duty
    while k < n:
        length = int(rng.geometric(1.0 / (p.burst if on else max(mean_off, 1.0))))
        if on:
            out[k:k + length] = 1
        k += length
        on = not on
    return out


def _hold(data: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The data bus keeps its last valid value while no input arrives (no toggles)."""
    idx = np.where(valid == 1, np.arange(len(valid)), 0)
    np.maximum.accumulate(idx, out=idx)
    held = data[idx]
    held[(idx == 0) & (valid[0] == 0)] = 0
    return held
