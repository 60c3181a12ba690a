"""The power-monitoring case study: estimator, workloads, gate-level activity, flow, monitor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from power_monitor.estimate import (
    ECP5_CONSTANTS,
    net_capacitance,
    net_weights,
    static_power,
    window_power,
)
from power_monitor.gatelevel import Netlist, NetlistError
from power_monitor.kernels.gemm import SystolicGemm
from power_monitor.kernels.histogram import Histogram
from power_monitor.kernels.matvec import MatVec
from power_monitor.workload import EARLY, LATE, PHASES, Workload, schedule, stimulus

K = ECP5_CONSTANTS


def _bits(*xs):
    return list(xs)


def hand_netlist() -> dict:
    """clk, a 2-bit input d (nets 2, 3); a LUT4 (A=2, B=3 -> Z=4); a flip-flop (D=4 -> Q=5)
    named ``r``; Q drives the output ``y`` and the LUT's C input."""
    return {"modules": {"top": {
        "ports": {"clk": {"direction": "input", "bits": [1]},
                  "d": {"direction": "input", "bits": [2, 3]},
                  "y": {"direction": "output", "bits": [5]}},
        "cells": {
            "lut": {"type": "LUT4", "parameters": {}, "attributes": {},
                    "port_directions": {"A": "input", "B": "input", "C": "input", "D": "input",
                                        "Z": "output"},
                    "connections": {"A": [2], "B": [3], "C": [5], "D": ["0"], "Z": [4]}},
            "ff": {"type": "TRELLIS_FF", "parameters": {}, "attributes": {},
                   "port_directions": {"CLK": "input", "LSR": "input", "CE": "input", "DI": "input",
                                       "Q": "output"},
                   "connections": {"CLK": [1], "LSR": ["0"], "CE": ["1"], "DI": [4], "Q": [5]}}},
        "netnames": {"clk": {"hide_name": 0, "bits": [1]}, "d": {"hide_name": 0, "bits": [2, 3]},
                     "r": {"hide_name": 0, "bits": [5]}, "y": {"hide_name": 0, "bits": [5]},
                     "$n": {"hide_name": 1, "bits": [4]}}}}}


# -- the estimator on a netlist computed by hand -----------------------------------------

def test_net_capacitance_counts_routing_and_pins_by_hand():
    nl = Netlist(hand_netlist())
    assert nl.probe_bits == [2, 3, 4, 5]
    w = dict(zip(nl.probe_bits, net_weights(nl), strict=True))
    # d[0], d[1]: one LUT input each
    assert w[2] == pytest.approx(K.route_base + K.pin_lut)
    # the LUT's output: one flip-flop input
    assert w[4] == pytest.approx(K.route_base + K.pin_ff)
    # the register: a LUT input and the output port (two sinks)
    assert w[5] == pytest.approx(K.route_base + K.route_per_fanout + K.pin_lut + K.pin_output)
    assert net_capacitance([], False, K) == 0.0
    assert nl.registers == {"r": [3]}
    assert nl.clocked == 1


def test_window_power_by_hand():
    # 1000 fF switched in a window of 256 cycles at 100 MHz, 1.1 V: 1/2 C V^2 / T
    t = 256 / K.clock_hz
    levels = np.array([[256, 128]])
    p = window_power(np.array([1000.0]), levels, ["read", "write"], clocked_pins=10, window=256,
                     static_w=1e-3)
    assert p["nets"][0] == pytest.approx(0.5 * 1.1 ** 2 * 1000e-15 / t)
    assert p["clock"][0] == pytest.approx(0.5 * 1.1 ** 2 * 2 * 256 * 10 * K.clock_pin * 1e-15 / t)
    assert p["bram"][0] == pytest.approx((256 * K.bram_read + 128 * K.bram_write) * 1e-12 / t)
    assert p["total"][0] == pytest.approx(p["nets"][0] + p["clock"][0] + p["bram"][0] + 1e-3)


def test_static_power_counts_the_cells_the_kernel_occupies():
    data = hand_netlist()
    nl = Netlist(data)
    assert static_power(nl) == pytest.approx(1e-6 * (K.leak_lut + K.leak_ff))


