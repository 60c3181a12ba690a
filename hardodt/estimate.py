"""The analytic performance and resource model of the generated design.

From a :class:`hardodt.Config` and a target family it predicts, in well under a
millisecond, what the RTL of ``rtl/`` costs and how fast it runs. Every count
below is one function with a docstring naming the hardware it counts; the
structure follows ``rtl/`` (see docs/hardware.md) so a change there shows up
here as a changed equation, not a changed constant.

* Performance is structural and exact where the hardware is deterministic
  (latency, the split-trial length, the commit slots) and takes the number of
  split trials and splits of a stream as inputs (from the golden model, or an
  upper bound from ``grace_period`` without a stream).
* Memories are mapped as yosys maps them (``memory_libmap``: the cheapest of
  flip-flops, distributed RAM and block RAM shapes), from the family's table.
* DSP blocks: every multiplier of the design, tiled by the family's DSP width.
* LUTs and flip-flops: a sum of structural terms (bits of adders and
  comparators, multiplexer inputs, pipeline and snapshot registers, ...), each
  weighted by a per-family coefficient fitted to synthesis results
  (``benchmarks/resource_fit.py`` writes ``hardodt/data/resource_fit.json``).
  The terms are what the design is built of; the coefficients are what a LUT
  of that family achieves on them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from hardodt.config import Config
from hardodt.devices import Family, family

__all__ = ["Counted", "Estimate", "Performance", "counted", "estimate", "performance",
           "memory_map", "too_large", "multipliers", "lut_terms", "ff_terms", "trial_cycles",
           "judge_latency", "FIT_PATH"]

FIT_PATH = "data/resource_fit.json"
#: Stats counters of the top (reference.kernels.STAT_NAMES), 32 bits each.
_STAT_COUNTERS = 11
_QUALITY_FRACTION_BITS = 8  # reference.fixedpoint.QUALITY_FRACTION_BITS


def _quotient_bits(cfg: Config) -> int:
    """Bits of the split trial's quotients (``SplitTrial.quo_bits``)."""
    return cfg.count_bits + _QUALITY_FRACTION_BITS + 2


def _bits(n: int) -> int:
    return max(1, (n - 1).bit_length())


@lru_cache(maxsize=256)
def _params(cfg: Config):
    from rtl.params import HardwareParams

    return HardwareParams(cfg)


# -- performance -------------------------------------------------------------------------

def latency_cycles(cfg: Config) -> int:
    """Cycles from a sample's acceptance to its prediction at the output: one slot per
    tree level (``max_depth + 1``; two with registered rows, ``rtl.params.level_stages``),
    the two stages reading and fetching the counters' row (with registered rows), the
    counter stage, the prediction's register (with registered rows), and the output FIFO's
    write and read (``rtl.hardodt``: R_0 .. R_C, then the buffered FIFO)."""
    from rtl.params import counter_stage, registered_rows

    return counter_stage(cfg) + 3 + int(registered_rows(cfg))


def divider_latency(cfg: Config) -> int:
    """Stages of one ``PipelinedDivider`` (``divider_stage_bits`` quotient bits per
    stage) for the Gini quotients of ``count_bits + 10`` bits."""
    from rtl.divider import stage_bits

    return len(stage_bits(_quotient_bits(cfg), cfg.divider_stage_bits))


