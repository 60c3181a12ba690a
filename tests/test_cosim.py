"""The whole learner in Verilator against the golden model, on short streams.

Each case builds one configuration and streams a few thousand samples through
it with seeded random input gaps and output back-pressure; the bench
(``sim/hardodt_bench.py``) fails on any differing prediction, statistic or
tree node. The cases between them cover: numeric and categorical attributes,
2, 4 and 10 classes, an element pool that runs out, the depth and leaf
limits, saturating counters, narrow and wide words, one lane, some lanes and
all lanes, Q of 3, 5 and 8, predict-only samples, the constant step schedule,
no tie rule, both counts for the Hoeffding n, runs of samples at the same
leaf, the compact trial (wide divider stages), resets
mid-stream and a long pause, a tree preloaded from software with a trial
pending, and statistics counters wrapping at 2^32.
"""

import numpy as np
import pytest

from hardodt import Config
from hardodt.estimate import judge_latency, latency_cycles, performance, trial_cycles
from hardodt.streams.generators import generate
from reference import QuantileHoeffdingTree
from rtl import HardODT
from rtl.params import HardwareParams
from sim.cosim import CosimulationMismatch, cosimulate, encode_stream
from sim.runner import run_bench

pytestmark = pytest.mark.sim


def _run(tmp_path, name, samples, gap=0.0, stall=0.0, learn_rate=1.0, **overrides):
    stream = generate(name, samples, seed=3)
    cfg = stream.config(**overrides)
    xn, xc, y = encode_stream(cfg, stream)
    learn = np.random.default_rng(5).random(len(y)) < learn_rate
    report = cosimulate(cfg, xn, xc, y, learn, build_dir=tmp_path, gap=gap, stall=stall, seed=7)
    assert report["samples"] == samples and report["mismatches"] == 0
    assert report["tree_agrees"]
    assert report["stats_hardware"] == report["stats_golden"]
    if report["stats_golden"]["split_trials"]:  # the model's trial is the longest possible
        assert report["trial_cycles_max"] <= trial_cycles(cfg)
    return cfg, report


def _model_predicts(cfg, report):
    """The performance model (hardodt.estimate) against the measured cycles: the latency
    exactly, the cycles per sample within 2 % given the stream's trials and splits."""
    st = report["stats_golden"]
    perf = performance(cfg, report["samples"], st["split_trials"], st["splits"])
    assert report["latency_cycles"] == latency_cycles(cfg)
    assert abs(perf.cycles_per_sample - report["cycles_per_sample"]) <= (
        0.02 * report["cycles_per_sample"]), (perf, report["cycles"])


def test_numeric_with_the_pool_and_the_limits_exhausted(tmp_path):
    cfg, r = _run(tmp_path, "sea", 3000, gap=0.3, stall=0.3, learn_rate=0.9, elements=3,
                  max_depth=3, max_leaves=5, grace_period=50, split_delay=24)
    st = r["stats_hardware"]
    assert st["inactive_leaves"] > 0  # a child got no element
    assert st["inactive_samples"] > 0  # ... and kept predicting without learning
    assert st["trials_skipped_depth"] + st["trials_skipped_leaves"] > 0
    assert st["samples"] == 3000 and st["learned"] < 3000  # predict-only samples were not learned


def test_categorical_and_numeric_two_lanes_narrow_words(tmp_path):
    cfg, r = _run(tmp_path, "agrawal", 3000, gap=0.1, stall=0.1, lanes=2, word_bits=16,
                  fraction_bits=14, grace_period=100, split_delay=30, max_depth=8, quantiles=5,
                  split_points=17)  # Q not a power of two: left counts by a constant reciprocal
    assert cfg.n_categorical == 3 and r["stats_hardware"]["splits"] >= 2
    assert r["cycles_per_sample"] >= 3  # six numeric attributes over two lanes


def test_four_classes_one_lane_saturating_counters(tmp_path):
    cfg, r = _run(tmp_path, "rbf", 3000, stall=0.2, lanes=1, count_bits=8, grace_period=60,
                  split_delay=40, max_depth=6, max_leaves=64, elements=64, quantiles=3,
                  split_points=4, step_schedule="constant", tau=0.0, hoeffding_n="learned")
    assert cfg.n_classes == 4
    assert r["stats_hardware"]["frozen_samples"] > 0  # n reached 2^8 - 1 somewhere


