"""The split trial's arithmetic units in isolation (Amaranth simulator), the refusals of
the RTL generator, and Verilator's lint of the generated Verilog."""

import random
import re
import subprocess

import pytest
from amaranth.back import verilog
from amaranth.hdl import signed, unsigned
from amaranth.sim import Simulator

from hardodt import Config, ConfigError
from reference.fixedpoint import QUALITY_FRACTION_BITS as G
from reference.kernels import hoeffding_bound, hoeffding_split
from rtl import HardODT, HardwareParams, HoeffdingJudge, PipelinedDivider
from rtl.params import trigger_latency
from rtl.split_trial import constant_divider


def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("bits_per_stage,qb,radix4", [
    (1, 28, False), (2, 28, False), (2, 27, False), (3, 28, False),
    (2, 28, True), (2, 27, True), (3, 28, True), (4, 28, True),
])
def test_pipelined_divider_is_exact_one_division_per_cycle(bits_per_stage, qb, radix4):
    """Exact quotients, one division a cycle; an odd width with two bits a stage, and
    28 bits with three, begin on a stage of fewer bits; with ``radix4`` a stage's bits go
    two at a time (three bits a stage: one, then two)."""
    dut = PipelinedDivider(48, 20, qb, tag_bits=8, bits_per_stage=bits_per_stage,
                           radix4=radix4)
    rng = random.Random(bits_per_stage)
    cases = []
    for _ in range(200):
        den = rng.choice([1, 2, 3, rng.randint(1, 2**20 - 1)])
        quo = rng.choice([0, 1, rng.randint(0, 2**qb - 1)])
        cases.append((quo * den + rng.randint(0, den - 1), den))
    cases += [(den * 2**qb - 1, den) for den in (1, 7, 2**20 - 1)]  # the largest quotients

    async def bench(ctx):
        out = []
        for i, (num, den) in enumerate(cases + [(0, 1)] * dut.latency):
            ctx.set(dut.valid, i < len(cases))
            ctx.set(dut.numerator, num)
            ctx.set(dut.divisor, den)
            if radix4:
                ctx.set(dut.divisor3, 3 * den)
            ctx.set(dut.tag, i & 255)
            await ctx.tick()
            if ctx.get(dut.out_valid):
                out.append((ctx.get(dut.quotient), ctx.get(dut.out_tag)))
        assert out == [(n // d, i & 255) for i, (n, d) in enumerate(cases)]

    _run(dut, bench)


@pytest.mark.parametrize("divisor", [1, 2, 3, 5, 7, 8, 9, 31, 33, 64])
def test_constant_divider_is_exact_over_its_whole_range(divisor):
    bits = 12
    mult, shift = constant_divider(bits, divisor)
    assert all((a * mult) >> shift == a // divisor for a in range(2**bits))


def test_the_bound_is_the_least_passing_gain():
    """``reference.kernels.hoeffding_bound``: ``T`` passes the test and ``T - 1`` does not,
    for every count up to 5000 and at the largest counts."""
    for delta in (1e-3, 1e-7, 0.5, 0.0031):  # 0.0031: K = 277^2 * 161,668
        hk = Config(delta=delta, tau=0.0).fixed.hoeffding_k
        for n in [*range(1, 5000), 161_668, 2**20 - 1, 2**24 + 3]:
            t = hoeffding_bound(n, hk)
            assert hoeffding_split(t, n, hk, -1) and not hoeffding_split(t - 1, n, hk, -1), n
    assert hoeffding_bound(0, hk) is None


def _judge_cases(fx, count_bits):
    """``(n, learned)`` around the boundaries of ``floor(K / n)``'s square root, the tie
    rule's edge, an empty leaf and the largest count; each with two learned counts."""
    rng = random.Random(fx.hoeffding_k)
    top = 2**count_bits - 1
    ns = {0, 1, 2, 3, top}
    for gain in (1, 2, 3, 100, 1000, 65536):
        n = fx.hoeffding_k // (gain * gain)  # gain^2 n <= K < gain^2 (n + 1)
        ns |= {n - 1, n, n + 1}
    if fx.tie_samples >= 0:
        ns |= {fx.tie_samples, fx.tie_samples + 1}
    # r^2 n = K exactly (delta = 0.0031: r = 277): the test's equal case, r passes
    ns |= {fx.hoeffding_k // (r * r) for r in range(2, 3000) if fx.hoeffding_k % (r * r) == 0}
    ns = sorted(n for n in ns if 0 <= n <= top)
    # a learned count of whole 2^G makes ``T * learned`` a margin exactly: the equal case
    return [(n, learned) for n in ns
            for learned in (rng.choice([max(1, n), rng.randint(1, max(1, n)), 1]),
                            rng.randint(1, 8) << G)]


@pytest.mark.parametrize("delta,tau", [(1e-3, 0.05), (1e-7, 0.0), (0.5, 0.2), (0.0031, 0.0)])
def test_hoeffding_judge_at_its_boundary(delta, tau):
    """The bound is ready ``latency`` cycles after ``start`` (also a start that comes while
    another is under way), and the comparison agrees with ``gain^2 * n > K`` (or the tie
    rule) on both sides of every boundary."""
    cfg = Config(delta=delta, tau=tau, count_bits=20)
    fx = cfg.fixed
    p = HardwareParams(cfg.replace(split_delay=40))
    dut = HoeffdingJudge(p, p.quality_bits)
    cases = _judge_cases(fx, 20)
    outcomes = set()

    async def bench(ctx):
        for k, (n, learned) in enumerate(cases):
            if k % 2:  # a start that another overtakes, at any step of the bound
                ctx.set(dut.n, (n * 7 + 1) % 2**20)
                ctx.set(dut.learned, learned + 1)
                ctx.set(dut.start, 1)
                await ctx.tick()
                ctx.set(dut.start, 0)
                await ctx.tick().repeat(1 + k * 3 % (dut.latency - 1))
            ctx.set(dut.n, n)
            ctx.set(dut.learned, learned)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            await ctx.tick().repeat(dut.latency - 2)  # in the cycle before the latency's
            assert not ctx.get(dut.ready), (n, learned)
            await ctx.tick()
            assert ctx.get(dut.ready), (n, learned)
            t = hoeffding_bound(n, fx.hoeffding_k) or 1
            edge = -(-t * learned >> G)  # the least margin whose gain reaches T
            for margin in {0, 1, max(0, edge - 1), edge, edge + 1}:
                if margin >= 2**p.quality_bits:
                    continue
                ctx.set(dut.margin, margin)
                gain = (margin << G) // learned
                expected = hoeffding_split(gain, n, fx.hoeffding_k, fx.tie_samples)
                assert ctx.get(dut.split) == expected, (n, learned, margin)
                outcomes.add(expected)

    _run(dut, bench)
    assert outcomes == {True, False}  # both sides of the boundary were tried


@pytest.mark.parametrize("fields,match", [
    (dict(number="float"), "number"),
    (dict(initial_quantiles="range"), "initial_quantiles"),
    (dict(inherit_counts=True), "inherit_counts"),
    (dict(split_delay=5), "split_delay: 5 is below 36"),
])
def test_the_generator_refuses_what_it_cannot_build(fields, match):
    cfg = Config(**{"split_delay": 128, **fields})
    with pytest.raises(ConfigError, match=match):
        HardODT(cfg)


def test_trigger_latency_follows_the_depth():
    # the input's slot, two per tree level and the counters' read and fetch (registered
    # rows: two numeric attributes, two lanes), the counter stage
    assert trigger_latency(Config(max_depth=4)) == 1 + 2 * 5 + 2 + 1
    assert trigger_latency(Config(max_depth=15)) == 1 + 2 * 16 + 2 + 1
    # one-cycle rows: one stage a level, no read or fetch stage
    one_lane = dict(numeric_attributes=1)
    assert trigger_latency(Config(max_depth=4, **one_lane)) == 7
    assert trigger_latency(Config(max_depth=4, numeric_attributes=4, lanes=1)) == 7


# Warnings of the Amaranth/yosys Verilog backend that do not point at a design error,
# each with the reason it is accepted. Anything else fails the test.
JUSTIFIED_LINT = {
    "UNUSEDSIGNAL": "struct fields a stage does not read (e.g. the sample in a commit slot) "
                    "and yosys' intermediate wires; yosys removes them in synthesis",
    "WIDTHEXPAND": "Amaranth widens operands explicitly by its own rules; the backend leaves "
                   "the zero extension implicit",
    "WIDTHTRUNC": "the backend writes `x == 0` as `!x` on multi-bit values, and slices of "
                  "wider intermediates; both exact",
    "CASEINCOMPLETE": "Amaranth switches without a default case (the signal keeps its "
                      "combinational default)",
    "PROCASSINIT": "register reset values are written as initialisers, as Amaranth intends",
    "ALWNEVER": "always blocks that assign constants (signals tied off)",
    "ASCRANGE": "zero-width struct fields (no categorical attributes) become [-1:0]",
    "DECLFILENAME": "the module is named after the design, not the file",
}


@pytest.mark.sim
@pytest.mark.parametrize("fields", [
    dict(split_delay=20, max_depth=4, numeric_attributes=3, categorical_values=(3,), lanes=2),
    dict(split_delay=24, max_depth=6, numeric_attributes=2, classes=4, word_bits=16,
         fraction_bits=14),
])
def test_verilator_lint_has_no_unjustified_warning(tmp_path, fields):
    from sim.runner import verilator_environment

    env = verilator_environment()
    source = tmp_path / "hardodt.v"
    source.write_text(verilog.convert(HardODT(Config(**fields)), name="hardodt"))
    run = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-fatal", str(source)],
                         capture_output=True, text=True, env={**__import__("os").environ, **env})
    codes = set(re.findall(r"%Warning-([A-Z0-9_]+)", run.stderr))
    assert "%Error" not in run.stderr, run.stderr[-2000:]
    assert codes <= set(JUSTIFIED_LINT), sorted(codes - set(JUSTIFIED_LINT))


def _most_pairs_on_a_level(max_leaves: int, depth: int = 8) -> int:
    """Brute force over every tree shape: ``max_leaves - 1`` splits at most, a level's
    splits at most its nodes (twice the splits above it), the root one node; the most
    splits on any one level is the most sibling pairs the level below it receives."""
    from functools import cache

    @cache
    def most(above: int, budget: int, levels: int) -> int:
        if levels == 0:
            return 0
        return max((max(s, most(s, budget - s, levels - 1))
                    for s in range(min(2 * above, budget) + 1)), default=0)

    return 0 if max_leaves < 2 else max(1, most(1, max_leaves - 2, depth))


def test_a_levels_rows_are_the_most_pairs_any_tree_puts_there():
    """``level_rows`` sizes the deep levels by ``max_pairs_per_level``, not by
    ``max_leaves - 1``: half the block RAM of the default design's five deepest levels.
    A bound one too small would let a tree overflow a level; one too large wastes it."""
    from rtl.params import max_pairs_per_level

    for max_leaves in range(1, 65):
        assert max_pairs_per_level(max_leaves) == _most_pairs_on_a_level(max_leaves), max_leaves
    p = HardwareParams(Config())
    assert [p.level_rows(lv) for lv in (0, 1, 2, 9, 10, 15)] == [1, 1, 2, 256, 512, 512]


def test_the_levels_with_block_ram_compare_one_level_down():
    """The default design's levels of 64 rows and more (7 to 15) are those the model maps
    to block RAM on ECP5. Its levels take two stages (registered rows), so none compares
    one level down; with one lane, one stage a level, those levels compare one level
    down and carry the comparison in the slot. A design without such levels has no such
    bits in its slot."""
    from hardodt.estimate import counted

    p = HardwareParams(Config())
    assert p.level_stages == 2 and p.tree_stages == 32
    assert p.retimed_levels == 0 and "pend" not in dict(p.slot_layout)
    kinds = {m["name"]: m["kind"] for m in counted(Config()).memories}
    assert {lv for lv in range(p.levels) if kinds[f"node_level{lv}"] == "bram"} == set(range(7, 16))
    one = HardwareParams(Config(lanes=1))
    assert one.level_stages == 1 and one.tree_stages == 16
    assert [lv for lv in range(one.levels) if one.retimed(lv)] == list(range(7, 16))
    assert "pend" in dict(one.slot_layout)
    small = HardwareParams(Config(max_leaves=32, elements=32, max_depth=6, lanes=1))
    assert small.retimed_levels == 0 and "pend" not in dict(small.slot_layout)


@pytest.mark.parametrize("fields", [
    dict(numeric_attributes=3, classes=2, quantiles=4, word_bits=16, fraction_bits=14),
    dict(numeric_attributes=6, classes=3, quantiles=5, lanes=2),  # two groups a lane
    dict(numeric_attributes=1),  # one lane: no schedule stage, rows not registered
])
def test_the_model_counts_a_lanes_registered_rows_as_the_rtl_has_them(fields):
    """``registered_row_cost`` (what ``hardodt.estimate`` adds for the registered rows)
    against the registers the lane's RTLIL declares, registered or not."""
    from amaranth.back import rtlil

    from rtl.quantile_lane import QuantileLane, registered_row_cost

    def register_bits(lane):  # Amaranth gives every register an init attribute (and the
        # read port's address, driven straight from a register, the same net under a
        # second name: not counted)
        text = rtlil.convert(lane, name="lane")
        return sum(int(w) for w, name in
                   re.findall(r"attribute \\init [^\n]*\n\s*wire width (\d+) (\S+)", text)
                   if name != "\\rd__addr")

    p = HardwareParams(Config(elements=16, max_depth=4, max_leaves=16, **fields))
    plain = register_bits(QuantileLane(p, 0))
    registered = register_bits(QuantileLane(p, 0, registered=p.registered_rows))
    assert plain == 0
    assert registered * p.lanes == registered_row_cost(p)["ff"]
    assert (registered > 0) == p.registered_rows


@pytest.mark.parametrize("grace", [5, 1])
def test_registered_counters_update_every_row_as_the_one_cycle_counters(grace):
    """The registered element counters (``ElementCounters(registered=True)``: the row
    fetched a stage ahead, the write back a cycle later, the two writes the fetch misses
    forwarded) against the one-cycle read-modify-write, side by side on one random slot
    sequence over three elements: back-to-back writes to one element, learned and
    predict-only samples, trial starts (``since`` back to 0), commit inits and frozen
    leaves (inits near the 8-bit counts' limit), rows a trial is due for (a grace period
    of 5; of 1, where even a row never written is ripe: the registered counters store
    the flags, the never-written rows' too). Every slot's row, update, prediction and
    flags must agree, and the flags of the classes with a count must be the row's counts
    above 0."""
    from amaranth.hdl import Module

    from rtl.element_counters import ElementCounters

    p = HardwareParams(Config(numeric_attributes=2, lanes=2, classes=3, count_bits=8,
                              elements=4, max_depth=3, max_leaves=4, split_delay=64,
                              grace_period=grace))
    assert p.registered_rows
    m = Module()
    plain = m.submodules.plain = ElementCounters(p)
    fast = m.submodules.fast = ElementCounters(p, registered=True)
    rng = random.Random(7)
    slots = []
    for _ in range(800):
        kind = rng.choices(["learn", "predict", "init", "idle"], [8, 1, 1, 1])[0]
        slots.append({"element": rng.choice([0, 0, 1, 2]), "label": rng.randrange(3),
                      "leaf_inactive": int(rng.random() < 0.05), "leaf_class": rng.randrange(3),
                      "learn_request": int(kind == "learn"), "init": int(kind == "init"),
                      "init_n": rng.choice([0, 3, 250, 254]), "restart": int(rng.random() < 0.1)})
    idle = {"element": 3, "label": 0, "leaf_inactive": 0, "leaf_class": 0, "learn_request": 0,
            "init": 0, "init_n": 0, "restart": 0}
    stream = slots + [idle, idle]
    outputs = ("row", "updated", "prediction", "learn", "frozen", "count", "first", "ripe",
               "nonzero")
    seen = []
    classes_counted = []

    async def bench(ctx):
        # before slot 0 is in the update: the registered counters issue their reads of
        # slots 0 and 1, the one-cycle counters of slot 0
        ctx.set(fast.read_element, slots[0]["element"])
        await ctx.tick()
        ctx.set(fast.read_element, slots[1]["element"])
        ctx.set(fast.fetch_element, slots[0]["element"])
        ctx.set(plain.read_element, slots[0]["element"])
        await ctx.tick()
        for t, s in enumerate(slots):
            for unit in (plain, fast):
                for name, value in s.items():
                    ctx.set(getattr(unit, name), value)
            ctx.set(plain.read_element, stream[t + 1]["element"])
            ctx.set(fast.read_element, stream[t + 2]["element"])
            ctx.set(fast.fetch_element, stream[t + 1]["element"])
            for name in outputs:
                assert ctx.get(getattr(fast, name)) == ctx.get(getattr(plain, name)), \
                    f"slot {t}, {name}: {s}"
            seen.append((s, ctx.get(plain.learn), ctx.get(plain.frozen), ctx.get(plain.ripe)))
            counts = [ctx.get(fast.row.cnt[j]) for j in range(3)]
            assert ctx.get(fast.nonzero) == sum(1 << j for j in range(3) if counts[j]), \
                f"slot {t}, nonzero: {counts}"
            classes_counted.append(sum(c != 0 for c in counts))
            await ctx.tick()

    _run(m, bench)
    writes = [s for s, learn, *_ in seen if learn or s["init"]]
    same_row_next = sum(a["element"] == b["element"] for a, b in zip(slots, slots[1:], strict=False)
                        if a in writes)
    assert len(writes) > 400 and same_row_next > 150
    assert sum(frozen for *_, frozen, _ in seen) > 50  # the freeze is reached and compared
    ripe = sum(ripe for *_, ripe in seen)  # and so is the grace period (1: always)
    assert 50 < ripe < len(seen) - 50 if grace > 1 else ripe == len(seen)
    assert {0, 1, 2, 3} <= set(classes_counted)  # empty rows, one class, two, all three


@pytest.mark.parametrize("fields", [
    dict(numeric_attributes=3, classes=2),
    dict(numeric_attributes=6, classes=5, count_bits=20, lanes=2),
    dict(numeric_attributes=1),  # one lane: one-cycle rows
])
def test_the_model_counts_the_registered_counters_as_the_rtl_has_them(fields):
    """``registered_counter_cost`` (what ``hardodt.estimate`` adds for the registered
    counters) against the registers the counters' RTLIL declares."""
    from amaranth.back import rtlil

    from rtl.element_counters import ElementCounters, registered_counter_cost

    def register_bits(unit):  # Amaranth gives every register an init attribute
        text = rtlil.convert(unit, name="counters")
        return sum(int(w) for w in re.findall(r"attribute \\init [^\n]*\n\s*wire width (\d+)", text))

    p = HardwareParams(Config(elements=16, max_depth=4, max_leaves=16, **fields))
    assert register_bits(ElementCounters(p)) == 0
    registered = register_bits(ElementCounters(p, registered=p.registered_rows))
    assert registered == registered_counter_cost(p)["ff"]
    assert (registered > 0) == p.registered_rows


def test_a_registered_lane_updates_every_row_as_the_one_cycle_lane():
    """The registered rows (``QuantileLane(registered=True)``: the read's address
    registered three slots ahead, the read two ahead, the last write forwarded, the
    value registered two stages ahead, then in a copy per estimate, the moves (drawn
    from the schedule's table) registered a stage ahead)
    against the one-cycle read-modify-write, side by side on one
    random slot sequence over three rows: back-to-back writes to one row, learned samples
    (the "first" rule among them) and empty-row inits. Every slot's updated row must agree."""
    from amaranth.hdl import Module

    from rtl.quantile import move_table
    from rtl.quantile_lane import QuantileLane

    p = HardwareParams(Config(numeric_attributes=2, lanes=2, classes=3, quantiles=3,
                              word_bits=16, fraction_bits=14, elements=4, max_depth=3,
                              max_leaves=4))
    assert p.registered_rows and p.groups == 1
    m = Module()
    plain = m.submodules.plain = QuantileLane(p, 0)
    fast = m.submodules.fast = QuantileLane(p, 0, registered=True)
    fx = p.config.fixed
    rng = random.Random(6)
    table = [move_table(p.config, k) for k in range(3)]

    def moves(s):  # the schedule's moves at s = floor(log2 count)
        return [{"up": table[k][0][s], "down": table[k][1][s]} for k in range(3)]

    slots = []
    for _ in range(600):
        kind = rng.choices(["learn", "init", "idle"], [6, 1, 1])[0]
        slots.append({"element": rng.choice([0, 0, 1, 2]), "label": rng.randrange(3),
                      "x": rng.randint(fx.word_min, fx.word_max) >> rng.choice([0, 4, 8]),
                      "first": int(rng.random() < 0.1), "learn": int(kind == "learn"),
                      "init": int(kind == "init"),
                      "moves": moves(rng.randrange(p.config.count_bits))})
    idle = {"element": 3, "label": 0, "x": 0, "first": 0, "learn": 0, "init": 0,
            "moves": moves(0)}
    stream = slots + [idle, idle, idle]
    seen = []

    async def bench(ctx):
        # before slot 0 is in the update: the registered lane registers the addresses of
        # slots 0, 1 and 2 and issues its reads of slots 0 and 1, the one-cycle lane of
        # slot 0
        ctx.set(fast.address_element, slots[0]["element"])
        await ctx.tick()
        ctx.set(fast.address_element, slots[1]["element"])
        ctx.set(fast.read_label, slots[0]["label"])
        ctx.set(fast.read_x, [slots[0]["x"], 0])
        await ctx.tick()
        ctx.set(fast.address_element, slots[2]["element"])
        ctx.set(fast.read_label, slots[1]["label"])
        ctx.set(fast.read_x, [slots[1]["x"], 0])
        ctx.set(fast.fetch_element, slots[0]["element"])
        ctx.set(fast.fetch_label, slots[0]["label"])
        ctx.set(fast.moves, slots[0]["moves"])  # the registered lane registers the moves
        ctx.set(plain.read_element, slots[0]["element"])
        await ctx.tick()
        for t, s in enumerate(slots):
            for lane in (plain, fast):
                for name in ("element", "label", "first", "learn", "init"):
                    ctx.set(getattr(lane, name), s[name])
                ctx.set(lane.group, 0)
            ctx.set(plain.moves, s["moves"])
            ctx.set(fast.moves, stream[t + 1]["moves"])
            ctx.set(plain.x, [s["x"], 0])  # the registered lane's copies: from read_x
            ctx.set(fast.read_x, [stream[t + 2]["x"], 0])
            ctx.set(plain.read_element, stream[t + 1]["element"])
            ctx.set(fast.address_element, stream[t + 3]["element"])
            ctx.set(fast.read_label, stream[t + 2]["label"])
            ctx.set(fast.fetch_element, stream[t + 1]["element"])
            ctx.set(fast.fetch_label, stream[t + 1]["label"])
            if s["learn"] or s["init"]:
                assert ctx.get(fast.updated) == ctx.get(plain.updated), f"slot {t}: {s}"
                seen.append(s)
            await ctx.tick()

    _run(m, bench)
    same_row_next = sum(a["element"] == b["element"] for a, b in zip(slots, slots[1:], strict=False)
                        if (a["learn"] or a["init"]))
    assert len(seen) > 500 and same_row_next > 100


@pytest.mark.parametrize("shapes", [
    (unsigned(3), unsigned(3)), (signed(3), signed(3)), (unsigned(3), signed(4)),
    (signed(4), unsigned(2)),
])
def test_comparisons_from_the_sign_bit_agree_with_the_operators(shapes):
    """``rtl.compare`` (a comparison as a subtraction's sign bit, for ECP5's carry chains)
    against Python's comparison, for every pair of values of mixed shapes and a constant."""
    from amaranth.hdl import Module, Signal

    from rtl.compare import at_least, at_most, greater, less

    a, b = Signal(shapes[0]), Signal(shapes[1])
    ops = {"gt": (greater, int.__gt__), "lt": (less, int.__lt__),
           "ge": (at_least, int.__ge__), "le": (at_most, int.__le__)}
    m = Module()
    outs = {}
    for name, (ours, _) in ops.items():
        outs[name] = Signal(name=name)
        outs[name + "_k"] = Signal(name=name + "_k")
        m.d.comb += [outs[name].eq(ours(a, b)), outs[name + "_k"].eq(ours(a, 1))]

    def values(shape):
        return range(-(1 << (shape.width - 1)), 1 << (shape.width - 1)) if shape.signed \
            else range(1 << shape.width)

    async def bench(ctx):
        for va in values(shapes[0]):
            for vb in values(shapes[1]):
                ctx.set(a, va)
                ctx.set(b, vb)
                for name, (_, theirs) in ops.items():
                    assert ctx.get(outs[name]) == theirs(va, vb), (name, va, vb)
                    assert ctx.get(outs[name + "_k"]) == theirs(va, 1), (name, va)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("bits, split", [(5, False), (5, True), (6, True), (20, True)])
def test_a_registered_square_is_the_square_one_or_two_cycles_later(bits, split):
    """``rtl.split_trial.registered_square``, whole or by halves (odd and even widths):
    a new value every cycle, each one's square a cycle after it, two by halves (every
    value of the narrow widths; the widest value and random ones of 20 bits)."""
    from amaranth.hdl import Module, Signal

    from rtl.split_trial import registered_square

    m = Module()
    value = Signal(bits)
    square = registered_square(m, value, split, "square")
    assert len(square) == 2 * bits
    rng = random.Random(bits)
    top = (1 << bits) - 1
    xs = list(range(1 << bits)) if bits <= 8 else [0, 1, top, top - 1, 1 << (bits // 2)] + \
        [rng.randrange(1 << bits) for _ in range(300)]

    late = 2 if split else 1

    async def bench(ctx):
        seen = []
        for x in xs + [0, 0]:
            ctx.set(value, x)
            seen.append(x)
            if len(seen) > late:
                assert ctx.get(square) == seen[-1 - late] ** 2, (seen[-1 - late], ctx.get(square))
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("a_bits, b_bits", [(8, 6), (20, 6), (6, 20), (21, 19), (33, 31)])
def test_registered_product_terms_sum_to_the_product_a_cycle_later(a_bits, b_bits):
    """``rtl.split_trial.registered_product_terms``: operands wider than a DSP cut in
    halves (neither, either, both; odd widths), one register stage, and the terms' sum
    the product of the operands of the cycle before, for the extremes and random pairs."""
    from amaranth.hdl import Module, Signal

    from rtl.params import DSP_BITS
    from rtl.split_trial import registered_product_terms

    m = Module()
    a, b = Signal(a_bits), Signal(b_bits)
    terms = registered_product_terms(m, a, b, "p")
    n_cut = (a_bits > DSP_BITS) + (b_bits > DSP_BITS)
    assert len(terms) == [1, 2, 3][n_cut]
    total = Signal(a_bits + b_bits)
    m.d.comb += total.eq(sum(terms))
    rng = random.Random(a_bits * b_bits)
    ta, tb = (1 << a_bits) - 1, (1 << b_bits) - 1
    pairs = [(0, 0), (ta, tb), (ta, 1), (1, tb), (ta, 0)] + \
        [(rng.randrange(ta + 1), rng.randrange(tb + 1)) for _ in range(300)]

    async def bench(ctx):
        last = None
        for x, y in pairs:
            ctx.set(a, x)
            ctx.set(b, y)
            await ctx.tick()
            assert ctx.get(total) == x * y, (x, y, last)
            last = (x, y)

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
