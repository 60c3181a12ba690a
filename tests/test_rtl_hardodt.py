"""The whole learner in the Amaranth simulator on a tiny configuration.

Faster to iterate on than Verilator and independent of it: back-to-back runs of
2, 3 and more samples at the same leaf (the read-modify-write forwarding), and
an element pool of two that runs out (inactive leaves), checked prediction by
prediction and counter by counter against the golden model.
"""

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Shape
from amaranth.sim import Simulator

from hardodt import Config
from reference import QuantileHoeffdingTree
from reference.kernels import STAT_NAMES
from rtl import HardODT
from rtl.params import HardwareParams, trigger_latency
from sim.readback import decode_stats, pack_samples


def _stream(n=900, seed=2):
    rng = np.random.default_rng(seed)
    xs, side = [], 0
    while len(xs) < n:
        k = int(rng.choice([1, 2, 3, 4, 6]))  # runs at one side of x = 0
        xs += list(rng.uniform(0.02, 1, k) * (1 if side else -1))
        side ^= 1
    x = np.array(xs[:n])[:, None]
    y = ((x[:, 0] > 0) ^ (np.abs(x[:, 0]) > 0.5) ^ (rng.random(n) < 0.05)).astype(np.int64)
    return x, y


@pytest.mark.parametrize("split_delay", [8, 6])
def test_back_to_back_samples_and_an_exhausted_pool_in_the_amaranth_simulator(split_delay):
    """(``split_delay = 6`` is the least this depth allows: the input's gate closes at
    a commit with no cycle to spare, and the sample index wraps around.)"""
    cfg = Config(numeric_attributes=1, classes=2, grace_period=20, split_delay=split_delay,
                 max_depth=3, max_leaves=8, elements=2, quantiles=4, word_bits=16,
                 fraction_bits=14, count_bits=10)
    assert split_delay >= trigger_latency(cfg)
    x, y = _stream()
    golden = QuantileHoeffdingTree(cfg)
    xn, xc = golden._encode_rows(x)
    learn = np.ones(len(y), bool)
    expected = golden._run(xn, xc, y, learn)
    dut = HardODT(cfg)
    words = pack_samples(dut.params, xn, xc, y, learn)
    got = []

    async def bench(ctx):
        ctx.set(dut.predictions.ready, 1)
        sent = 0
        for _ in range(4 * len(words)):
            ctx.set(dut.samples.valid, sent < len(words))
            if sent < len(words):
                ctx.set(dut.samples.payload.as_value(), words[sent])
            in_ready = ctx.get(dut.samples.ready)
            out_valid = ctx.get(dut.predictions.valid)
            out = ctx.get(dut.predictions.payload.as_value())
            await ctx.tick()
            if sent < len(words) and in_ready:
                sent += 1
            if out_valid:
                got.append(out)
            if len(got) == len(words):
                break
        for _ in range(50):
            await ctx.tick()
        stats = ctx.get(dut.stats.as_value())
        hw = decode_stats(stats)
        gold = {k: golden.stats[k] for k in STAT_NAMES}
        assert hw == gold

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == expected.tolist()
    assert golden.stats["inactive_leaves"] > 0 and golden.stats["splits"] >= 2