def test_trials_longer_than_the_window_hold_the_input_as_the_model_counts(tmp_path):
    cfg, r = _run(tmp_path, "hyperplane", 3000, grace_period=50, split_delay=24, max_depth=6,
                  max_leaves=32, elements=32, split_points=6, lanes=5)
    perf = performance(cfg, 3000, r["stats_golden"]["split_trials"], r["stats_golden"]["splits"])
    assert cfg.n_numeric == 10 and perf.groups == 2 and perf.stall_per_trial > 0
    _model_predicts(cfg, r)


@pytest.mark.parametrize("rows", [1, 2])
def test_levels_that_compare_one_level_down(tmp_path, rows):
    """The deep levels (a block RAM each on the default design) compare the node met one
    level up from the slot's registers (rtl.tree_level): here from level 0 (rows = 1)
    or from level 2 on, after two levels that compare where they read (rows = 2), with
    numeric and categorical nodes, input gaps and output stalls. One lane: levels of one
    stage (with more, every level takes two, and none compares one level down)."""
    cfg, r = _run(tmp_path, "agrawal", 3000, gap=0.2, stall=0.2, grace_period=20,
                  delta=0.05, tau=0.2, split_delay=30, max_depth=6, max_leaves=32,
                  elements=32, lanes=1, retimed_rows=rows)
    p = HardwareParams(cfg)
    assert p.level_stages == 1 and p.retimed_levels == p.levels - (0 if rows == 1 else 2)
    # the golden tree grows to the depth limit (6) and the leaf limit: 31 splits
    assert cfg.n_categorical and r["stats_golden"]["splits"] == 31


def test_the_compact_trial_wide_divider_stages(tmp_path):
    """The area option for small FPGAs, dividers of 5 quotient bits per stage: same
    results, the cycles the model counts, trials longer than their window."""
    cfg, r = _run(tmp_path, "sea", 3000, grace_period=50, split_delay=24, max_depth=5,
                  max_leaves=16, elements=16, count_bits=12, divider_stage_bits=5)
    st = r["stats_golden"]
    perf = performance(cfg, 3000, st["split_trials"], st["splits"])
    assert st["splits"] >= 2 and perf.stall_per_trial > 0
    assert perf.trial_cycles == 3 * cfg.split_points + (5 + 1) + 1 + 16
    _model_predicts(cfg, r)


def test_a_reset_mid_stream_returns_to_the_empty_tree(tmp_path):
    """Resets pulsed while samples, predictions and trials are in flight: from each on,
    the hardware agrees with a fresh golden model (predictions in flight are lost); and a
    300,000-cycle pause in the input resumes exactly."""
    stream = generate("agrawal", 4000, seed=5)
    cfg = stream.config(grace_period=40, split_delay=30, max_depth=5, max_leaves=16,
                        elements=8, lanes=2)
    xn, xc, y = encode_stream(cfg, stream)
    report = cosimulate(cfg, xn, xc, y, build_dir=tmp_path, gap=0.1, stall=0.3, seed=9,
                        resets=(1234, 2345, 2346), pause=(3000, 300_000))
    assert report["mismatches"] == 0 and report["tree_agrees"]
    assert report["stats_hardware"] == report["stats_golden"]
    assert report["stats_hardware"]["samples"] == 4000 - 2346  # counted since the last reset
    assert report["stats_golden"]["splits"] >= 2
    assert 0 < report["dropped"] < 3 * (latency_cycles(cfg) + 8)
    assert report["cycles"] > 300_000


