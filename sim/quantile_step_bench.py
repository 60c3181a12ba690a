"""cocotb bench: the quantile update unit against the golden model, vector by vector."""

import os

import cocotb
import numpy as np
from cocotb.triggers import Timer

from hardodt import Config
from reference.units import GoldenQuantileStep


@cocotb.test()
async def random_vectors(dut):
    cfg = Config.from_toml(os.environ["HARDODT_CONFIG"])
    fx, w, nq = cfg.fixed, cfg.word_bits, cfg.quantiles
    golden = GoldenQuantileStep(cfg)
    rng = np.random.default_rng(int(os.environ.get("BENCH_SEED", "1")))
    mask = (1 << w) - 1
    for _ in range(int(os.environ.get("BENCH_VECTORS", "200"))):
        q = [int(v) for v in rng.integers(fx.word_min, fx.word_max + 1, size=nq)]
        x = int(rng.integers(-fx.one, fx.one + 1))
        if rng.random() < 0.3:  # at the word's ends: the moves saturate
            edge = int(rng.integers(0, 64))
            top = rng.random() < 0.5
            q = [fx.word_max - edge if top else fx.word_min + edge for _ in q]
            x = fx.word_max if top else fx.word_min
        count = int(rng.choice([1, 2, 5, 64, 129, 2**cfg.count_bits - 1]))
        first = bool(cfg.initial_quantiles == "first" and rng.random() < 0.2)
        packed = 0
        for k, v in enumerate(q):
            packed |= (v & mask) << (k * w)
        dut.q.value = packed
        dut.x.value = x & mask
        dut.count.value = count
        dut.first.value = int(first)
        await Timer(1, unit="ns")
        out = int(dut.q_next.value)
        hw = []
        for k in range(nq):
            v = (out >> (k * w)) & mask
            hw.append(v - (1 << w) if v >> (w - 1) else v)
        expected = golden(q, x, count, first)
        assert hw == expected, f"q={q} x={x} count={count} first={first}: {hw} != {expected}"