def test_a_cell_the_flow_cannot_charge_is_refused():
    data = hand_netlist()
    data["modules"]["top"]["cells"]["dsp"] = {"type": "MULT18X18D", "parameters": {},
                                              "attributes": {}, "port_directions": {},
                                              "connections": {}}
    with pytest.raises(NetlistError, match="MULT18X18D"):
        Netlist(data)


def test_probed_netlist_reads_every_net_through_a_buffer():
    nl = Netlist(hand_netlist())
    data = nl.probed_json()
    top = data["modules"]["top"]
    buf = top["cells"]["$probe_buffer_probe"]
    assert buf["connections"]["A"][:4] == [2, 3, 4, 5]
    assert len(top["ports"]["probe"]["bits"]) == 96  # padded to whole words
    assert set(top["ports"]["probe"]["bits"]).isdisjoint({2, 3, 4, 5})


# -- workloads ----------------------------------------------------------------------------

def test_workload_is_seeded_and_drifts():
    w = Workload(windows=400, window=32, seed=3, min_phase=5, max_phase=30)
    a, b = stimulus(w, 2, 8), stimulus(w, 2, 8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, stimulus(Workload(windows=400, window=32, seed=4, min_phase=5,
                                                   max_phase=30), 2, 8))
    ph = schedule(w)
    names = list(PHASES)
    drift = int(w.drift_at * w.windows)
    assert {names[i] for i in ph[:drift]} <= set(EARLY)
    assert {names[i] for i in ph[drift:]} <= set(LATE)
    assert {names[i] for i in ph[drift:]} - set(EARLY)  # phases never seen before the drift
    assert a.shape == (400 * 32, 2) and int(a[:, 0].max()) < 1 << 16
    idle = np.repeat(ph == names.index("idle"), w.window)
    assert np.all(a[idle, 1] == 0)  # idle: no input
    full = np.repeat(ph == names.index("full-random"), w.window)
    assert np.all(a[full, 1] == 1)
    # while no input arrives the data bus holds its value
    held = np.flatnonzero(a[1:, 1] == 0) + 1
    assert np.array_equal(a[held, 0], a[held - 1, 0])
    # the mode bit above the lanes: 0 before the drift, 1 from it on, input or not
    m = stimulus(w, 2, 8, mode_bit=True)
    assert np.array_equal(m[:, 1], a[:, 1]) and np.array_equal(m[:, 0] & 0xFFFF, a[:, 0])
    assert np.array_equal(m[:, 0] >> 16, (np.arange(len(m)) >= drift * w.window).astype(np.uint64))
    still = stimulus(Workload(windows=400, window=32, seed=3, min_phase=5, max_phase=30,
                              reconfigure=False), 2, 8, mode_bit=True)
    assert np.array_equal(still, a)  # the phases' drift alone


def _run_kernel(dut, inputs, watch=()):
    """Drive ``(data, valid)`` per cycle through an Amaranth simulation: ``result`` after
    each cycle, and the values of the registers named in ``watch``."""
    from amaranth import Fragment
    from amaranth.sim import Simulator

    from power_monitor.monitor import find_registers

    frag = Fragment.get(dut, None)
    regs = find_registers(frag, list(watch)) if watch else {}
    out, seen = [], {name: [] for name in watch}

    async def bench(ctx):
        for data, valid in inputs:
            ctx.set(dut.data, data)
            ctx.set(dut.valid, valid)
            await ctx.tick()
            out.append(ctx.get(dut.result))
            for name in watch:
                seen[name].append(ctx.get(regs[name]))

    sim = Simulator(frag)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return (out, seen) if watch else out


def test_matvec_mode_holds_the_weight_address():
    """Mode 1: the address counter stands still (every input meets the same weights) while
    the multipliers and the accumulator keep working; mode 0 walks the rows."""
    n = 40
    rng = np.random.default_rng(0)
    xs = [int(v) for v in rng.integers(0, 1 << 32, n, dtype=np.uint64)]
    for mode in (0, 1):
        out, seen = _run_kernel(MatVec(), [(x | mode << 32, 1) for x in xs],
                                watch=["addr", "prod0", "acc"])
        assert seen["addr"] == ([0] * n if mode else [k + 1 for k in range(n)])
        assert len(set(seen["prod0"])) > n // 2 and len(set(seen["acc"])) > n // 2
        assert any(out)  # rows were summed and read out