def test_a_preloaded_tree_continues_as_the_golden_model(tmp_path):
    """A tree learned in software (through its JSON, a split trial still pending) is the
    design's initial state; the stream agrees with the model continuing; a reset then
    returns to the empty tree, counters and pending trial included (not to the preloaded one)."""
    from hardodt import ConfigError
    from reference.kernels import P_ACTIVE
    from rtl.params import HardwareParams
    from rtl.preload import preload_image

    stream = generate("agrawal", 4000, seed=5)
    cfg = stream.config(grace_period=40, split_delay=30, max_depth=5, max_leaves=16,
                        elements=8, lanes=2)
    xn, xc, y = encode_stream(cfg, stream)
    model = QuantileHoeffdingTree(cfg.replace(lanes=0))  # lanes: hardware only
    learn = np.ones(len(y), dtype=bool)
    model._run(xn[:1500], xc[:1500], y[:1500], learn[:1500])
    k = 1500
    while not model._pending[0][P_ACTIVE] or model._pending[0][5] == 0:  # a split to come
        model._run(xn[k:k + 1], xc[k:k + 1], y[k:k + 1], learn[k:k + 1])
        k += 1
    model.save(tmp_path / "tree.json")
    loaded = QuantileHoeffdingTree.load(tmp_path / "tree.json")
    splits_before = loaded.stats["splits"]
    assert splits_before >= 1
    report = cosimulate(cfg, xn[k:], xc[k:], y[k:], build_dir=tmp_path / "sim", gap=0.1,
                        stall=0.2, seed=4, preload=loaded)
    assert report["mismatches"] == 0 and report["tree_agrees"]
    assert report["stats_hardware"] == report["stats_golden"]
    assert report["stats_golden"]["samples"] == 4000  # counted on from the model's
    assert report["stats_golden"]["splits"] > splits_before  # the pending split went in
    again = cosimulate(cfg, xn[k:], xc[k:], y[k:], build_dir=tmp_path / "sim", preload=loaded,
                       resets=(700,))
    assert again["mismatches"] == 0 and again["tree_agrees"]
    assert again["stats_hardware"] == again["stats_golden"]
    assert again["stats_golden"]["samples"] == 4000 - k - 700  # from 0 after the reset
    with pytest.raises(ConfigError, match="differs in grace_period"):
        preload_image(HardwareParams(cfg.replace(grace_period=41)), loaded)


def test_statistics_counters_wrap_modulo_two_to_the_32(tmp_path):
    """The 32-bit statistics counters wrap (docs/hardware.md): preloaded as if 2^32 - 100
    samples had been seen, 2,000 more leave the hardware's count at 1,900."""
    stream = generate("sea", 2000, seed=2)
    cfg = stream.config(grace_period=50, split_delay=24, max_depth=4)
    model = QuantileHoeffdingTree(cfg)
    model._stats[0] = model._stats[1] = 2**32 - 100  # samples, learned
    model.save(tmp_path / "tree.json")
    xn, xc, y = encode_stream(cfg, stream)
    report = cosimulate(cfg, xn, xc, y, build_dir=tmp_path / "sim",
                        preload=QuantileHoeffdingTree.load(tmp_path / "tree.json"))
    assert report["mismatches"] == 0 and report["tree_agrees"]
    assert report["stats_hardware"]["samples"] == report["stats_hardware"]["learned"] == 1900
    assert report["stats_hardware"] == report["stats_golden"]
    assert report["stats_golden"]["splits"] >= 1


def test_categorical_only_ten_classes(tmp_path):
    cfg, r = _run(tmp_path, "led", 2000, gap=0.05, grace_period=100, split_delay=24,
                  max_depth=6, max_leaves=32, elements=32)
    assert cfg.n_numeric == 0 and cfg.n_classes == 10
    assert r["stats_hardware"]["splits"] >= 1


