"""The quantile learners' read-modify-write pipeline against the golden model, sample by sample.

Back-to-back samples at the same element and class (the hazard that
forwarding solves) are frequent here, and random gaps are inserted.
"""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hardodt import Config
from reference.units import GoldenQuantileStep
from rtl.quantile_learner import QuantileLearner


@pytest.mark.parametrize(("fields", "gap_rate"), [
    (dict(), 0.0),
    (dict(), 0.4),
    (dict(quantiles=3, word_bits=12, fraction_bits=10, step=0.05, step_schedule="constant"), 0.2),
])
def test_pipeline_matches_the_golden_model(fields, gap_rate):
    cfg = Config(numeric_attributes=2, classes=3, elements=4, max_leaves=4, max_depth=2,
                 grace_period=2**19, **fields)
    fx = cfg.fixed
    rng = np.random.default_rng(7)
    depth = cfg.element_capacity * cfg.n_classes
    init = [[rng.integers(-fx.one, fx.one + 1, size=cfg.quantiles).tolist() for _ in range(depth)]
            for _ in range(cfg.n_numeric)]
    dut = QuantileLearner(cfg, init=init)

    samples = []
    counts = {}
    for _ in range(300):
        # few addresses: consecutive samples often hit the same (element, class)
        e, c = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        counts[e, c] = counts.get((e, c), 0) + 1
        x = rng.integers(-fx.one, fx.one + 1, size=cfg.n_numeric).tolist()
        first = cfg.initial_quantiles == "first" and counts[e, c] == 1
        samples.append((e, c, x, counts[e, c], first))

    # the golden model, one sample after the other
    golden = GoldenQuantileStep(cfg)
    expected = [[list(w) for w in init[i]] for i in range(cfg.n_numeric)]
    for e, c, x, count, first in samples:
        addr = e * cfg.n_classes + c
        for i in range(cfg.n_numeric):
            expected[i][addr] = golden(expected[i][addr], x[i], count, first)

    got = []

    async def bench(ctx):
        for e, c, x, count, first in samples:
            while rng.random() < gap_rate:
                ctx.set(dut.samples.valid, 0)
                await ctx.tick()
            ctx.set(dut.samples.valid, 1)
            ctx.set(dut.samples.p, {"element": e, "cls": c, "x": x, "count": count,
                                    "first": first})
            await ctx.tick()
        ctx.set(dut.samples.valid, 0)
        await ctx.tick().repeat(3)
        for mem in dut.memories:
            got.append([[ctx.get(mem.data[a])[k] for k in range(cfg.quantiles)]
                        for a in range(depth)])

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == expected