def test_histogram_mode_holds_the_line_pointer():
    """Mode 1: the delay line's pointer stands still (each pair overwrites one slot); the
    histogram counts as before."""
    pairs = [0x1234, 0x5678, 0x9A34, 0x1299]
    out, seen = _run_kernel(Histogram(), [(p | 1 << 16, 1) for p in pairs] + [(1 << 16, 0)] * 3,
                            watch=["head"])
    line, seen0 = _run_kernel(Histogram(), [(p, 1) for p in pairs] + [(0, 0)] * 3,
                              watch=["head"])
    assert set(seen["head"]) == {0} and seen0["head"][:4] == [1, 2, 3, 4]
    counts = [v >> 16 for v in out]
    assert counts == [v >> 16 for v in line]  # the same counts
    assert max(counts) == 2  # bin 0x34 came twice


def test_gemm_mode_holds_b():
    """Mode 1: the array's north edge keeps its row; A keeps flowing."""
    rng = np.random.default_rng(1)
    words = [int(v) for v in rng.integers(0, 1 << 48, 20, dtype=np.uint64)]
    _, seen = _run_kernel(SystolicGemm(), [(w | 1 << 48, 1) for w in words], watch=["b00", "a00"])
    assert set(seen["b00"]) == {0} and len(set(seen["a00"])) > 10
    _, seen = _run_kernel(SystolicGemm(), [(w, 1) for w in words], watch=["b00"])
    assert len(set(seen["b00"])) > 10


@pytest.mark.parametrize("bad", [dict(windows=0), dict(drift_at=1.5), dict(min_phase=0),
                                 dict(min_phase=10, max_phase=5)])
def test_impossible_workloads_are_refused(bad):
    with pytest.raises(ValueError):
        Workload(**bad)


# -- the flow's steps on synthetic data ---------------------------------------------------

def test_selection_keeps_the_registers_power_depends_on():
    from power_monitor.flow import select_signals

    rng = np.random.default_rng(0)
    X = rng.integers(0, 100, (3000, 12)).astype(float)
    X[:, 9] = 7.0  # never changes
    power = 3.0 * X[:, 2] + 2.0 * X[:, 5] + rng.normal(0, 1, 3000)
    chosen = select_signals(X, power, max_signals=4)
    assert 2 in chosen and 5 in chosen and 9 not in chosen and len(chosen) == 4
    assert select_signals(X[:, :3], power, max_signals=8) == [0, 1, 2]
    with pytest.raises(ValueError, match="nothing to select"):
        select_signals(np.ones((10, 3)), power[:10])


def test_clustering_finds_the_power_levels():
    from power_monitor.flow import accuracy, choose_clusters, nearest

    rng = np.random.default_rng(1)
    power = np.concatenate([rng.normal(m, 0.02, 500) for m in (1.0, 2.0, 4.0)])
    centres, scores = choose_clusters(power)
    assert len(centres) == 3 and set(scores) == {2, 3, 4, 5}
    assert np.allclose(centres, [1.0, 2.0, 4.0], atol=0.01)
    assert np.array_equal(nearest(centres, np.array([0.9, 2.2, 3.9])), [0, 1, 2])
    # 100 % minus the mean relative error, by hand
    assert accuracy(np.array([1.0, 2.0]), np.array([0, 1]), np.array([1.0, 2.5])) == \
        pytest.approx(100 * (1 - (0 + 0.2) / 2))
    with pytest.raises(ValueError):
        accuracy(np.array([1.0]), np.array([0]), np.array([0.0]))
    with pytest.raises(ValueError, match="never changes"):
        choose_clusters(np.ones(50))


