"""The quantile update unit agrees with the golden model on every bit (Amaranth simulator)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hardodt import Config, ConfigError
from reference.units import GoldenQuantileStep
from rtl import QuantileStep

CASES = [
    dict(),
    dict(step_schedule="constant"),
    dict(quantiles=1, word_bits=16, fraction_bits=14),
    dict(quantiles=5, word_bits=12, fraction_bits=10, step=0.05, initial_quantiles="first"),
    dict(quantiles=8, word_bits=8, fraction_bits=6, step=0.5, step_schedule="constant"),
]


@pytest.mark.parametrize("fields", CASES)
def test_quantile_step_matches_the_golden_model(fields):
    cfg = Config(numeric_attributes=1, classes=2, grace_period=2**19, **fields)
    fx = cfg.fixed
    golden = GoldenQuantileStep(cfg)
    dut = QuantileStep(cfg)
    rng = np.random.default_rng(sum(map(ord, repr(fields))))
    vectors = []
    for _ in range(150):
        q = rng.integers(fx.word_min, fx.word_max + 1, size=cfg.quantiles)
        if rng.random() < 0.2:  # estimates near the edges, to exercise saturation
            q = np.where(rng.random(cfg.quantiles) < 0.5, fx.word_max - q % 8, fx.word_min + q % 8)
        x = int(rng.integers(-fx.one, fx.one + 1))
        if rng.random() < 0.1:
            x = int(q[0])  # equal: the estimate moves down
        count = int(rng.choice([1, 2, 3, 7, 8, 100, 129, 2**cfg.count_bits - 1]))
        first = cfg.initial_quantiles == "first" and rng.random() < 0.2
        vectors.append((q.tolist(), x, count, first))

    got = []

    async def bench(ctx):
        for q, x, count, first in vectors:
            for k, v in enumerate(q):
                ctx.set(dut.q[k], v)
            ctx.set(dut.x, x)
            ctx.set(dut.count, count)
            ctx.set(dut.first, first)
            got.append([ctx.get(dut.q_next[k]) for k in range(cfg.quantiles)])

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    for (q, x, count, first), hw in zip(vectors, got, strict=True):
        assert hw == golden(q, x, count, first), (q, x, count, first)


def test_verilog_is_generated():
    from amaranth.back import verilog

    text = verilog.convert(QuantileStep(Config(quantiles=4)), name="quantile_step")
    assert "module quantile_step" in text and "q_next" in text


def test_float_configuration_is_refused():
    with pytest.raises(ConfigError, match="number = 'fixed'"):
        QuantileStep(Config(number="float"))


@pytest.mark.parametrize("fields", [dict(), dict(quantiles=5, word_bits=12, fraction_bits=10,
                                                   step=0.05)])
def test_step_schedule_moves_for_every_shift(fields):
    """The decreasing schedule's moves, ``max(alpha_k * 2^-s, lambda_k)`` up and
    ``max((1 - alpha_k) * 2^-s, lambda_k')`` down with ``s = floor(log2 count)``, at both
    ends of every ``s`` (the table the RTL looks up must be indexed by the right shift)."""
    from rtl.quantile import StepSchedule

    cfg = Config(numeric_attributes=1, classes=2, **fields)
    fx = cfg.fixed
    dut = StepSchedule(cfg)
    counts = sorted({c for s in range(cfg.count_bits) for c in (1 << s, (2 << s) - 1)})
    got = []

    async def bench(ctx):
        for count in counts:
            ctx.set(dut.count, count)
            got.append([(ctx.get(dut.moves[k].up), ctx.get(dut.moves[k].down))
                        for k in range(cfg.quantiles)])

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    for count, hw in zip(counts, got, strict=True):
        s = count.bit_length() - 1
        want = [(max(int(fx.alpha[k]) >> s, int(fx.step_up[k])),
                 max(int(fx.one - fx.alpha[k]) >> s, int(fx.step_down[k])))
                for k in range(cfg.quantiles)]
        assert hw == want, count


@pytest.mark.parametrize("per_estimate", [False, True])
def test_registered_moves_are_the_moves_a_cycle_later(per_estimate):
    """``rtl.quantile.registered_moves``: only the columns that change are registered
    (once, or per estimate: each estimate's own columns, ``estimate_move_columns``) and
    the constants wired in after them; for every shift the moves come out a cycle later
    as the schedule gave them."""
    from amaranth.hdl import Module

    from rtl.quantile import StepSchedule, estimate_move_columns, move_columns, registered_moves

    cfg = Config(numeric_attributes=1, classes=2)
    m = Module()
    schedule = m.submodules.schedule = StepSchedule(cfg)
    held = registered_moves(m, cfg, schedule.moves, "moves", per_estimate=per_estimate)
    kept = move_columns(cfg)[0]
    per = estimate_move_columns(cfg)
    assert all(set(c) <= set(range(len(kept))) for c in per)
    assert len(kept) < sum(len(c) for c in per)  # columns shared between estimates
    counts = sorted({c for s in range(cfg.count_bits) for c in (1 << s, (2 << s) - 1)})

    async def bench(ctx):
        last = None
        for count in counts:
            ctx.set(schedule.count, count)
            want = ctx.get(schedule.moves.as_value())
            await ctx.tick()
            assert ctx.get(held.as_value()) == want, (count, last)
            last = count

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("groups", [1, 2, 3, 5, 6, 7, 12])
def test_row_address_is_element_times_groups_plus_group(groups):
    """``rtl.quantile_lane.row_address``: the constant product as shifted copies added
    (no multiplier for yosys to give a DSP) is the product, for every element and group."""
    from amaranth.hdl import Module, Signal

    from rtl.quantile_lane import row_address

    element, group, out = Signal(6), Signal(range(groups)), Signal(10)
    m = Module()
    m.d.comb += out.eq(row_address(element, group, groups))

    async def bench(ctx):
        for e in range(64):
            for g in range(groups):
                ctx.set(element, e)
                ctx.set(group, g)
                assert ctx.get(out) == e * groups + g

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