def _divider_steps(cfg: Config) -> tuple[int, int]:
    """One ``PipelinedDivider``'s quotient bits found one at a time and pairs found at
    once (``radix4``, with the registered rows: ``rtl.params.HardwareParams.radix4_division``):
    a stage's bits go in pairs, an odd one (the first stage's, when the stages do not
    divide the bits evenly) alone."""
    from rtl.divider import stage_bits

    qb = _quotient_bits(cfg)
    if not _params(cfg).radix4_division:
        return qb, 0
    per_stage = stage_bits(qb, cfg.divider_stage_bits)
    return sum(b % 2 for b in per_stage), sum(b // 2 for b in per_stage)


def _bound_bits(cfg: Config) -> tuple[int, int]:
    """Bits of the Hoeffding constant ``K`` and of its square root (``rtl.hoeffding``)."""
    from rtl.hoeffding import bound_bits

    return bound_bits(cfg.fixed.hoeffding_k)


def judge_latency(cfg: Config) -> int:
    """Cycles of the Hoeffding test's bound ``T * learned`` (``rtl.hoeffding``), which runs
    beside the candidates from the trial's second cycle: the start, ``T - 1`` a bit a
    cycle (each bit added into the product a cycle later), the last bit's step and the
    ``+ learned``."""
    _k_bits, root_bits = _bound_bits(cfg)
    return 1 + root_bits + 1 + 1


def trial_cycles(cfg: Config) -> int:
    """Cycles of one split trial, start to result (``rtl.split_trial``): one candidate
    per cycle (``P`` per numeric attribute, one per value of each categorical one),
    the null split first, one pass through the divider pipeline (one more cycle for the
    quotients' sum), the last attribute's best copied, then folded into the overall best a
    cycle later, the FSM's fixed steps and the comparison with the bound; or, when the bound
    is the later (very few candidates), the bound's latency from the trial's second cycle
    and the comparison."""
    candidates = cfg.n_numeric * cfg.split_points + sum(cfg.categorical_values)
    steps = 16 + int(_params(cfg).split_squares)  # a count wider than a DSP: its squares' step
    return max(candidates + divider_latency(cfg) + 1 + 1 + steps, judge_latency(cfg) + 2)


@dataclass(frozen=True)
class Performance:
    latency_cycles: int
    groups: int  # cycles one sample occupies the input (numeric attributes / lanes)
    trial_cycles: int
    stall_per_trial: int  # input cycles lost waiting for a trial's outcome
    cycles_per_split: int  # the two commit slots
    trials: float
    splits: float
    samples: int
    cycles: float
    cycles_per_sample: float
    steady_cycles_per_sample: float  # without the cold start

    def throughput(self, clock_hz: float, sample_bits: int) -> dict[str, float]:
        sps = clock_hz / self.steady_cycles_per_sample
        return {"samples_per_s": sps, "bits_per_s": sps * sample_bits}


def performance(cfg: Config, samples: int, trials: float | None = None,
                splits: float | None = None) -> Performance:
    """Cycles to learn ``samples`` samples: ``c * S + cold start``.

    ``trials`` and ``splits`` are the stream's split trials begun and splits made
    (the golden model's ``split_trials`` and ``splits``); without them, the upper
    bound of a trial every ``grace_period`` samples and a split at each until the
    leaves run out. A trial's outcome must be ready when the sample ``split_delay``
    after it enters; the trial starts when its sample reaches the quantile stage,
    so the input waits ``latency + trial - (split_delay + 1) * groups`` cycles when
    that is positive. Each split inserts two commit slots of ``groups`` cycles.
    """
    p = _params(cfg)
    G = p.groups
    if trials is None:
        trials = samples / cfg.grace_period
    if splits is None:
        splits = min(trials, cfg.max_leaves - 1)
    t = trial_cycles(cfg)
    start = p.quantile_stage + 1  # the trial's sample reaches the quantile stage
    # (+ 2: the outcome is registered a cycle before the commit slots are built)
    stall = max(0, start + t + 2 - (cfg.split_delay + 1) * G)
    per_split = 2 * G
    steady = samples * G + trials * stall + splits * per_split
    lat = latency_cycles(cfg)
    cycles = steady + lat
    return Performance(lat, G, t, stall, per_split, float(trials), float(splits), samples,
                       float(cycles), cycles / max(1, samples), steady / max(1, samples))


def sample_bits(cfg: Config) -> int:
    """Bits of one input sample as the learner takes it (``sample_layout``)."""
    return _params(cfg).sample_layout.size


# -- memories ------------------------------------------------------------------------------

def memory_map(depth: int, width: int, fam: Family, granules: int = 1,
               parts: list[int] | None = None, written: int | None = None) -> dict[str, Any]:
    """How yosys implements one memory: ``kind`` (``ff``, ``lutram`` or ``bram``) with its
    flip-flops, LUTs and blocks, chosen as ``memory_libmap`` chooses: a memory of one row
    is registers; otherwise the cheapest, by the costs of yosys' memory libraries (the
    family table; registers cost one per bit), of registers, distributed RAM primitives
    and block RAM shapes. A row written in ``granules`` separately enabled parts (of the
    widths ``parts``, or equal) is tiled part by part in distributed RAM; in block RAM
    the parts share a block's columns, each in whole write-enable bytes. ``written``: the
    distinct bits a write carries (the same word written to several parts counts once),
    which the block RAM's transparency register keeps."""
    kept = width if written is None else written
    part = -(-width // granules)
    if parts is None:
        parts = [part] * granules
    byte = fam.bram_byte
    columns = width if len(parts) == 1 else sum(-(-b // byte) * byte for b in parts)
    out: dict[str, Any] = {"kind": "ff", "ff": 0, "lut": 0, "bram": 0.0, "lutram": 0}
    if depth <= 1:
        out["ff"] = depth * width
        return out
    if fam.memories_in_bram:  # the script marks it for block RAM: the cheapest shape
        d, w, _cost, blocks = min(fam.bram_shapes, key=lambda s: math.ceil(depth / s[0])
                                  * math.ceil(columns / s[1]) * s[2])
        n = math.ceil(depth / d) * math.ceil(columns / w)
        out.update(kind="bram", bram=n * blocks, shape=[d, w], ff=kept)
        return out
    # Registers cost one per bit in memory_libmap.
    options: list[tuple[int, str, int, float, tuple[int, int]]] = [
        (depth * width + width, "ff", 0, 0.0, (depth, width))]
    for d, w, cost, luts in fam.lutram_shapes:
        # one write enable per primitive: a granule's columns are its own; a synchronous
        # read costs what the family's library makes it cost
        n = math.ceil(depth / d) * sum(math.ceil(b / w) for b in parts)
        options.append((n * cost + fam.lutram_read_cost * width, "lutram", n * luts, 0.0,
                        (d, w)))
    for d, w, cost, blocks in fam.bram_shapes:
        # byte enables let granules share a block's columns
        n = math.ceil(depth / d) * math.ceil(columns / w)
        options.append((n * cost, "bram", 0, n * blocks, (d, w)))
    _cost, kind, luts, blocks, shape = min(options, key=lambda o: o[0])
    # Registers and distributed RAM read asynchronously: registering the read address
    # gives a synchronous, transparent read. Block RAM reads synchronously and has no
    # transparency between its ports, so the written row is kept beside it (a register
    # per bit) for a read of the row just written.
    if kind == "ff":
        out.update(ff=depth * width, lut=(depth - 1) * width)
        return out
    out.update(kind=kind, lut=luts, lutram=luts, bram=blocks, shape=list(shape),
               ff=kept if kind == "bram" else 0)
    return out


# -- DSP -----------------------------------------------------------------------------------

def multipliers(cfg: Config) -> list[tuple[str, int, int]]:
    """Every non-constant multiplier of the design as ``(what, a_bits, b_bits)``.

    ``rtl.split_trial``: the threshold ``span * p/(P+1)``; per class the squares of the
    counts (the null split) and of the left and right counts; per class the count times
    the estimates below a threshold and, when ``Q`` is not a power of two, that times the
    constant reciprocal of ``Q``
    (``rtl.split_trial.constant_divider``), which yosys maps to a DSP too."""
    cb, w, C = cfg.count_bits, cfg.word_bits, cfg.n_classes
    out = []
    if cfg.n_numeric:
        out += _product_parts("threshold", w + 1, cfg.fraction_bits + 1)
        q = cfg.quantiles
        below = _bits(q + 1)
        out += [(f"count_below{j}", cb, below) for j in range(C)]
        if q & (q - 1):
            from rtl.split_trial import constant_divider

            mult, _shift = constant_divider(cb + q.bit_length(), q)
            out += [(f"count_below_scaled{j}", cb + below, mult.bit_length())
                    for j in range(C)]
    for what in ("square_all", "square_left", "square_right"):
        out += [m for j in range(C) for m in _square_products(cfg, f"{what}{j}")]
    return out


def _product_parts(what: str, a: int, b: int) -> list[tuple[str, int, int]]:
    """The DSP products of one ``a x b`` multiplier cut as
    ``rtl.split_trial.registered_product_terms`` cuts it (``rtl.params.dsp_cut``): an
    operand wider than a DSP's 18 bits in halves, every piece of one by every piece of
    the other."""
    from rtl.params import dsp_cut

    parts = [(x, y) for x, _at in dsp_cut(a) for y, _at in dsp_cut(b)]
    return [(what if len(parts) == 1 else f"{what}{k}", x, y) for k, (x, y) in enumerate(parts)]


def _square_products(cfg: Config, what: str) -> list[tuple[str, int, int]]:
    """The products of one count's square (``rtl.split_trial.registered_square``): the
    whole square, or, for a count wider than a DSP's 18 bits, those of its halves (the
    high half squared, the low half squared, their cross product)."""
    from rtl.params import halves

    cb = cfg.count_bits
    if not _params(cfg).split_squares:
        return [(what, cb, cb)]
    low, high = halves(cb)
    return [(f"{what}_hi", high, high), (f"{what}_lo", low, low), (f"{what}_cross", high, low)]


def _threshold_adder_bits(cfg: Config) -> int:
    """The threshold's adders (``rtl.split_trial``): every attribute's span, and the three
    sums of the product's terms with ``lo`` (``w + F`` bits each)."""
    w, fb = cfg.word_bits, cfg.fraction_bits
    return cfg.n_numeric * (w + 1) + 3 * (w + fb) if cfg.n_numeric else 0


def _threshold_regs(cfg: Config) -> int:
    """The threshold's registers beyond a span, a position and two words: every
    attribute's span, the product's terms and their two sums."""
    w, fb = cfg.word_bits, cfg.fraction_bits
    if not cfg.n_numeric:
        return 0
    parts = sum(a + b for _w, a, b in _product_parts("", w + 1, fb + 1))
    return cfg.n_numeric * (w + 1) + parts + 2 * (w + fb + 2) - 2 * (w + 1)


def _square_sum_bits(cfg: Config) -> int:
    """The adder bits of one split square: the cross product added above the low half's
    bits (``rtl.split_trial.registered_square``); none for a whole square."""
    from rtl.params import halves

    cb = cfg.count_bits
    return 2 * cb - halves(cb)[0] - 1 if _params(cfg).split_squares else 0


def _square_product_bits(cfg: Config) -> int:
    """The register bits of one count's products, taken a cycle before its square (split
    squares only: a whole square is its product's register)."""
    if not _params(cfg).split_squares:
        return 0
    return sum(a + b for _w, a, b in _square_products(cfg, ""))


def dsp_blocks(a: int, b: int, fam: Family) -> int:
    """DSP blocks for one ``a x b`` multiplier, tiled as yosys' ``mul2dsp`` tiles it:
    operands cut into chunks of the DSP's widths (the wide one, once split, into the
    family's partial width), and a tile with a chunk narrower than the family's minimum,
    or a product narrower than its minimum, left to LUTs."""
    if fam.dsp_a == 0 or min(a, b) < 2 or a + b < fam.dsp_min_product:
        return 0

    def chunks(n: int, size: int) -> list[int]:
        return [size] * (n // size) + ([n % size] if n % size else [])

    def tiles(x: int, y: int, sx: int, sy: int) -> int:
        xs = chunks(x, fam.dsp_partial or sx) if x > sx else [x]
        lo = fam.dsp_min_chunk
        return sum(1 for i in xs for j in chunks(y, sy)
                   if i >= lo and j >= lo and i + j >= fam.dsp_min_product)

    return tiles(max(a, b), min(a, b), fam.dsp_a, fam.dsp_b)  # the wider operand is A


# -- LUT and FF terms ------------------------------------------------------------------------

def _judge_widths(cfg: Config, quality_bits: int) -> dict[str, int]:
    """The Hoeffding test's bits (``rtl.hoeffding``). judge_arith: the root step's
    comparison and subtraction, the next trial term's four adders (the cross term's
    update, both outcomes' terms), the product's two (Horner's step, ``+ learned``) and
    the comparison of the margin with its fraction bits. judge_regs: the remainder, the
    cross, square and trial terms, the root, the product so far and the bound."""
    cb = cfg.count_bits
    k_bits, h = _bound_bits(cfg)
    product = (h + cb + 1) + (h + cb + 2)
    arith = 6 * k_bits + 6 + product + quality_bits + _QUALITY_FRACTION_BITS
    regs = 3 * k_bits + 3 + (cb + 2 * h) + h + product
    return {"judge_arith": arith, "judge_regs": regs}


def _widths(cfg: Config) -> dict[str, int]:
    p = _params(cfg)
    quo = _quotient_bits(cfg)
    alone, pairs = _divider_steps(cfg)
    return {
        "slot": p.slot_layout.size, "node": p.node_layout.size,
        "counter_row": p.counter_layout.size, "quantile_row": p.quantile_row_layout.size,
        "hist_rows": sum(p.histogram_row_layout(c).size for c in range(cfg.n_categorical)),
        "quo": quo, "div_stages": divider_latency(cfg),
        # a divider's subtract-and-select steps: a bit found alone is one (a subtraction, a
        # choice of two), a pair found at once 2.75 (three subtractions, a choice of four)
        "div_steps": alone + 2.75 * pairs,
        "radix4": int(p.radix4_division),
        **_judge_widths(cfg, p.quality_bits),
        "lanes": p.lanes if cfg.n_numeric else 0, "levels": p.levels,
        "retimed": p.retimed_levels,
        "quality": p.quality_bits,
    }


def lut_terms(cfg: Config) -> dict[str, float]:
    """The structural quantities the LUT count grows with (family-independent).

    step: the decreasing schedule's step per quantile (a constant shifted by
    ``floor(log2 n)``, then the larger of it and lambda's, looked up by the shift in a
    table of ``count_bits`` constants): ``2 Q (w + 1)`` bits, each a function of the
    shift's ``log2(count_bits)`` bits, once for all lanes (``rtl.quantile.StepSchedule``);
    zero with constant steps.
    update: the per-quantile compare, add, subtract and saturation of each lane, and its
    min and max. rows: bits written back or bypassed around a memory (transparent reads,
    init or update, the class's estimates written into the row). select: multiplexer
    input bits (a lane picking the sample's class, the trial picking the candidate's
    attribute and histogram entries, a tree level picking its attribute, a deep level
    decoding both nodes of its row, picking the sample's value for each, and choosing
    one, ``rtl.tree_level``). arith: the
    other adders and comparators (the trial's comparisons with the threshold, the
    dividers' stages, the counters, the fold, the statistics, the levels' compares).
    const: control."""
    wd = _widths(cfg)
    w, cb, C, N, NC, Q = (cfg.word_bits, cfg.count_bits, cfg.n_classes, cfg.n_numeric,
                          cfg.n_categorical, cfg.quantiles)
    L, K = wd["levels"], wd["lanes"]
    vb = _bits(max(cfg.categorical_values, default=2))
    shift_levels = _bits(cb) if cfg.step_schedule == "decreasing" else 0
    step = min(K, 1) * 2 * Q * (w + 1) * shift_levels
    update = K * (Q * (w + 2) + 2 * w)
    rows = (L * 2 * wd["node"] + wd["counter_row"] + K * wd["quantile_row"] + wd["hist_rows"])
    select = (K * C * Q * w + N * C * Q * w + 2 * N * w + wd["hist_rows"]
              + L * (N * w + NC * vb)
              # a deep level's two candidate slots, one per node of its row, and the choice;
              # each node's attribute picks the sample's value there (a pick more a level)
              + wd["retimed"] * (4 * wd["node"] + N * w + NC * vb))
    arith = (C * Q * w + _threshold_adder_bits(cfg)  # the estimates below a threshold, it
             # divider stages: subtract and select, per quotient bit (radix 4: per pair,
             # and three times each divisor, added beside it)
             + 2 * wd["div_steps"] * (cb + 2) + 3 * wd["radix4"] * (cb + 2)
             + wd["judge_arith"]  # the bound's subtractions, the test's comparison
             + (C + 2) * cb + NC * cb  # counters, histogram increments
             + 3 * wd["quality"] + 3 * C * cb  # fold comparisons, sums, right counts
             + 3 * C * _square_sum_bits(cfg)  # the halves' products added (split squares)
             + _STAT_COUNTERS * 32 + L * w)  # statistics counters, level comparisons
    return {"step": float(step), "update": float(update), "rows": float(rows),
            "select": float(select), "arith": float(arith), "const": 1.0}


def ff_terms(cfg: Config) -> dict[str, float]:
    """The registers of the design, by kind (family-independent).

    pipeline: the slot register after each stage ((tree stages + 2) x slot bits, two more
    with the schedule's stages, two more with the counters' read and fetch stages (all
    come with the registered rows); synthesis drops the bits no later stage reads; the
    comparison the deep levels carry one level down lives in those levels' slot registers
    only), a node per level read into a register (two stages a level), and, in the
    schedule's stages, the counters and the moves looked up (the lanes' copies of the
    moves: ``rtl.quantile_lane.registered_row_cost``), the prediction registered
    before the output FIFO and the quantile stage's flags decoded a stage ahead
    (registered rows). trial: the split trial's snapshot (every
    numeric attribute's quantile row, the histograms, the counts), its candidate pipeline (with the candidate
    attribute's estimates, picked a stage ahead of their comparisons) and results (those
    of its two folds among them). divider: the two pipelined dividers' stage registers
    (radix 4: with three times the divisor). const: statistics counters and control."""
    wd = _widths(cfg)
    cb, C, N = cfg.count_bits, cfg.n_classes, cfg.n_numeric
    # a candidate's value: a threshold word, or (no numeric attribute) a categorical value
    val = cfg.word_bits if N else _bits(max(cfg.categorical_values, default=2))
    tag = 8 + val + C * cb
    p = _params(cfg)
    staged = p.schedule_stages
    # (registered rows: the counters' read and fetch stages)
    stages = p.tree_stages + 2 + staged + 2 * int(p.registered_rows)
    words = (p.level_stages - 1) * wd["levels"] * wd["node"]  # the nodes read, registered
    # the comparison carried one level down (deep levels, rtl.tree_level): its bits live
    # in the slot registers of those levels only
    from amaranth.hdl import Shape

    from rtl.split_trial import threshold_copies

    carried = sum(Shape.cast(f).width for f in p.carried_comparison.values())
    # the schedule's stages: the counters carried through each, and the moves looked up
    # into a register (the bits that change; the lanes' copies of it are counted in
    # rtl.quantile_lane's registered_row_cost)
    from rtl.quantile import move_columns

    schedule_regs = staged * wd["counter_row"] \
        + (len(move_columns(cfg)[0]) if staged and N else 0)
    # the prediction and its write enable, registered before the output FIFO; the trial's
    # start and the lanes' learn and init flags, decoded a stage ahead
    prediction_regs = (p.prediction_layout.size + 1 + 3) if p.registered_rows else 0
    # results: best, second, null, margin, the attribute's best and the one being folded
    # (the candidate pipeline: tags at ten stages, eleven with split squares; the rights,
    # the squares of both sides (and, split, their products) registered apart from their
    # sums, split the sides' sums a stage longer; the counts' squares (products) taken at
    # the start; the split point's position beside the span; the estimates' comparisons
    # registered before they are counted, and the categorical counts a stage later beside
    # them)
    split = int(p.split_squares)  # the squares' second step: a tag stage, the sides' sums
    trial = (N * wd["quantile_row"] + wd["hist_rows"] + C * cb + (10 + split) * tag
             + 5 * wd["quality"] + 5 * val + 9 * C * cb + 2 * C * cb
             + 3 * C * _square_product_bits(cfg) + split * 2 * (cb + 4) + _threshold_regs(cfg)
             + (C * cfg.quantiles * _bits(N) if N else 0)  # the estimates' attribute copies
             + (threshold_copies(p) * cfg.word_bits if N else 0)  # the threshold's copies
             + val + C * cb + _bits(max(2, N + cfg.n_categorical))  # the best's, a cycle late
             + (C * cfg.quantiles * cfg.word_bits if N else 0)  # the candidate's estimates
             + (C * cfg.quantiles if N else 0) + (C * cb if cfg.n_categorical else 0)
             + (cfg.fraction_bits + 1 if N else 0)
             + _bits(max(2, N + cfg.n_categorical)))  # the attribute of the one being folded
    db, qb = cb, wd["quo"]
    divider = wd["div_stages"] * (2 * (2 * db + 1 + 2 * qb + 1) + tag)
    # radix 4: three times the divisor carried through every stage, and its three sources
    divider += wd["radix4"] * (wd["div_stages"] * 2 * (db + 2) + 3 * (db + 2))
    trial += wd["judge_regs"]  # the bound's registers (rtl.hoeffding)
    pipeline = stages * (wd["slot"] - carried) + (p.retimed_levels + 1) * carried
    return {"pipeline": float(pipeline + words + schedule_regs + prediction_regs),
            "trial": float(trial),
            "divider": float(divider), "const": 1.0}


@cache
def _fit() -> dict[str, Any]:
    path = resources.files("hardodt").joinpath(FIT_PATH)
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


#: Families measured against synthesis lend their weights to the closest fabric.
_BORROW = {"xcup": "xilinx", "ice40": "ecp5", "ice40up": "ecp5"}


def coefficients(fam_name: str) -> tuple[str | None, dict[str, dict[str, float]]]:
    """The family whose fitted LUT and FF weights apply to ``fam_name`` (itself, or the
    closest fabric that was fitted: UltraScale+ takes 7 series', iCE40 takes ECP5's, both
    unvalidated), and the weights; ``(None, {})`` if none."""
    fams = _fit().get("families", {})
    for name in (fam_name, _BORROW.get(fam_name)):
        if name in fams:
            return name, fams[name]
    return None, {}


# -- the whole estimate --------------------------------------------------------------------------

@dataclass
class Estimate:
    target: str
    lut: int
    ff: int
    bram: float
    dsp: int
    lutram: int
    memory_bits: int
    cycles_per_sample: float
    latency_cycles: int
    trial_cycles: int
    stall_per_trial: int
    memories: list[dict[str, Any]] = field(default_factory=list)
    multipliers: list[dict[str, Any]] = field(default_factory=list)
    fitted: bool = True
    weights_of: str | None = None  # the family the LUT/FF weights were fitted on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Counted:
    """What the model counts unit by unit, outside its fitted weights: the memories as
    yosys maps them, the registers the RTL declares bit for bit, the DSP blocks and the
    multipliers left in LUTs. The fit (``benchmarks/resource_fit.py``) takes exactly
    this out of each synthesis result before it fits the weights, so nothing is counted
    twice."""

    lut: int
    ff: int
    bram: float
    lutram: int
    dsp: int
    memories: list[dict[str, Any]]
    multipliers: list[dict[str, Any]]


def counted(cfg: Config, target: str = "ecp5") -> Counted:
    """The part of ``cfg``'s resources on ``target`` counted unit by unit (``Counted``)."""
    from rtl.element_counters import registered_counter_cost
    from rtl.node_readback import readback_registers
    from rtl.quantile_lane import registered_row_cost

    fam = family(target)
    p = _params(cfg)
    mems = []
    lut = ff = lutram = 0
    bram = 0.0
    for m in p.memories():
        mapped = memory_map(m["depth"], m["width"], fam, m["granules"], m.get("parts"),
                            m.get("written"))
        mems.append({**m, **mapped})
        lut += mapped["lut"]
        ff += mapped["ff"]
        bram += mapped["bram"]
        lutram += mapped["lutram"]
    if fam.memories_in_bram:  # the output FIFO goes to a block too
        # rtl.hardodt's SyncFIFOBuffered: one of its entries is a register
        fifo = {"name": "output_fifo", "depth": p.fifo_depth - 1,
                "width": p.prediction_layout.size, "granules": 1}
        fifo["bits"] = fifo["depth"] * fifo["width"]
        mapped = memory_map(fifo["depth"], fifo["width"], fam)
        mems.append({**fifo, **mapped})
        ff += mapped["ff"]
        bram += mapped["bram"]
    # the read-back port's registers (rtl.node_readback: with many levels the row comes
    # down a byte chain and is assembled beside the port), the registered rows of the
    # quantile lanes (rtl.quantile_lane) and of the element counters (rtl.element_counters)
    ff += readback_registers(p)
    for fetch in (registered_row_cost(p), registered_counter_cost(p)):
        ff += fetch["ff"]
        lut += fetch["lut"]
    mults = [{"what": w, "a": a, "b": b, "dsp": dsp_blocks(a, b, fam)}
             for w, a, b in multipliers(cfg)]
    # multipliers left in LUTs where the family has no DSP for them (a 1-bit operand
    # is an AND, in the fitted terms)
    lut += fam.soft_multiplier_luts * sum(m["a"] * m["b"] for m in mults
                                          if m["dsp"] == 0 and min(m["a"], m["b"]) >= 2)
    return Counted(lut=lut, ff=ff, bram=bram, lutram=lutram,
                   dsp=sum(m["dsp"] for m in mults), memories=mems, multipliers=mults)


def estimate(cfg: Config, target: str = "ecp5", samples: int = 100_000,
             trials: float | None = None, splits: float | None = None) -> Estimate:
    """Resources and performance of ``cfg`` on ``target`` (a family or a device name):
    the fitted terms (``lut_terms``, ``ff_terms``) plus what is ``counted`` exactly."""
    fam = family(target)
    known = counted(cfg, target)
    weights_of, coef = coefficients(fam.name)
    lt, ft = lut_terms(cfg), ff_terms(cfg)
    if coef:
        lut = sum(coef["lut"].get(k, 0.0) * v for k, v in lt.items()) + known.lut
        ff = sum(coef["ff"].get(k, 0.0) * v for k, v in ft.items()) + known.ff
    else:  # unfitted: one LUT per term bit, one FF per register bit
        lut = sum(lt.values()) + known.lut
        ff = sum(ft.values()) + known.ff
    perf = performance(cfg, samples, trials, splits)
    return Estimate(
        target=fam.name, lut=round(lut), ff=round(ff), bram=known.bram, dsp=known.dsp,
        lutram=known.lutram, memory_bits=sum(m["bits"] for m in known.memories),
        cycles_per_sample=perf.cycles_per_sample, latency_cycles=perf.latency_cycles,
        trial_cycles=perf.trial_cycles, stall_per_trial=perf.stall_per_trial,
        memories=known.memories, multipliers=known.multipliers, fitted=bool(coef),
        weights_of=weights_of)


def too_large(cfg: Config) -> str | None:
    """Why no device hardodt knows could hold ``cfg`` (the model's block RAMs or LUTs
    above the largest one's), or ``None``. Generating such a design would take hours
    and tens of GiB before any tool refused it, so the generator asks this first."""
    from hardodt.devices import DEVICES

    biggest = max(DEVICES.values(), key=lambda d: d.luts)
    est = estimate(cfg, biggest.name)
    sizes = (f"elements={cfg.element_capacity}, quantiles={cfg.quantiles}, "
             f"classes={cfg.n_classes}, numeric_attributes={cfg.n_numeric}, "
             f"categorical_values={list(cfg.categorical_values)}, word_bits={cfg.word_bits}")
    for what, need, have in (("block RAMs", est.bram, biggest.brams),
                             ("LUTs", est.lut, biggest.luts)):
        if need > have:
            return (f"the design needs about {need:,.0f} {what} and the largest device hardodt "
                    f"knows ({biggest.name}) has {have:,} ({sizes}); a quantile row holds "
                    f"quantiles x classes words per numeric attribute and each element a row: "
                    f"reduce elements, quantiles, classes or attributes")
    return None