def _synthetic_dataset(n=3000, seed=2):
    from power_monitor.dataset import Dataset

    rng = np.random.default_rng(seed)
    toggles = rng.integers(0, 200, (n, 6))
    drift = int(0.6 * n)
    toggles[drift:, 1] += 300  # a new regime after the drift
    power = 1e-3 * (0.2 + 0.01 * toggles[:, 0] + 0.004 * toggles[:, 1])
    return Dataset(kernel="synthetic", registers=[f"r{i}" for i in range(6)], widths=[4] * 6,
                   toggles=toggles, power=power, parts={}, phases=np.zeros(n, dtype=np.int64),
                   phase_names=["p"], window=256, drift_window=drift, cells={}, seconds={})


def test_flow_on_synthetic_windows_learns_online():
    from power_monitor.flow import run_flow

    ds = _synthetic_dataset()
    res = run_flow(ds, fit_windows=1000)
    s = res.summary()
    assert "r0" in res.signals and len(res.centres) >= 2
    assert len(res.online_pred) == ds.windows - 1000
    assert s["online_acc"] > 70 and s["offline_acc"] > 70
    # the nearest centre is each window's least relative error: no learner beats the true
    # classes after the drift, and the figure is not just one of the learners' own
    assert s["ceiling_after_drift"] >= max(s["online_after_drift"], s["offline_early_after_drift"])
    assert s["ceiling_after_drift"] > min(s["online_after_drift"], s["offline_early_after_drift"])
    # the configuration the monitor's hardware can encode with a shift
    cfg = res.config
    assert all(hi & (hi - 1) == 0 and hi >= 4 * 256 for _lo, hi in
               ((int(a), int(b)) for a, b in cfg.numeric_ranges))
    with pytest.raises(ValueError, match="fit_windows"):
        run_flow(ds, fit_windows=ds.windows)
    with pytest.raises(ValueError, match="drifts"):
        run_flow(ds, fit_windows=2000)


def test_dataset_round_trips_through_its_file(tmp_path):
    from power_monitor.dataset import Dataset

    ds = _synthetic_dataset(200)
    ds.parts = {"nets": np.ones(200)}
    ds.save(tmp_path / "d.npz")
    back = Dataset.load(tmp_path / "d.npz")
    assert back.registers == ds.registers and np.array_equal(back.toggles, ds.toggles)
    assert np.array_equal(back.parts["nets"], ds.parts["nets"])


# -- gate level against RTL ---------------------------------------------------------------

@pytest.fixture(scope="module")
def power_cache(tmp_path_factory):
    """One cache for this file's simulations: the FIR kernel's netlist and Verilator model are
    built once (the end-to-end run and the gate-level check share them)."""
    return tmp_path_factory.mktemp("power-cache")


@pytest.mark.sim
def test_gate_level_toggles_agree_with_an_rtl_simulation(power_cache):
    """The FIR kernel synthesised to ECP5 cells and simulated in Verilator counts, per window,
    exactly the register toggles an Amaranth simulation of its RTL sees."""
    from amaranth.back import verilog
    from amaranth.sim import Simulator

    from power_monitor.activity import ActivitySimulator
    from power_monitor.gatelevel import synthesize_gates
    from power_monitor.kernels import kernel

    info = kernel("fir")
    build = power_cache / "power" / "fir" / "build"  # where `hardodt power` builds it
    nl = Netlist.read(synthesize_gates(verilog.convert(info.make(), name="top"), build))
    sim = ActivitySimulator(nl, build / "sim")
    w = Workload(windows=12, window=32, seed=5, min_phase=1, max_phase=3)
    stim = stimulus(w, info.lanes, info.lane_bits)
    res = sim.run(stim, np.ones(len(nl.probe_bits)), window=32)
    assert np.array_equal(res["weighted"], res["toggles"].astype(float))  # unit weights
    regs = {name: idx for name, idx in sim.registers.items() if name.startswith(("tap", "half"))}
    assert len(regs) == 10

    dut = info.make()
    seen = {name: [] for name in regs}

    async def bench(ctx):
        for c in range(len(stim)):
            ctx.set(dut.data, int(stim[c, 0]))
            ctx.set(dut.valid, int(stim[c, 1]))
            for name in regs:
                seen[name].append(ctx.get(signals[name]))
            await ctx.tick()

    from amaranth import Fragment

    from power_monitor.monitor import find_registers

    frag = Fragment.get(dut, None)
    signals = find_registers(frag, list(regs))
    s = Simulator(frag)
    s.add_clock(1e-6)
    s.add_testbench(bench)
    s.run()
    order = list(sim.registers)
    merged = 0
    for name in regs:
        mask = sum(1 << p for p in nl.positions[name])  # the bits that are flip-flops there
        merged += len(signals[name]) - len(nl.positions[name])
        v = np.array(seen[name], dtype=np.int64) & mask
        prev = np.r_[0, v[:-1]]
        flips = np.array([bin(int(x)).count("1") for x in (v ^ prev)])
        per_window = flips.reshape(-1, 32).sum(axis=1)
        got = res["registers"][:, order.index(name)]
        assert np.array_equal(got, per_window), name
    assert merged > 0  # sign-extension bits of the adder stages are merged by synthesis


