"""Random valid configurations and streams for the fuzzed co-simulation (hypothesis).

:func:`cases` draws one *case*: a configuration the RTL generator accepts (any
mix of numeric and categorical attributes, classes declared beyond those seen,
Q, P, E, depth and leaf limits, lanes, word and counter widths, n_min, the
Hoeffding test's knobs, the step schedule, the hardware-only trial options),
a stream cut from one of the seeded generators (a subset of its columns, the
declared numeric ranges sometimes narrower than the data so values saturate),
which samples learn, the bench's input-gap and back-pressure rates, and sometimes
a tree learned in software on the stream's start as the design's initial state
(``rtl.preload``) and a reset in the middle of the rest.
:func:`run_case` co-simulates it and raises on any disagreement. The
strategies are sized so that one case builds and runs in well under a minute.

Used by ``tests/test_fuzz.py`` (a few examples, fixed seed) and
``benchmarks/fuzz.py`` (hundreds). hypothesis is a test dependency only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardodt.config import ConfigError
from hardodt.streams.generators import generate
from hardodt.streams.table import Stream

__all__ = ["Case", "cases", "fuzz_settings", "run_case"]

GENERATOR_NAMES = ("sea", "hyperplane", "rbf", "agrawal", "led")


@dataclass
class Case:
    """One fuzzed co-simulation: everything needed to rerun it."""

    config: object  # hardodt.config.Config
    stream: Stream
    learn: np.ndarray
    gap: float
    stall: float
    bench_seed: int
    drawn: dict = field(default_factory=dict)  # what was drawn, for the failure report
    preload_at: int = 0  # samples learned in software first, the design preloaded with them
    reset_at: int | None = None  # a reset at this sample of the rest

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.drawn.items())


def _subset(stream: Stream, num: list[int], cat: list[int]) -> Stream:
    return Stream(
        name=f"{stream.name}[{','.join(map(str, num))}|{','.join(map(str, cat))}]",
        numeric=stream.numeric[:, num].reshape(len(stream), len(num)),
        categorical=stream.categorical[:, cat].reshape(len(stream), len(cat)),
        labels=stream.labels,
        numeric_names=[stream.numeric_names[i] for i in num],
        categorical_names=[stream.categorical_names[i] for i in cat],
        categorical_levels=[stream.categorical_levels[i] for i in cat],
    )


def cases(max_samples: int = 2500):
    """The hypothesis strategy of :class:`Case` (valid configurations only)."""
    from hypothesis import assume
    from hypothesis import strategies as st

    @st.composite
    def case(draw) -> Case:
        gen = draw(st.sampled_from(GENERATOR_NAMES))
        samples = draw(st.integers(600, max_samples))
        seed = draw(st.integers(0, 2**16))
        full = generate(gen, samples, seed=seed)
        n_num, n_cat = full.numeric.shape[1], full.categorical.shape[1]
        num = sorted(draw(st.sets(st.integers(0, n_num - 1), max_size=min(n_num, 6)))) \
            if n_num else []
        cat = sorted(draw(st.sets(st.integers(0, n_cat - 1), max_size=min(n_cat, 4)))) \
            if n_cat else []
        if not num and not cat:
            num, cat = ([0], []) if n_num else ([], [0])
        stream = _subset(full, num, cat)
        if len(stream.classes) < 2:
            assume(False)
        extra_classes = draw(st.integers(0, 2))
        classes = list(stream.classes) + [f"extra{i}" for i in range(extra_classes)]
        narrow = draw(st.sampled_from([0.0, 0.0, 0.15]))  # values beyond the range saturate
        ranges = []
        for lo, hi in stream.ranges:
            span = hi - lo
            ranges.append([lo + narrow * span, hi - narrow * span])
        word_bits = draw(st.integers(10, 32))
        count_bits = draw(st.integers(8, 16))
        max_depth = draw(st.integers(1, 8))
        elements = draw(st.integers(1, 32))
        fields = {
            "classes": classes,
            "numeric_ranges": ranges,
            "categorical_values": [len(lv) + draw(st.integers(0, 2))
                                   for lv in stream.categorical_levels],
            "quantiles": draw(st.integers(1, 16)),
            "split_points": draw(st.integers(1, 12)),
            "grace_period": draw(st.integers(10, 150)),
            "delta": draw(st.sampled_from([1e-5, 1e-3, 0.05, 0.3])),
            "tau": draw(st.sampled_from([0.0, 0.05, 0.2])),
            "step": draw(st.sampled_from([0.005, 0.01, 0.05])),
            "step_schedule": draw(st.sampled_from(["decreasing", "constant"])),
            "max_depth": max_depth,
            "max_leaves": draw(st.integers(2, 64)),
            "elements": elements,
            "word_bits": word_bits,
            "fraction_bits": word_bits - 2 - draw(st.integers(0, min(2, word_bits - 10))),
            "count_bits": count_bits,
            "hoeffding_n": draw(st.sampled_from(["inherited", "learned"])),
            "split_delay": draw(st.integers(max_depth + 3, 160)),
            "lanes": draw(st.integers(0, len(num))) if num else 0,
            "divider_stage_bits": draw(st.integers(1, 6)),
            "out_of_range": "saturate",
        }
        try:
            config = stream.config(**fields)
        except ConfigError:  # e.g. a step too fine for the fraction bits: not a case
            assume(False)
        learn_rate = draw(st.sampled_from([1.0, 1.0, 0.8]))
        rng = np.random.default_rng(seed)
        learn = rng.random(len(stream)) < learn_rate
        gap = draw(st.sampled_from([0.0, 0.1, 0.4]))
        stall = draw(st.sampled_from([0.0, 0.1, 0.4]))
        preload_at = int(len(stream) * draw(st.sampled_from([0.0, 0.0, 0.3, 0.6])))
        reset_at = draw(st.sampled_from([None, None, None, 0.5]))
        reset_at = None if reset_at is None else int((len(stream) - preload_at) * reset_at)
        drawn = {"generator": gen, "seed": seed, "samples": samples, "numeric": num,
                 "categorical": cat, "learn_rate": learn_rate, "gap": gap, "stall": stall,
                 "preload_at": preload_at, "reset_at": reset_at,
                 **{k: v for k, v in fields.items() if k not in ("numeric_ranges", "classes")},
                 "classes": len(classes), "narrow": narrow}
        return Case(config, stream, learn, gap, stall, bench_seed=seed + 1, drawn=drawn,
                    preload_at=preload_at, reset_at=reset_at)

    return case()


def fuzz_settings(examples: int):
    """hypothesis settings for ``examples`` cases: no deadline (a case builds a
    simulator), no example database, no shrinking (a case is half a minute; a failure
    is reported with what was drawn), no health checks on the slow strategy."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(max_examples=examples, deadline=None, database=None,
                    phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def run_case(case: Case, build_dir: Path) -> dict:
    """Co-simulate ``case``; return the bench's report. Any disagreement (a prediction,
    a counter, the final tree) raises: the bench asserts each."""
    from reference import QuantileHoeffdingTree
    from sim.cosim import cosimulate, encode_stream

    xn, xc, y = encode_stream(case.config, case.stream)
    k, learn = case.preload_at, case.learn
    model = None
    if k:  # the start learned in software; the design continues from that tree
        model = QuantileHoeffdingTree(case.config)
        model._run(xn[:k], xc[:k], y[:k], learn[:k])
    return cosimulate(case.config, xn[k:], xc[k:], y[k:], learn[k:], build_dir=build_dir,
                      gap=case.gap, stall=case.stall, seed=case.bench_seed, preload=model,
                      resets=() if case.reset_at is None else (case.reset_at,))
