"""The split trial: every candidate of one leaf, best and second best, the Hoeffding test.

Trials are rare (a leaf every ``grace_period`` samples), so one engine serves
the whole tree, working on a *snapshot* of the leaf's statistics taken as the
triggering sample writes them; the learning pipeline keeps running meanwhile.
Candidates go through a pipeline at one per cycle, after the null split:

    issue (the attribute's span, lo, the point's position)
          -> threshold (products of a DSP each; two sums with lo; their sum)
          -> estimates below it per class (compared; counted) -> left class counts
          -> right counts -> squares' products -> squares -> left/right sums of them
          -> two pipelined divisions (the Gini terms) -> their sum
          -> fold into the attribute's best -> fold that into best / second

No DSP's partial products are added in the cycle of their product
(``registered_square``, ``registered_product_terms``), and wide selects read
copies of their select (``rtl.copies``): the clock. Then the Hoeffding test is
one comparison of the margin with a bound worked out
meanwhile (``rtl.hoeffding``). The arithmetic and the order of every comparison are
those of ``reference.kernels._split_trial`` in fixed point, so ties resolve the same way.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from reference.fixedpoint import QUALITY_FRACTION_BITS
from rtl.compare import at_most, greater
from rtl.copies import registered_copies
from rtl.divider import PipelinedDivider
from rtl.hoeffding import HoeffdingJudge
from rtl.params import HardwareParams, dsp_cut, halves

__all__ = ["ESTIMATES_PER_THRESHOLD_COPY", "SplitTrial", "constant_divider",
           "registered_product_terms", "registered_square", "threshold_copies"]

G = QUALITY_FRACTION_BITS
#: Estimates of a class compared with one copy of the threshold (``SplitTrial``: one
#: register drove all the comparisons, 8.6 ns of wire on the 85F).
ESTIMATES_PER_THRESHOLD_COPY = 4


def threshold_copies(params: HardwareParams) -> int:
    """Copies of the threshold the estimates' comparisons read: per class, one for every
    :data:`ESTIMATES_PER_THRESHOLD_COPY` estimates (the resource model counts them)."""
    return params.n_cls * -(-params.config.quantiles // ESTIMATES_PER_THRESHOLD_COPY)


def constant_divider(dividend_bits: int, divisor: int) -> tuple[int, int]:
    """``(m, shift)`` with ``(a * m) >> shift == a // divisor`` for every ``0 <= a < 2^dividend_bits``.

    ``shift = dividend_bits + ceil(log2 divisor)`` and ``m = floor(2^shift / divisor) + 1``:
    the error ``m * divisor - 2^shift`` is at most ``divisor``, so ``a`` times it stays
    below ``2^shift`` and never reaches the next integer.
    """
    if divisor & (divisor - 1) == 0:
        return 1, divisor.bit_length() - 1
    shift = dividend_bits + (divisor - 1).bit_length()
    return (1 << shift) // divisor + 1, shift


def registered_square(m: Module, value, split: bool, name: str) -> Signal:
    """``value * value`` from a register: split, two cycles after ``value`` (products
    registered, then added); whole, one.

    ``split``: ``value = hi * 2^h + lo`` with ``h`` its low half's bits
    (``rtl.params.halves``), and the square is
    ``hi^2 * 2^2h + lo^2 + hi*lo * 2^(h+1)``. The first two terms do not overlap, so their
    sum is a concatenation, and one addition is left for the second cycle. Each product fits
    one DSP, where a whole square of an operand wider than the DSP spans several whose
    partial products yosys adds in the same cycle. A count that fits one DSP is squared
    in one cycle: the small designs keep the fewer registers and the shorter trial.
    """
    bits = len(value)
    out = Signal(2 * bits, name=name)
    if split:
        h = halves(bits)[0]
        lo, hi = value[:h], value[h:]
        ll = Signal(2 * h, name=f"{name}_lo")
        hh = Signal(2 * (bits - h), name=f"{name}_hi")
        hl = Signal(bits, name=f"{name}_cross")
        m.d.sync += [ll.eq(lo * lo), hh.eq(hi * hi), hl.eq(hi * lo),
                     out.eq(Cat(ll, hh) + (hl << (h + 1)))]
    else:
        m.d.sync += out.eq(value * value)
    return out


def registered_product_terms(m: Module, a, b, name: str) -> list:
    """Terms whose sum is ``a * b``, from registers a cycle after ``a`` and ``b``: each
    term one DSP's product, so none is added in the cycle of its product.

    An operand wider than a DSP's 18 bits is cut in halves (``rtl.params.dsp_cut``).
    With both cut, the low halves' product and the high halves' do not overlap and make
    one term (their concatenation), beside the two cross products; with one cut, two
    terms.
    """
    def pieces(v):
        return [(v[at:at + width], at) for width, at in dsp_cut(len(v))]

    products = []
    for x, sx in pieces(a):
        for y, sy in pieces(b):
            reg = Signal(len(x) + len(y), name=f"{name}_product{len(products)}")
            m.d.sync += reg.eq(x * y)
            products.append((reg, sx + sy))
    if len(products) == 4:  # low x low, low x high, high x low, high x high
        (low, _), (c1, s1), (c2, s2), (high, _) = products
        return [Cat(low, high), c1 << s1, c2 << s2]
    return [reg << shift for reg, shift in products]


class SplitTrial(wiring.Component):
    """Evaluates a leaf's snapshot and says whether and how to split it.

    Members
    -------
    load, group : In
        Capture the rows of the numeric attributes of ``group`` (those
        ``params.lane_of`` puts in it) from ``rows``; with one group, every row.
        The rows are first read two cycles after ``start``, so the last group's
        load may come with ``start`` or a cycle after it (the registered lanes
        hand over their rows from a register, ``rtl.quantile_lane``).
    start : In(1)
        Capture ``counts``, ``n`` and ``hists`` and begin (only while idle).
    done : Out(1)
        The result below is valid; it stays until ``ack``.
    do_split, attr, thr, value, left, right : Out
        Split or not; the winner (``attr`` counts numeric attributes first, then
        categorical ones), its threshold or value, and its sides' class counts.
    busy : Out(1)
        A trial is running or its result has not been acknowledged.
    preset, preset_state : In
        Hold ``preset_state``'s outcome (if it is ``awaiting``) as the result, or none: a
        load or a restart (``params.state_layout``). The parent resets the engine with it.
    """

    def __init__(self, params: HardwareParams, state: dict | None = None) -> None:
        self.p = p = params
        # the initial state registers (``params.state_layout`` values; ``rtl.preload``): a
        # preloaded trial's outcome, held from the start if ``awaiting``
        self.state = state
        hist = {f"h{c}": In(p.histogram_row_layout(c)) for c in range(p.n_cat)}
        super().__init__({
            "load": In(1),
            "group": In(range(max(2, p.groups))),
            "start": In(1),
            "counts": In(data.ArrayLayout(unsigned(p.cb), p.n_cls)),
            "n": In(p.cb),
            "rows": In(data.ArrayLayout(p.quantile_row_layout, p.n_num)),
            **hist,
            "ack": In(1),
            "preset": In(1),
            "preset_state": In(p.state_layout),
            "busy": Out(1),
            "done": Out(1),
            "do_split": Out(1),
            "attr": Out(range(max(2, p.n_num + p.n_cat))),
            "thr": Out(signed(p.w)),
            "value": Out(p.value_bits),
            "left": Out(data.ArrayLayout(unsigned(p.cb), p.n_cls)),
            "right": Out(data.ArrayLayout(unsigned(p.cb), p.n_cls)),
            "trial_cycles": Out(32),  # the longest trial so far, start to result, for reports
        })
        self.num_bits = 2 * p.cb + G + max(1, (p.n_cls - 1).bit_length())
        self.quo_bits = p.cb + G + 2
        self.stage_bits = p.config.divider_stage_bits

    def elaborate(self, platform) -> Module:
        m = Module()
        p, cfg, fx = self.p, self.p.config, self.p.config.fixed
        cb, w, C, N, NC = p.cb, p.w, p.n_cls, p.n_num, p.n_cat
        qbits = p.quality_bits
        n_attr = N + NC

        # -- snapshot -------------------------------------------------------------------
        pend = self.state if self.state and self.state["awaiting"] else None
        # The result's registers keep their values through a reset: a preset writes them.
        held = Signal(init=bool(pend), reset_less=True)  # a preset (or preloaded) outcome
        do_split = Signal(init=pend["do_split"] if pend else 0, reset_less=True)
        cnt = Signal(data.ArrayLayout(unsigned(cb), C), init=pend["counts"] if pend else None,
                     reset_less=True)
        nn = Signal(cb)
        rows = Signal(data.ArrayLayout(p.quantile_row_layout, N))
        hists = [Signal(p.histogram_row_layout(c), name=f"snap_h{c}") for c in range(NC)]
        # registered: the sums (and squares) take a cycle, off the dividers' first stage.
        # The squares are taken from the counts as they come in, every cycle: those of the
        # start cycle are whole at most two cycles later, and their sum a cycle after that,
        # as the null split is launched (``null_at``), and only then; no multiplier comes
        # before the sum.
        learned = Signal(cb + 1)
        squares = [registered_square(m, self.counts[j], p.split_squares, f"count_square{j}")
                   for j in range(C)]
        ssq = Signal(2 * cb + 4)
        total = Signal(cb + 1)  # the counts' sum, registered as ``learned``
        m.d.comb += total.eq(sum(cnt[j] for j in range(C)))
        m.d.sync += [learned.eq(total), ssq.eq(sum(squares))]
        radix4 = p.radix4_division

        def tripled(value, name):
            """A register of three times ``value``'s cb bits (the divisor's): a radix-4
            divider's first stage takes it beside the divisor, with no time to add."""
            reg = Signal(cb + 2, name=name)
            m.d.sync += reg.eq(value[:cb] + (value[:cb] << 1))
            return reg

        if radix4:  # the null split's divisor, three times, a register beside ``learned``
            learned3 = tripled(total, "learned3")

        tag_layout = data.StructLayout({
            "null": 1,  # the null split (else a candidate)
            "ok": 1,  # both sides non-empty
            "last": 1,  # last candidate of its attribute
            "attr": range(max(2, n_attr)),
            "val": signed(w),  # threshold, or categorical value
            "left": data.ArrayLayout(unsigned(cb), C),
        })
        div_a = m.submodules.div_a = PipelinedDivider(self.num_bits, cb, self.quo_bits,
                                                      tag_bits=tag_layout.size,
                                                      bits_per_stage=self.stage_bits,
                                                      radix4=radix4)
        div_b = m.submodules.div_b = PipelinedDivider(self.num_bits, cb, self.quo_bits,
                                                      bits_per_stage=self.stage_bits,
                                                      radix4=radix4)

        # -- control ------------------------------------------------------------------
        gi = Signal(range(n_attr + 1))  # attribute being issued
        gp = Signal(8)  # split point or categorical value being issued
        in_flight = Signal(8)
        launch = Signal()  # a candidate is issued this cycle (its division follows)
        cycles = Signal(32)

        # Results.
        best_ok = Signal()
        best_q = Signal(qbits)
        best_attr = Signal.like(self.attr, init=pend["attr"] if pend else 0, reset_less=True)
        best_val = Signal(signed(w), init=pend["value"] if pend else 0, reset_less=True)
        best_left = Signal(data.ArrayLayout(unsigned(cb), C), init=pend["left"] if pend else None,
                           reset_less=True)
        second_q = Signal(qbits)
        null_q = Signal(qbits)
        a_ok = Signal()
        a_q = Signal(qbits)
        a_val = Signal(signed(w))
        a_left = Signal(data.ArrayLayout(unsigned(cb), C))
        a_attr = Signal.like(self.attr)
        # the candidate just folded, a cycle later: whether it was taken, its value and left
        # counts (a_val and a_left follow from these, so the comparison's select drives a_q
        # and a_ok, by the comparison, and not the wide registers, which sit by the att_
        # registers)
        taken = Signal()
        c_val = Signal(signed(w))
        c_left = Signal(data.ArrayLayout(unsigned(cb), C))
        flush = Signal()  # an attribute's best is whole in the a_ registers: to att_ next
        att_valid = Signal()  # an attribute's best is in the att_ registers, to fold
        att_ok, att_q, att_val = Signal(), Signal(qbits), Signal(signed(w))
        att_attr = Signal.like(self.attr)
        att_left = Signal(data.ArrayLayout(unsigned(cb), C))
        bound_start = Signal()
        # the null split is launched as the sum of the start cycle's squares is ready (the
        # squares follow the counts coming in, so it is right in that cycle only): three
        # cycles after the start with split squares (RUN's first), two without (ROWS);
        # the first candidate reaches the dividers many cycles later
        null_wait, null_late = Signal(), Signal()
        m.d.sync += [null_wait.eq(bound_start), null_late.eq(null_wait)]
        null_at = null_late if p.split_squares else null_wait
        margin = Signal(qbits)  # best minus second best, registered: final in JUDGE
        m.d.sync += margin.eq(best_q - second_q)
        # the bound starts once the count is captured (PREP) and is ready long before the
        # candidates are through on any but the smallest designs; ``bound_start`` is a
        # register of its own (set as PREP is entered), so no decoding of the trial's state
        # comes before the bound's registers, which may sit far from it
        judge = m.submodules.judge = HoeffdingJudge(p, qbits)
        m.d.comb += [judge.n.eq(nn), judge.learned.eq(learned), judge.margin.eq(margin),
                     judge.start.eq(bound_start)]

        # -- issue ----------------------------------------------------------------------
        s1 = Signal(tag_layout)
        s1_valid = Signal()
        s1_idx = Signal(8)
        lo_mux = Array(rows[i].lo for i in range(N)) if N else None
        # Whether each attribute has a spread (max above min), registered from the
        # snapshot every cycle: the snapshot is whole by ROWS, so the flags are right
        # from RUN on, and the issue decides on a flag instead of a comparison of words.
        spread = Signal(max(1, N))
        m.d.sync += [spread[i].eq(rows[i].hi > rows[i].lo) for i in range(N)]
        m.d.sync += s1_valid.eq(0)

        # (loads come while idle, the last group's at most a cycle after start: the rows
        # are first read in RUN, after PREP and ROWS)
        with m.If(self.load):
            for i in range(N):
                with m.If(self.group == p.lane_of(i)[1]):
                    m.d.sync += rows[i].eq(self.rows[i])
        with m.FSM(name="trial") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [cnt.eq(self.counts), nn.eq(self.n), bound_start.eq(1),
                                 gi.eq(0), gp.eq(0), best_ok.eq(0), a_ok.eq(0), cycles.eq(1)]
                    for c in range(NC):
                        m.d.sync += hists[c].eq(getattr(self, f"h{c}"))
                    m.next = "PREP"
            with m.State("PREP"):  # the bound starts; the counts' squares are taken
                m.d.sync += bound_start.eq(0)
                m.next = "ROWS"
            with m.State("ROWS"):  # the last group's rows are in; the spread flags next
                m.next = "RUN"
            with m.State("RUN"):
                with m.If(gi == n_attr):
                    m.next = "DRAIN"
                if N:
                    with m.Elif(gi < N):
                        with m.If(~spread.bit_select(gi, 1)):
                            m.d.sync += [gi.eq(gi + 1), gp.eq(0)]
                        with m.Else():
                            last = gp == cfg.split_points - 1
                            m.d.sync += [s1_valid.eq(1), s1.attr.eq(gi), s1_idx.eq(gp),
                                         s1.last.eq(last), s1.null.eq(0)]
                            m.d.comb += launch.eq(1)
                            with m.If(last):
                                m.d.sync += [gi.eq(gi + 1), gp.eq(0)]
                            with m.Else():
                                m.d.sync += gp.eq(gp + 1)
                if NC:
                    with m.Elif(gi >= N):
                        counts = Array(Const(v, 8) for v in cfg.categorical_values)
                        last = gp == counts[gi - N] - 1
                        m.d.sync += [s1_valid.eq(1), s1.attr.eq(gi), s1_idx.eq(gp), s1.last.eq(last),
                                     s1.null.eq(0)]
                        m.d.comb += launch.eq(1)
                        with m.If(last):
                            m.d.sync += [gi.eq(gi + 1), gp.eq(0)]
                        with m.Else():
                            m.d.sync += gp.eq(gp + 1)
            with m.State("DRAIN"):  # every quality divided and folded
                with m.If((in_flight == 0) & ~flush & ~att_valid & ~null_wait & ~null_late):
                    with m.If(~best_ok | at_most(best_q, null_q)):
                        m.d.sync += do_split.eq(0)
                        m.next = "DONE"
                    with m.Else():
                        m.next = "JUDGE"
            with m.State("JUDGE"):  # the margin is final; the bound, once ready
                with m.If(judge.ready):
                    m.d.sync += do_split.eq(judge.split)
                    m.next = "DONE"
            with m.State("DONE"):
                with m.If(self.ack):
                    m.next = "IDLE"
        m.d.comb += [self.done.eq(fsm.ongoing("DONE") | held), self.do_split.eq(do_split),
                     self.busy.eq(~fsm.ongoing("IDLE") | held)]
        with m.If(held & self.ack):
            m.d.sync += held.eq(0)
        with m.If(self.preset):
            ps = self.preset_state
            m.d.sync += [held.eq(ps.awaiting), do_split.eq(ps.do_split), best_attr.eq(ps.attr),
                         best_val.eq(ps.value), best_left.eq(ps.left), cnt.eq(ps.counts)]
        with m.If(~fsm.ongoing("IDLE") & ~fsm.ongoing("DONE")):
            m.d.sync += cycles.eq(cycles + 1)
        longest = Signal(32)
        with m.If(fsm.ongoing("DONE") & (cycles > longest)):
            m.d.sync += longest.eq(cycles)
        m.d.comb += self.trial_cycles.eq(longest)

        # -- threshold: lo + (span * p/(P+1) >> F), in three registered steps from the
        # issue, with no DSP's partial products added in the cycle of their product: the
        # candidate's span (every attribute's registered from the snapshot), lo and position
        # picked as it is issued (s1); the product's terms, a DSP each (ta); two sums, one
        # with ``lo << F`` (tb: a multiple of 2^F, so lo adds to the floor exactly); their
        # sum shifted (s2) -------------------------------------------------------------------
        ta, ta_valid, ta_idx = Signal(tag_layout), Signal(), Signal(8)
        tb, tb_valid, tb_idx = Signal(tag_layout), Signal(), Signal(8)
        m.d.sync += [ta_valid.eq(s1_valid), ta.eq(s1), ta_idx.eq(s1_idx),
                     tb_valid.eq(ta_valid), tb.eq(ta), tb_idx.eq(ta_idx)]
        s2 = Signal(tag_layout)
        s2_valid = Signal()
        m.d.sync += [s2_valid.eq(tb_valid), s2.eq(tb)]
        if N:
            fb = cfg.fraction_bits
            pos = Array(Const(v, fb + 1) for v in fx.split_position)
            spans = [Signal(w + 1, name=f"span{i}") for i in range(N)]
            m.d.sync += [spans[i].eq(rows[i].hi - rows[i].lo) for i in range(N)]
            a0 = Signal(range(N))  # the attribute being issued (gi, when numeric)
            m.d.comb += a0.eq(gi)
            span, lo, position = Signal(w + 1), Signal(signed(w)), Signal(fb + 1)
            m.d.sync += [span.eq(Array(spans)[a0]), lo.eq(lo_mux[a0]), position.eq(pos[gp])]
            lo_a = Signal(signed(w))
            m.d.sync += lo_a.eq(lo)
            terms = registered_product_terms(m, span, position, "threshold") + [lo_a << fb]
            half = (len(terms) + 1) // 2
            sums = [sum(terms[:half]), sum(terms[half:])]
            regs = [Signal(v.shape(), name=f"threshold_sum{k}") for k, v in enumerate(sums)]
            m.d.sync += [r.eq(v) for r, v in zip(regs, sums, strict=True)]
            thr = Signal(signed(w))
            m.d.comb += thr.eq((regs[0] + regs[1]) >> fb)
            with m.If(tb.attr < N):
                m.d.sync += s2.val.eq(thr)
            # ... and in copies for the estimates' comparisons (``threshold_copies``)
            thr_copies = registered_copies(m, thr, threshold_copies(p), "threshold")
        with m.If(tb.attr >= N):
            m.d.sync += s2.val.eq(tb_idx)

        # -- class counts left of the candidate: estimates below it (compared into a
        # register, counted a cycle later), then counts --------------------------------
        cb_tag, cc_tag = Signal(tag_layout), Signal(tag_layout)
        cb_valid, cc_valid = Signal(), Signal()
        m.d.sync += [cb_valid.eq(s2_valid), cb_tag.eq(s2), cc_valid.eq(cb_valid), cc_tag.eq(cb_tag)]
        s3 = Signal(tag_layout)
        s3_valid = Signal()
        m.d.sync += [s3_valid.eq(cc_valid), s3.eq(cc_tag)]
        qn = cfg.quantiles
        mult, shift = constant_divider(cb + qn.bit_length(), qn)
        if N:
            a_ta = Signal(range(N))  # the candidate's numeric attribute, at ta
            m.d.comb += a_ta.eq(ta.attr)
        for j in range(C):
            if N:
                # the candidate's attribute's estimates, picked a stage ahead (with tb, as
                # the threshold is summed) so that the comparisons start from registers;
                # each estimate picked by a copy of tb's attribute of its own (one
                # register drove every estimate's multiplexers: 9.4 ns of wire)
                a2 = registered_copies(m, a_ta, qn, f"estimate_attr{j}")
                quant = Signal(data.ArrayLayout(signed(w), qn), name=f"estimates{j}")
                m.d.sync += [quant[k].eq(Array(rows[i].q[j][k] for i in range(N))[a2[k]])
                             for k in range(qn)]
                lower = Signal(qn, name=f"lower{j}")  # an estimate below the threshold, each
                per_class = len(thr_copies) // C
                m.d.sync += lower.eq(Cat(
                    quant[k] < thr_copies[j * per_class + k // ESTIMATES_PER_THRESHOLD_COPY]
                    for k in range(qn)))
                below = Signal(range(qn + 1), name=f"below{j}")
                m.d.sync += below.eq(sum(lower[k] for k in range(qn)))
                with m.If(cc_tag.attr < N):
                    m.d.sync += s3.left[j].eq(((cnt[j] * below) * mult) >> shift)
            if NC:
                c2 = Signal(range(max(2, NC)), name=f"c2_{j}")
                m.d.comb += c2.eq(s2.attr - N)
                per_value = []
                for c in range(NC):
                    vals = Array(hists[c][v][j] for v in range(cfg.categorical_values[c]))
                    per_value.append(vals[s2.val.as_unsigned()[:p.value_bits]])
                hist_left, hist_late = Signal(cb, name=f"hist_left{j}"), Signal(cb, name=f"hist_late{j}")
                m.d.sync += [hist_left.eq(Array(per_value)[c2]), hist_late.eq(hist_left)]
                with m.If(cc_tag.attr >= N):
                    m.d.sync += s3.left[j].eq(hist_late)

        # -- sums and squares: the right counts, then the squares (two cycles when split:
        # ``registered_square``), then their sums, a register each (a subtraction, a
        # product and a sum in one cycle were too slow)
        s3b, s3c, s4 = (Signal(tag_layout) for _ in range(3))
        s3b_valid, s3c_valid, s4_valid = Signal(), Signal(), Signal()
        rights = [Signal(cb, name=f"right{j}") for j in range(C)]
        sq_l = [registered_square(m, s3b.left[j], p.split_squares, f"square_left{j}")
                for j in range(C)]
        sq_r = [registered_square(m, rights[j], p.split_squares, f"square_right{j}")
                for j in range(C)]
        sl_c, sr_c = Signal(cb + 4), Signal(cb + 4)
        sl, sr = Signal(cb + 4), Signal(cb + 4)
        ql, qr = Signal(2 * cb + 4), Signal(2 * cb + 4)
        m.d.sync += [s3b_valid.eq(s3_valid), s3b.eq(s3),
                     *[rights[j].eq(cnt[j] - s3.left[j]) for j in range(C)]]
        m.d.sync += [s3c_valid.eq(s3b_valid), s3c.eq(s3b),
                     sl_c.eq(sum(s3b.left[j] for j in range(C))), sr_c.eq(sum(rights))]
        s3d, s3d_valid, sl_d, sr_d = s3c, s3c_valid, sl_c, sr_c  # the squares' second step:
        if p.split_squares:  # the sides' sums and the tag wait beside it
            s3d, s3d_valid = Signal(tag_layout), Signal()
            sl_d, sr_d = Signal(cb + 4), Signal(cb + 4)
            m.d.sync += [s3d_valid.eq(s3c_valid), s3d.eq(s3c), sl_d.eq(sl_c), sr_d.eq(sr_c)]
        m.d.sync += [s4_valid.eq(s3d_valid), s4.eq(s3d), sl.eq(sl_d), sr.eq(sr_d),
                     ql.eq(sum(sq_l)), qr.eq(sum(sq_r))]
        if radix4:  # three times the divisors, registered beside them
            sl3, sr3 = tripled(sl_d, "left3"), tripled(sr_d, "right3")

        # -- divisions (the null split first, alone: no candidate is that far yet) ----------
        with m.If(null_at):
            m.d.comb += [div_a.valid.eq(1), div_a.numerator.eq(ssq << G),
                         div_a.divisor.eq(learned)]
            if radix4:
                m.d.comb += div_a.divisor3.eq(learned3)
            tag = tag_layout.const({"null": 1})
            m.d.comb += div_a.tag.eq(tag.as_value())
        with m.Elif(s4_valid):
            tag = Signal(tag_layout)
            m.d.comb += [tag.eq(s4), tag.ok.eq((sl != 0) & (sr != 0))]
            m.d.comb += [div_a.valid.eq(1), div_a.numerator.eq(ql << G), div_a.divisor.eq(sl),
                         div_a.tag.eq(tag.as_value()),
                         div_b.valid.eq(1), div_b.numerator.eq(qr << G), div_b.divisor.eq(sr)]
            if radix4:
                m.d.comb += [div_a.divisor3.eq(sl3), div_b.divisor3.eq(sr3)]

        # -- quality: the two quotients' sum, registered (the add stays off the fold's path) --
        out = Signal(tag_layout)
        out_valid = Signal()
        quo_a = Signal(self.quo_bits)
        qual = Signal(qbits)
        m.d.sync += [out_valid.eq(div_a.out_valid), out.eq(div_a.out_tag), quo_a.eq(div_a.quotient),
                     qual.eq(div_a.quotient + div_b.quotient)]

        # -- fold: each candidate into its attribute's best; after the attribute's last
        # candidate that best moves to the att_ registers (a register to a register, so
        # the comparison's select drives a_q and a_ok only; the value and left counts of a
        # candidate taken follow a cycle later, through ``taken``), and a cycle later into
        # the overall best and second best: two comparisons in series were the small
        # design's slowest path ------------------------------------------------------------
        m.d.sync += in_flight.eq(in_flight + launch + null_at - out_valid)  # divisions owed
        m.d.sync += [flush.eq(0), att_valid.eq(flush)]
        with m.If(flush):
            m.d.sync += [a_ok.eq(0), att_ok.eq(a_ok), att_q.eq(a_q),
                         att_val.eq(Mux(taken, c_val, a_val)),
                         att_left.eq(Mux(taken, c_left.as_value(), a_left.as_value())),
                         att_attr.eq(a_attr)]
        m.d.sync += [taken.eq(0), c_val.eq(out.val), c_left.eq(out.left)]
        with m.If(taken):
            m.d.sync += [a_val.eq(c_val), a_left.eq(c_left)]
        with m.If(out_valid):
            with m.If(out.null):
                m.d.sync += [null_q.eq(quo_a), second_q.eq(quo_a)]
            with m.Else():
                held_ok = Signal()  # a best of this attribute so far (not the one flushed)
                m.d.comb += held_ok.eq(a_ok & ~flush)
                with m.If(out.ok & (~held_ok | greater(qual, a_q))):
                    m.d.sync += [a_ok.eq(1), a_q.eq(qual), taken.eq(1)]
                with m.Else():
                    m.d.sync += a_ok.eq(held_ok)
                m.d.sync += [a_attr.eq(out.attr), flush.eq(out.last)]
        # (the null split's quality is folded first: the divider keeps its order, and the
        # first attribute's best reaches here at least two cycles after it)
        # The overall best's attribute, value and left counts follow a cycle later, from
        # copies of the att_ registers, through ``best_taken`` (the comparison's select
        # drove their enables: the trial's slowest path alone once its products were cut,
        # 11.2 ns); the result is read in DONE, after DRAIN's cycle, so none waits for them.
        best_taken = Signal()
        t_attr, t_val = Signal.like(att_attr), Signal.like(att_val)
        t_left = Signal.like(att_left)
        m.d.sync += [best_taken.eq(0), t_attr.eq(att_attr), t_val.eq(att_val),
                     t_left.eq(att_left)]
        with m.If(att_valid & att_ok):
            with m.If(~best_ok | greater(att_q, best_q)):
                with m.If(best_ok & greater(best_q, second_q)):
                    m.d.sync += second_q.eq(best_q)
                m.d.sync += [best_ok.eq(1), best_q.eq(att_q), best_taken.eq(1)]
            with m.Elif(greater(att_q, second_q)):
                m.d.sync += second_q.eq(att_q)
        with m.If(best_taken & ~self.preset):
            m.d.sync += [best_attr.eq(t_attr), best_val.eq(t_val), best_left.eq(t_left)]

        m.d.comb += [self.attr.eq(best_attr), self.thr.eq(best_val),
                     self.value.eq(best_val.as_unsigned()[:p.value_bits])]
        for j in range(C):
            m.d.comb += [self.left[j].eq(best_left[j]), self.right[j].eq(cnt[j] - best_left[j])]
        return m