# -- the monitor in hardware --------------------------------------------------------------

def test_monitor_refuses_what_it_cannot_count():
    from amaranth.back import verilog

    from power_monitor.flow import learner_config
    from power_monitor.kernels import kernel
    from power_monitor.monitor import MonitoredKernel, MonitorError

    cfg = learner_config(["tap0"], [16], 256, 2)
    with pytest.raises(MonitorError, match="not a register"):
        verilog.convert(MonitoredKernel(kernel("fir").make, ["nope"], cfg), name="top")
    with pytest.raises(MonitorError, match="power of two"):
        MonitoredKernel(kernel("fir").make, ["tap0"], cfg, window=100)
    small = cfg.replace(numeric_ranges=((0.0, 1024.0),))  # fewer than 16 x 256 toggles
    with pytest.raises(MonitorError, match="range"):
        verilog.convert(MonitoredKernel(kernel("fir").make, ["tap0"], small), name="top")


def test_monitor_hands_the_learner_the_encoded_toggle_counts():
    """In an Amaranth simulation of the monitored FIR, each window's sample holds exactly the
    golden model's encoding of the window's toggle counts."""
    from amaranth import Fragment
    from amaranth.sim import Simulator

    from power_monitor.flow import learner_config
    from power_monitor.kernels import kernel
    from power_monitor.monitor import MonitoredKernel
    from reference import QuantileHoeffdingTree

    regs = ["tap0", "half1"]
    window = 16
    cfg = learner_config(regs, [16, 24], window, 2)
    top = MonitoredKernel(kernel("fir").make, regs, cfg, window=window)
    rng = np.random.default_rng(4)
    n = 5 * window
    data, valid = rng.integers(0, 1 << 16, n), rng.integers(0, 2, n)
    values = {r: [] for r in regs}
    samples = []

    async def bench(ctx):
        learner = top.learner
        for c in range(n):
            ctx.set(top.data, int(data[c]))
            ctx.set(top.valid, int(valid[c]))
            ctx.set(top.label_valid, 0)
            for r in regs:
                values[r].append(ctx.get(signals[r]))
            if ctx.get(learner.samples.valid) and ctx.get(learner.samples.ready):
                samples.append(ctx.get(learner.samples.payload.x.as_value()))
            await ctx.tick()

    frag = Fragment.get(top, None)
    signals = top.monitored
    s = Simulator(frag)
    s.add_clock(1e-6)
    s.add_testbench(bench)
    s.run()
    counts = []
    for r in regs:
        v = np.array(values[r], dtype=np.int64) & ((1 << len(signals[r])) - 1)
        flips = np.array([bin(int(x)).count("1") for x in (v ^ np.r_[0, v[:-1]])])
        counts.append(flips.reshape(-1, window).sum(axis=1))
    expected, _ = QuantileHoeffdingTree(cfg)._encode_rows(np.stack(counts, axis=1).astype(float))
    got = np.array([[(int(x) >> (16 * i)) & 0xFFFF for i in range(2)] for x in samples])
    got = np.where(got >= 1 << 15, got - (1 << 16), got)
    assert len(got) >= 4
    assert np.array_equal(got, expected[:len(got)])