@pytest.mark.parametrize("max_depth", [3, 7])
def test_read_back_rows_of_a_preloaded_tree_when_debug_valid_rises(max_depth):
    """The read-back port: every row of every level of a preloaded image (random node
    words, a learned tree's counters) arrives with ``debug_valid``, exactly
    ``readback_cycles`` after ``debug_en`` (one cycle through the multiplexer with 4
    levels; down the byte chain with 8; not before: the first read's row is not there
    at once), in any order of levels; ``debug_valid`` falls with ``debug_en``. The
    element counters arrive one cycle after ``debug_en``."""

    from rtl.node_readback import CHAIN_MIN_LEVELS, readback_cycles
    from rtl.preload import preload_image

    cfg = Config(numeric_attributes=1, classes=2, grace_period=20, split_delay=12,
                 max_depth=max_depth, max_leaves=8, elements=4, quantiles=4, word_bits=16,
                 fraction_bits=14, count_bits=10)
    x, y = _stream(600)
    golden = QuantileHoeffdingTree(cfg)
    xn, xc = golden._encode_rows(x)
    golden._run(xn, xc, y, np.ones(len(y), bool))
    assert golden.stats["splits"] >= 2
    # the learned tree does not reach every level, so every row of every level gets
    # its own random node words: a level whose row does not reach the port (a broken
    # hop anywhere in the chain) shows
    p = HardwareParams(cfg)
    image = preload_image(p, golden)
    rng = np.random.default_rng(max_depth)
    shapes = {name: Shape.cast(f.shape) for name, f in p.node_layout}

    def word():
        return {name: int(rng.integers(-(1 << (sh.width - 1)) if sh.signed else 0,
                                       1 << (sh.width - sh.signed)))
                for name, sh in shapes.items()}

    image = dataclasses.replace(image, levels=[[[word(), word()] for _ in level]
                                               for level in image.levels])
    dut = HardODT(cfg, preload=image)
    pair = p.pair_layout
    rows = [(lv, row, pair.const(list(words)).as_value().value)
            for lv, level_rows in enumerate(image.levels) for row, words in enumerate(level_rows)]
    assert len({want for _lv, _row, want in rows}) == len(rows)  # rows that tell each other apart
    assert {lv for lv, _row, _want in rows} == set(range(p.levels))
    counters = [p.counter_layout.const(c).as_value().value for c in image.counters]
    assert any(counters)
    cycles = readback_cycles(p)
    assert cycles == (1 if p.levels < CHAIN_MIN_LEVELS else -(-pair.size // 8) * (p.levels + 4))

    async def bench(ctx):
        ctx.set(dut.predictions.ready, 1)
        for i, (lv, row, want) in enumerate(rows + rows[::-1]):
            ctx.set(dut.debug_en, 1)
            ctx.set(dut.debug_level, lv)
            ctx.set(dut.debug_row, row)
            early = ctx.get(dut.debug_node.as_value())
            for _ in range(cycles - 1):
                await ctx.tick()
                assert not ctx.get(dut.debug_valid), (lv, row)
            await ctx.tick()
            assert ctx.get(dut.debug_valid), (lv, row)
            assert ctx.get(dut.debug_node.as_value()) == want, (lv, row)
            await ctx.tick()  # held while debug_en stays set
            assert ctx.get(dut.debug_valid) and ctx.get(dut.debug_node.as_value()) == want
            if i == 0:
                assert early != want, "the first row came before its read"
            ctx.set(dut.debug_en, 0)
            await ctx.tick()
            assert not ctx.get(dut.debug_valid)
        for element, want in enumerate(counters):
            ctx.set(dut.debug_en, 1)
            ctx.set(dut.debug_row, element)
            await ctx.tick()
            assert ctx.get(dut.debug_counter.as_value()) == want, element
        ctx.set(dut.debug_en, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_a_tree_with_max_leaves_fits_the_levels_sized_for_it():
    """A learned tree that reaches ``max_leaves`` loads into level memories sized by
    ``rtl.params.max_pairs_per_level`` (``preload_image`` refuses a level that overflows)."""
    from rtl.params import max_pairs_per_level
    from rtl.preload import preload_image

    cfg = Config(numeric_attributes=1, classes=2, grace_period=20, split_delay=12,
                 max_depth=8, max_leaves=8, elements=8, quantiles=4, word_bits=16,
                 fraction_bits=14, count_bits=10)
    x, y = _stream(4000, seed=5)
    golden = QuantileHoeffdingTree(cfg)
    xn, xc = golden._encode_rows(x)
    golden._run(xn, xc, y, np.ones(len(y), bool))
    assert golden.stats["splits"] == cfg.max_leaves - 1
    p = HardwareParams(cfg)
    assert max(p.level_rows(lv) for lv in range(p.levels)) == max_pairs_per_level(8) == 4
    image = preload_image(p, golden)
    assert sum(len(level) for level in image.levels) == sum(map(p.level_rows, range(p.levels)))


@pytest.mark.parametrize("attributes", [1, 2])
def test_idle_waits_for_the_last_quantile_write_back(attributes):
    """With registered quantile rows (more than one lane) a sample's rows are written a
    cycle after its last stage: ``idle``, which lets a run-time load write the memories,
    rises one cycle later than with one lane, after that write."""
    cfg = Config(numeric_attributes=attributes, classes=2, max_depth=2, max_leaves=4,
                 elements=4, quantiles=2, word_bits=16, fraction_bits=14, count_bits=8,
                 split_delay=16)
    dut = HardODT(cfg)
    p = dut.params
    assert p.schedule_stages == (2 if attributes > 1 else 0)
    golden = QuantileHoeffdingTree(cfg)
    xn, xc = golden._encode_rows(np.zeros((1, attributes)))
    word = pack_samples(p, xn, xc, np.array([1]), np.ones(1, bool))[0]
    waited = []

    async def bench(ctx):
        ctx.set(dut.predictions.ready, 1)
        for _ in range(5):  # out of the reset's restart
            await ctx.tick()
        assert ctx.get(dut.idle)
        ctx.set(dut.samples.valid, 1)
        ctx.set(dut.samples.payload.as_value(), word)
        assert ctx.get(dut.samples.ready)
        await ctx.tick()
        ctx.set(dut.samples.valid, 0)
        for cycle in range(1, 60):
            if ctx.get(dut.idle):
                waited.append(cycle)
                return
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # the sample is in R_0 a cycle after it enters and in the quantile stage QS cycles
    # later; with one lane its prediction leaving the output FIFO is the last thing in
    # flight, with registered rows the write back (without the wait, idle rose a cycle
    # earlier, at QS + 2, with the write still to come)
    assert waited == [p.quantile_stage + 3]