@pytest.mark.parametrize("attributes", [1, 3], ids=["one_lane", "registered_rows"])
def test_runs_of_samples_at_one_leaf_back_to_back(tmp_path, attributes):
    """After the first split, runs of 1, 2, 3, 4 and 7 samples alternate between the two
    leaves at one sample per cycle: every read-modify-write sees its predecessor's write.
    With three attributes in three lanes the quantile rows are read two stages ahead and
    registered (``rtl.quantile_lane``): a run's second sample takes the first's row from
    the forwarding register, its third from the transparent read; the other attributes
    reach a new maximum or minimum at every sample, so a stale min or max shows too. The
    trials last as long as the model says: with one lane the Hoeffding bound is the
    longer chain, with three the candidates."""
    rng = np.random.default_rng(11)
    first = rng.uniform(-1, 1, 600)
    runs = []
    side = 0
    while sum(len(r) for r in runs) < 2400:
        k = int(rng.choice([1, 2, 3, 4, 7]))
        runs.append(rng.uniform(0.05, 1, k) * (1 if side else -1))
        side ^= 1
    x = np.concatenate([first, *runs])[:, None]
    y = (x[:, 0] > 0).astype(np.int64) ^ (rng.random(len(x)) < 0.1)
    if attributes > 1:  # beside the attribute that splits, new extremes at every sample:
        t = np.arange(len(x)) / len(x)  # each sample moves its row's max or min, and
        side = np.where(np.arange(len(x)) % 2 == 0, 1.0, -1.0) * t  # the next the other
        x = np.hstack([x, np.column_stack([side] * (attributes - 1))])
    # one lane: one split point and 15 quotient bits a divider stage (two stages), so that
    # the Hoeffding bound (rtl.hoeffding), not the candidates, decides the trial's length
    short = dict(split_points=1, divider_stage_bits=15) if attributes == 1 else {}
    cfg = Config(numeric_attributes=attributes, classes=2, grace_period=100, split_delay=100,
                 max_depth=4, max_leaves=16, elements=16, **short)
    assert (trial_cycles(cfg) == judge_latency(cfg) + 2) == (attributes == 1)
    assert HardwareParams(cfg).schedule_stages == (2 if attributes > 1 else 0)
    m = QuantileHoeffdingTree(cfg)
    xn, xc = m._encode_rows(x)
    report = cosimulate(cfg, xn, xc, y, build_dir=tmp_path)
    assert report["mismatches"] == 0 and report["tree_agrees"]
    assert report["stats_golden"]["splits"] >= 1
    assert report["cycles_per_sample"] < 1.1
    assert report["trial_cycles_max"] == trial_cycles(cfg)  # one attribute, always spread
    _model_predicts(cfg, report)


@pytest.fixture(scope="module")
def wrong_build(tmp_path_factory):
    """One Verilator build of a design made from another configuration, for the two cases
    that catch it (the second finds the same Verilog and keeps the build)."""
    return tmp_path_factory.mktemp("wrong_design")


def test_a_design_built_from_another_configuration_is_caught(wrong_build):
    tmp_path = wrong_build
    stream = generate("sea", 2000, seed=3)
    good = stream.config(grace_period=50, split_delay=24, max_depth=4)
    wrong = good.replace(grace_period=51)
    xn, xc, y = encode_stream(good, stream)
    np.savez(tmp_path / "stream.npz", xn=xn, xc=xc.reshape(len(y), 0), y=y,
             learn=np.ones(len(y), bool))
    env = {"HARDODT_STREAM": str(tmp_path / "stream.npz"),
           "HARDODT_REPORT": str(tmp_path / "report.json")}
    with pytest.raises(Exception, match="bench tests failed"):
        run_bench(HardODT(wrong), "hardodt", good, "sim.hardodt_bench", tmp_path, extra_env=env)
    assert (tmp_path / "report.json").is_file()


def test_a_mismatch_report_names_the_sample_and_both_leaves(wrong_build):
    # The same wrong design through cosimulate: the error carries the report.
    stream = generate("sea", 2000, seed=3)
    good = stream.config(grace_period=50, split_delay=24, max_depth=4)
    xn, xc, y = encode_stream(good, stream)
    import sim.cosim as cosim_module

    real = cosim_module.HardODT
    cosim_module.HardODT = lambda cfg, preload=None: real(cfg.replace(grace_period=51), preload)
    try:
        with pytest.raises(CosimulationMismatch) as caught:
            cosimulate(good, xn, xc, y, build_dir=wrong_build)
    finally:
        cosim_module.HardODT = real
    detail = caught.value.report["first_mismatch_detail"]
    assert detail["hardware"] != detail["golden"]
    assert detail["hardware_leaf"]["kind"] in ("leaf", "inactive")
    assert detail["golden_leaf"]["kind"] in ("leaf", "inactive")


@pytest.mark.slow
def test_whole_electricity_default_design(tmp_path, elec):
    """The issue's targets: bit-exact, at most 1.02 cycles per sample, within two minutes."""
    import time

    cfg = elec.config()
    xn, xc, y = encode_stream(cfg, elec)
    t0 = time.perf_counter()
    report = cosimulate(cfg, xn, xc, y, build_dir=tmp_path)
    assert time.perf_counter() - t0 < 180
    assert report["samples"] == 45_312 and report["mismatches"] == 0 and report["tree_agrees"]
    assert report["cycles_per_sample"] <= 1.02
    _model_predicts(cfg, report)