# -- the command line ---------------------------------------------------------------------

@pytest.mark.sim
def test_power_run_end_to_end_on_a_short_workload(tmp_path, power_cache, monkeypatch, capsys):
    from hardodt.cli import main

    monkeypatch.setenv("HARDODT_CACHE", str(power_cache))
    rc = main(["power", "run", "fir", "--windows", "800", "--window", "64", "--fit-windows", "300",
               "--json", "--output", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["kernel"] == "fir" and 1 <= len(out["signals"]) <= 8 and 2 <= out["clusters"] <= 5
    assert 0 < out["online_acc"] <= 100 and 0 < out["offline_acc"] <= 100
    # `power build` on the same data set: the kernel's own figures stay in the output
    # beside its name (the synthesis and nextpnr runs stand in: they are benchmarks)
    import power_monitor.monitor as monitor

    seen = {}

    def fake_overhead(kernel_name, registers, config, build_dir, **kw):
        seen.update(kw, registers=registers)
        return {"kernel": {"lut": 100, "ff": 50, "bram": 0, "dsp": 0, "fmax_mhz": 114.7},
                "monitored": {"lut": 300, "ff": 150, "bram": 1, "dsp": 2, "fmax_mhz": 34.0},
                "fmax_change_pct": -70.36}

    monkeypatch.setattr(monitor, "overhead", fake_overhead)
    rc = main(["power", "build", "fir", "--windows", "800", "--window", "64", "--fit-windows",
               "300", "--placer", "heap", "--json", "--output", str(tmp_path)])
    built = json.loads(capsys.readouterr().out)
    assert rc == 0 and built["kernel"] == "fir" and built["signals"] == out["signals"]
    assert built["alone"]["fmax_mhz"] == 114.7 and built["monitored"]["fmax_mhz"] == 34.0
    # what was asked is passed on, and nothing else: place_and_route keeps its own defaults
    assert seen["placer"] == "heap" and seen["router"] is None and seen["placement"] is None
    assert seen["registers"] == out["signals"]


def test_registers_are_found_by_their_netlist_names():
    from amaranth import Fragment, Module, Signal

    from power_monitor.kernels import kernel
    from power_monitor.monitor import MonitorError, find_registers

    frag = Fragment.get(kernel("histogram").make(), None)
    found = find_registers(frag, ["head", "wr__en"])  # wr__en: a copy of a register
    assert found["head"].name == "head" and len(found["wr__en"]) == 1
    m = Module()
    a, b = Signal(name="x"), Signal(name="x")
    m.d.sync += [a.eq(~a), b.eq(a)]
    with pytest.raises(MonitorError, match="not unique"):
        find_registers(Fragment.get(m, None), ["x"])


def test_report_table_gives_the_overhead_and_the_fmax_change_when_placed():
    from power_monitor.report import table

    row = {"kernel": "fir", "signals": ["a", "b"], "clusters": 3, "offline_acc": 90.0,
           "online_acc": 89.9, "online_after_drift": 91.4, "offline_early_after_drift": 87.5,
           "ceiling_after_drift": 92.0, "cosim": {"agree": True, "samples": 100}}
    placed = {"kernel": {"lut": 484, "ff": 199, "bram": 0.0, "dsp": 0, "fmax_mhz": 119.06},
              "monitored": {"lut": 17607, "ff": 13178, "bram": 25.0, "dsp": 21, "fmax_mhz": 34.01},
              "overhead_pct": {"lut": 3537.81, "ff": 6522.11, "bram": None, "dsp": None},
              "fmax_change_pct": -71.43}
    unplaced = {k: v for k, v in placed.items() if k != "fmax_change_pct"}
    lines = table([{**row, "overhead": placed}, {**row, "overhead": unplaced}, row]).splitlines()
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|") == lines[4].count("|")
    assert "| 484 | 199 | 0 | 0 | +3537.8 / +6522.1 / n/a / n/a | 119.1 / 34.0 (-71.4 %) |" in lines[2]
    assert "| not placed |" in lines[3] and "| not built | - |" in lines[4]
    assert lines[2].endswith("| 92.00 | agrees (100 windows) |")
