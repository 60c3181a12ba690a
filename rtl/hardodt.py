"""``HardODT``: the whole learner, one sample in and one prediction out per cycle.

The pipeline never stalls inside; only the input is held back (by the output
FIFO's free space, or while a split is being inserted), so every stage sees
the slots in input order and read-modify-writes need no more than a
transparent read port (the write of one slot is visible to the next slot's
read in the same cycle). Stages, one cycle each:

    R_0 .. R_{L-1}  one per tree level: read the level's node memory, branch
    R_L             element counters: predict (majority), count, split-trial due?
    R_{L+1}         quantile rows and histograms: update; snapshot for a trial

A split trial runs beside the pipeline on a snapshot (``rtl.split_trial``). Its
outcome enters the pipeline at the input as two *commit slots* placed exactly
after sample ``s + split_delay`` (the golden model's split timing, see
``reference.kernels.run_stream``): the first rewrites the leaf at its level,
writes the two children one level down and initialises the new element, the
second re-initialises the element the larger child keeps. Samples already in
flight still see the old leaf, as in the golden model.
"""

from __future__ import annotations

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hardodt.config import Config
from reference.kernels import STAT_NAMES
from rtl.params import (
    CATEGORICAL,
    INACTIVE,
    LEAF,
    NUMERIC,
    OP_COMMIT_KEEP,
    OP_COMMIT_OTHER,
    OP_SAMPLE,
    HardwareParams,
    _bits,
)
from rtl.quantile import QuantileStep
from rtl.split_trial import SplitTrial

__all__ = ["HardODT"]


def _argmax(m: Module, values, name: str) -> Signal:
    """Index of the first maximum (ties: the lowest index), as the golden model's argmax."""
    best_i = Const(0, _bits(len(values)))
    best_v = values[0]
    for j in range(1, len(values)):
        take = Signal(name=f"{name}_gt{j}")
        m.d.comb += take.eq(values[j] > best_v)
        best_i = Mux(take, j, best_i)
        best_v = Mux(take, values[j], best_v)
    out = Signal(_bits(len(values)), name=name)
    m.d.comb += out.eq(best_i)
    return out


class HardODT(wiring.Component):
    """The Hard-ODT learner for one configuration.

    Members
    -------
    samples : In(stream.Signature(params.sample_layout))
        Encoded samples (``reference.encode``), a label and a learn flag.
    predictions : Out(stream.Signature(params.prediction_layout))
        One prediction per sample, in order (test-then-train: before the sample is learned).
    stats : Out(ArrayLayout(32, len(STAT_NAMES)))
        The golden model's counters, in the order of ``reference.kernels.STAT_NAMES``.
    idle : Out(1)
        Nothing in flight and no split waiting to be inserted: read-back is safe.
    debug_en, debug_level, debug_row : In; debug_node, debug_counter : Out
        Read-back while idle: with ``debug_en`` the node row ``debug_row`` of
        level ``debug_level`` and the counter row of element ``debug_row``
        appear one cycle later (the input is held while ``debug_en`` is set).
    """

    def __init__(self, config: Config) -> None:
        try:
            self.params = p = HardwareParams(config)
        except Exception:
            self._MustUse__silence = True  # refused, so never elaborated: no warning
            raise
        self.config = config
        self.fifo_depth = p.levels + 4
        row_bits = max(_bits(p.n_elem), p.pair_bits)
        super().__init__({
            "samples": In(stream.Signature(p.sample_layout)),
            "predictions": Out(stream.Signature(p.prediction_layout)),
            "stats": Out(data.ArrayLayout(32, len(STAT_NAMES))),
            "idle": Out(1),
            "trial_cycles": Out(32),
            "debug_en": In(1),
            "debug_level": In(range(p.levels)),
            "debug_row": In(row_bits),
            "debug_node": Out(data.ArrayLayout(p.node_layout, 2)),
            "debug_counter": Out(p.counter_layout),
        })

    def slot_layout(self) -> data.StructLayout:
        p = self.params
        addr = p.pair_bits + 1
        return data.StructLayout({
            "op": 2,
            "g": range(max(2, p.groups)),  # quantile group of this slot (a sample takes one per group)
            "seq": 32,
            "s": p.sample_layout,
            "addr": addr,  # node address at the level being read: row = addr >> 1, lane = addr & 1
            "found": 1,
            "leaf_kind": 2,
            "leaf_elem": _bits(p.n_elem),
            "leaf_cls": _bits(p.n_cls),
            "leaf_level": range(p.levels),
            "leaf_addr": addr,
            # commit slots
            "c_level": range(p.levels),
            "c_addr": addr,
            "c_node": p.node_layout,
            "c_children": data.ArrayLayout(p.node_layout, 2),
            "c_elem": _bits(p.n_elem),
            "c_active": 1,
            "c_n": p.cb,
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        p, cfg, fx = self.params, self.config, self.config.fixed
        L, N, NC, C, E = p.levels, p.n_num, p.n_cat, p.n_cls, p.n_elem
        slot_layout = self.slot_layout()
        node = p.node_layout
        stats = [Signal(32, name=f"stat_{n}") for n in STAT_NAMES]
        for i, s in enumerate(stats):
            m.d.comb += self.stats[i].eq(s)
        S = {n: i for i, n in enumerate(STAT_NAMES)}

        def bump(name, cond):
            with m.If(cond):
                m.d.sync += stats[S[name]].eq(stats[S[name]] + 1)

        # -- output FIFO and input gating --------------------------------------------------
        out_fifo = m.submodules.out_fifo = fifo.SyncFIFOBuffered(
            width=p.prediction_layout.size, depth=self.fifo_depth)
        m.d.comb += [self.predictions.valid.eq(out_fifo.r_rdy),
                     self.predictions.p.eq(out_fifo.r_data), out_fifo.r_en.eq(self.predictions.ready)]
        outstanding = Signal(range(self.fifo_depth + 1))
        entered = Signal(32)  # samples accepted so far: the next sample's index
        awaiting = Signal()  # a trial's outcome is not inserted yet
        commit_at = Signal(32)  # ... and it goes in before this sample index
        t_level = Signal(range(L))
        t_addr = Signal(p.pair_bits + 1)
        t_elem = Signal(_bits(E))
        at_commit = Signal()
        m.d.comb += at_commit.eq(awaiting & (entered == commit_at))

        ins_state = Signal(2)  # 0 idle, 1 insert COMMIT_OTHER, 2 insert COMMIT_KEEP
        G = p.groups
        sub = Signal(range(max(2, G)))  # group of the next slot issued for the current sample / commit
        open_ = Signal()  # a new sample may enter (independent of valid, as streams require)
        accept = Signal()
        cont = Signal()  # the current sample's later groups enter from ``held``
        held = Signal(p.sample_layout)
        held_seq = Signal(32)
        m.d.comb += [
            open_.eq((ins_state == 0) & (sub == 0) & (outstanding < self.fifo_depth) & ~at_commit
                     & ~self.debug_en),
            self.samples.ready.eq(open_),
            accept.eq(self.samples.valid & open_),
            cont.eq(sub != 0),
        ]
        with m.If(accept):
            m.d.sync += [held.eq(self.samples.p), held_seq.eq(entered)]
        with m.If(accept | cont | (ins_state != 0)):
            m.d.sync += sub.eq(Mux(sub == G - 1, 0, sub + 1))
        popped = Signal()
        m.d.comb += popped.eq(self.predictions.valid & self.predictions.ready)
        m.d.sync += outstanding.eq(outstanding + accept - popped)
        with m.If(accept):
            m.d.sync += entered.eq(entered + 1)

        # -- split trial engine and commit slots --------------------------------------------------
        trial = m.submodules.trial = SplitTrial(p)
        m.d.comb += self.trial_cycles.eq(trial.trial_cycles)
        tok = Signal(slot_layout)  # the commit slots being inserted (op is set per slot)
        tok_keep = Signal(slot_layout)
        next_pair = Array(Signal(p.pair_bits, name=f"next_pair{lv}") for lv in range(L))
        pool = Signal(range(E + 1), init=1)  # elements handed out (the root holds element 0)

        resolve = Signal()
        m.d.comb += resolve.eq(awaiting & trial.done & (~trial.do_split | at_commit)
                               & (ins_state == 0) & (sub == 0))
        with m.If(resolve):
            m.d.comb += trial.ack.eq(1)
            m.d.sync += awaiting.eq(0)
            with m.If(trial.do_split):
                left = [trial.left[j] for j in range(C)]
                right = [trial.right[j] for j in range(C)]
                sum_l = Signal(p.cb + 4)
                sum_r = Signal(p.cb + 4)
                m.d.comb += [sum_l.eq(sum(left)), sum_r.eq(sum(right))]
                keep_left = Signal()
                m.d.comb += keep_left.eq(sum_l >= sum_r)
                cls_l = _argmax(m, left, "cls_left")
                cls_r = _argmax(m, right, "cls_right")
                other_ok = Signal()
                m.d.comb += other_ok.eq(pool < E)
                other = Signal(_bits(E))
                m.d.comb += other.eq(pool)
                with m.If(other_ok):
                    m.d.sync += pool.eq(pool + 1)
                pair = Signal(p.pair_bits)
                m.d.comb += pair.eq(next_pair[t_level + 1])
                m.d.sync += next_pair[t_level + 1].eq(pair + 1)
                internal = Signal(node)
                m.d.comb += [internal.eq(0), internal.child.eq(pair), internal.thr.eq(trial.thr)]
                if N:
                    m.d.comb += [internal.kind.eq(Mux(trial.attr < N, NUMERIC, CATEGORICAL)),
                                 internal.attr.eq(Mux(trial.attr < N, trial.attr, trial.attr - N))]
                else:
                    m.d.comb += [internal.kind.eq(CATEGORICAL), internal.attr.eq(trial.attr)]
                with m.If(trial.attr >= N):
                    m.d.comb += internal.thr.eq(trial.value)
                kids = Signal(data.ArrayLayout(node, 2))
                m.d.comb += [kids.eq(0), kids[0].cls.eq(cls_l), kids[1].cls.eq(cls_r),
                             kids[0].kind.eq(LEAF), kids[1].kind.eq(LEAF)]
                with m.If(keep_left):
                    m.d.comb += [kids[0].elem.eq(t_elem), kids[1].elem.eq(other)]
                    with m.If(~other_ok):
                        m.d.comb += [kids[1].kind.eq(INACTIVE), kids[1].elem.eq(0)]
                with m.Else():
                    m.d.comb += [kids[1].elem.eq(t_elem), kids[0].elem.eq(other)]
                    with m.If(~other_ok):
                        m.d.comb += [kids[0].kind.eq(INACTIVE), kids[0].elem.eq(0)]
                inherit_n = cfg.hoeffding_n == "inherited"
                n_keep = Mux(keep_left, sum_l, sum_r) if inherit_n else 0
                n_other = Mux(keep_left, sum_r, sum_l) if inherit_n else 0
                m.d.sync += [
                    tok.eq(0), tok.op.eq(OP_COMMIT_OTHER), tok.c_level.eq(t_level),
                    tok.c_addr.eq(t_addr), tok.c_node.eq(internal), tok.c_children.eq(kids),
                    tok.c_elem.eq(other), tok.c_active.eq(other_ok), tok.c_n.eq(n_other),
                    tok_keep.eq(0), tok_keep.op.eq(OP_COMMIT_KEEP), tok_keep.c_elem.eq(t_elem),
                    tok_keep.c_active.eq(1), tok_keep.c_n.eq(n_keep),
                    tok_keep.c_level.eq(t_level),
                    ins_state.eq(1),
                ]
        with m.If((ins_state == 1) & (sub == G - 1)):
            m.d.sync += ins_state.eq(2)
        with m.If((ins_state == 2) & (sub == G - 1)):
            m.d.sync += ins_state.eq(0)

        # -- R_0: the slot entering the pipeline --------------------------------------------------
        r_valid = [Signal(name=f"r{lv}_valid") for lv in range(L + 2)]
        r = [Signal(slot_layout, name=f"r{lv}") for lv in range(L + 2)]
        with m.If(ins_state == 1):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(tok), r[0].g.eq(sub)]
        with m.Elif(ins_state == 2):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(tok_keep), r[0].g.eq(sub)]
        with m.Elif(cont):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(0), r[0].op.eq(OP_SAMPLE), r[0].g.eq(sub),
                         r[0].seq.eq(held_seq), r[0].s.eq(held)]
        with m.Else():
            m.d.sync += [r_valid[0].eq(accept), r[0].eq(0), r[0].op.eq(OP_SAMPLE), r[0].g.eq(0),
                         r[0].seq.eq(entered), r[0].s.eq(self.samples.p)]

        # -- R_0 .. R_{L-1}: the tree levels ----------------------------------------------------------
        node_mems = []
        next_row = Const(0)  # row the slot entering R_0 reads: the root
        debug_nodes = []
        for lv in range(L):
            rows = p.level_rows(lv)
            init = []
            if lv == 0:
                root = node.const({"kind": LEAF, "elem": 0, "cls": 0})
                init = [[root, node.const({})]]
            mem = Memory(shape=data.ArrayLayout(node, 2), depth=rows, init=init)
            m.submodules[f"level{lv}"] = mem
            node_mems.append(mem)
            wr = mem.write_port(granularity=1)
            rd = mem.read_port(transparent_for=(wr,))
            m.d.comb += rd.addr.eq(Mux(self.debug_en, self.debug_row, next_row))
            debug_nodes.append(rd.data)
            cur = r[lv]
            word = Signal(node, name=f"word{lv}")
            m.d.comb += word.eq(rd.data[cur.addr[0]])
            nxt = Signal(slot_layout, name=f"next{lv}")
            m.d.comb += nxt.eq(cur)
            with m.If((cur.op == OP_SAMPLE) & ~cur.found):
                with m.If((word.kind == LEAF) | (word.kind == INACTIVE)):
                    m.d.comb += [nxt.found.eq(1), nxt.leaf_kind.eq(word.kind),
                                 nxt.leaf_elem.eq(word.elem), nxt.leaf_cls.eq(word.cls),
                                 nxt.leaf_level.eq(lv), nxt.leaf_addr.eq(cur.addr)]
                with m.Else():
                    go_left = Signal(name=f"go_left{lv}")
                    if N:
                        xs = Array(cur.s.x[i] for i in range(N))
                        m.d.comb += go_left.eq(xs[word.attr] < word.thr)
                    if NC:
                        xcs = Array(cur.s.xc[c] for c in range(NC))
                        with m.If(word.kind == CATEGORICAL):
                            m.d.comb += go_left.eq(
                                xcs[word.attr] == word.thr.as_unsigned()[:p.value_bits])
                    m.d.comb += nxt.addr.eq(Mux(go_left, word.child << 1, (word.child << 1) | 1))
            # Commit writes: the split leaf becomes an internal node; its children one level down.
            with m.If(r_valid[lv] & (cur.op == OP_COMMIT_OTHER) & (cur.g == 0)):
                with m.If(cur.c_level == lv):
                    m.d.comb += [wr.addr.eq(cur.c_addr >> 1),
                                 wr.en.eq(Mux(cur.c_addr[0], 0b10, 0b01)),
                                 wr.data[0].eq(cur.c_node), wr.data[1].eq(cur.c_node)]
                if lv > 0:
                    with m.If(cur.c_level + 1 == lv):
                        m.d.comb += [wr.addr.eq(cur.c_node.child), wr.en.eq(0b11),
                                     wr.data.eq(cur.c_children)]
            m.d.sync += [r_valid[lv + 1].eq(r_valid[lv]), r[lv + 1].eq(nxt)]
            next_row = nxt.addr >> 1
        m.d.comb += self.debug_node.eq(Array(debug_nodes)[self.debug_level])

        # -- R_L: element counters, prediction, split-trial decision --------------------------------------
        ctr_mem = m.submodules.counters = Memory(shape=p.counter_layout, depth=E, init=[])
        cwr = ctr_mem.write_port()
        crd = ctr_mem.read_port(transparent_for=(cwr,))
        # The read address is the element of the slot entering R_L (computed at the last level).
        lv_last_next = nxt
        m.d.comb += crd.addr.eq(Mux(self.debug_en, self.debug_row,
                                    Mux(lv_last_next.op == OP_SAMPLE, lv_last_next.leaf_elem,
                                        lv_last_next.c_elem)))
        m.d.comb += self.debug_counter.eq(crd.data)

        cur = r[L]
        ctr = Signal(p.counter_layout)
        m.d.comb += ctr.eq(crd.data)
        is_sample = r_valid[L] & (cur.op == OP_SAMPLE) & (cur.g == 0)
        y = cur.s.label
        cnts = [ctr.cnt[j] for j in range(C)]
        best = _argmax(m, cnts, "majority")
        max_count = Array(cnts)[best]
        pred = Signal(_bits(C))
        m.d.comb += pred.eq(Mux((cur.leaf_kind == INACTIVE) | (max_count == 0), cur.leaf_cls, best))
        m.d.comb += [out_fifo.w_en.eq(is_sample), out_fifo.w_data.eq(pred)]

        leaves = Signal(range(cfg.max_leaves + 2), init=1)
        remaining = Signal(range(cfg.split_delay + 1))  # samples left in the pending window
        inactive = cur.leaf_kind == INACTIVE
        frozen = ctr.n >= fx.count_max
        do_learn = Signal()
        m.d.comb += do_learn.eq(is_sample & cur.s.learn & ~inactive & ~frozen)
        new = Signal(p.counter_layout)
        m.d.comb += new.eq(ctr)
        cnt_y = Signal(p.cb)
        m.d.comb += cnt_y.eq(Array(cnts)[y] + 1)
        since = Signal(p.cb + 1)
        m.d.comb += since.eq(ctr.since + 1)
        with m.If(do_learn):
            m.d.comb += [new.n.eq(ctr.n + 1), new.since.eq(since), new.hist_ok.eq(1),
                         new.seen.eq(ctr.seen | (1 << y))]
            for j in range(C):
                with m.If(y == j):
                    m.d.comb += new.cnt[j].eq(cnt_y)
        due = do_learn & (since >= cfg.grace_period)
        pending = remaining != 0
        start = Signal()
        m.d.comb += start.eq(due & ~pending)
        with m.If(start):
            m.d.comb += new.since.eq(0)
        skip_depth = start & (cur.leaf_level >= cfg.max_depth)
        skip_leaves = start & ~skip_depth & (leaves >= cfg.max_leaves)
        seen_classes = sum((new.cnt[j] != 0).as_unsigned() for j in range(C))
        skip_pure = start & ~skip_depth & ~skip_leaves & (seen_classes < 2)
        begin = Signal()
        m.d.comb += begin.eq(start & ~skip_depth & ~skip_leaves & ~skip_pure)
        with m.If(is_sample & pending):
            m.d.sync += remaining.eq(remaining - 1)
        with m.If(begin):
            m.d.sync += [remaining.eq(cfg.split_delay), awaiting.eq(1),
                         commit_at.eq(cur.seq + cfg.split_delay + 1),
                         t_level.eq(cur.leaf_level), t_addr.eq(cur.leaf_addr),
                         t_elem.eq(cur.leaf_elem)]
        is_commit = r_valid[L] & (cur.op != OP_SAMPLE) & cur.c_active & (cur.g == 0)
        m.d.comb += [cwr.addr.eq(Mux(cur.op == OP_SAMPLE, cur.leaf_elem, cur.c_elem)),
                     cwr.en.eq(do_learn | is_commit)]
        with m.If(is_commit):
            m.d.comb += [cwr.data.eq(0), cwr.data.n.eq(cur.c_n)]
        with m.Else():
            m.d.comb += cwr.data.eq(new)
        split_slot = r_valid[L] & (cur.op == OP_COMMIT_OTHER) & (cur.g == 0)
        with m.If(split_slot):
            m.d.sync += leaves.eq(leaves + 1)
        bump("samples", is_sample)
        bump("learned", do_learn)
        bump("frozen_samples", is_sample & cur.s.learn & ~inactive & frozen)
        bump("inactive_samples", is_sample & cur.s.learn & inactive)
        bump("split_trials", begin)
        bump("splits", split_slot)
        bump("trials_skipped_depth", skip_depth)
        bump("trials_skipped_leaves", skip_leaves)
        bump("trials_skipped_pure", skip_pure)
        bump("inactive_leaves", split_slot & ~cur.c_active)
        bump("trials_postponed", due & pending)

        # Carried to R_{L+1}.
        q_learn = Signal()
        q_first = Signal()
        q_count = Signal(p.cb)
        q_trial = Signal()
        q_hist_ok = Signal()
        q_counts = Signal(p.counter_layout)
        # A sample's later groups reuse what its first group decided here.
        with m.If(~(r_valid[L] & (cur.op == OP_SAMPLE) & (cur.g != 0))):
            m.d.sync += [q_learn.eq(do_learn), q_count.eq(cnt_y), q_trial.eq(begin),
                         q_hist_ok.eq(ctr.hist_ok), q_counts.eq(new),
                         q_first.eq((cfg.initial_quantiles == "first") & ~(ctr.seen >> y)[0])]
        m.d.sync += [r_valid[L + 1].eq(r_valid[L]), r[L + 1].eq(cur)]

        # -- R_{L+1}: quantile rows and histograms -------------------------------------------------------
        q_cur = r[L + 1]
        q_is_commit = r_valid[L + 1] & (q_cur.op != OP_SAMPLE) & q_cur.c_active
        q_addr_next = Mux(cur.op == OP_SAMPLE, cur.leaf_elem, cur.c_elem)
        q_addr = Mux(q_cur.op == OP_SAMPLE, q_cur.leaf_elem, q_cur.c_elem)
        yq = q_cur.s.label
        m.d.comb += [trial.counts.eq(q_counts.cnt), trial.n.eq(q_counts.n)]
        # The root's element starts empty: min above max (as after a split's initialisation).
        empty_row = p.quantile_row_layout.const({"lo": fx.word_max, "hi": fx.word_min})
        q_sample = r_valid[L + 1] & (q_cur.op == OP_SAMPLE)
        m.d.comb += [trial.load.eq(q_trial & q_sample), trial.group.eq(q_cur.g),
                     trial.start.eq(q_trial & q_sample & (q_cur.g == G - 1))]
        lanes = p.lanes if N else 0
        for lane in range(lanes):
            members = [i for i in range(N) if p.lane_of(i)[0] == lane]  # by group
            mem = Memory(shape=p.quantile_row_layout, depth=E * G,
                         init=[empty_row] * len(members))
            m.submodules[f"quantiles_lane{lane}"] = mem
            wr = mem.write_port()
            rd = mem.read_port(transparent_for=(wr,))
            m.d.comb += rd.addr.eq(q_addr_next * G + cur.g)
            row = Signal(p.quantile_row_layout, name=f"row{lane}")
            m.d.comb += row.eq(rd.data)
            step = m.submodules[f"step{lane}"] = QuantileStep(cfg)
            xi = Signal(signed(p.w), name=f"x_lane{lane}")
            present = Signal(name=f"present{lane}")  # the last group may leave a lane idle
            with m.Switch(q_cur.g):
                for g, i in enumerate(members):
                    with m.Case(g):
                        m.d.comb += [xi.eq(q_cur.s.x[i]), present.eq(1)]
            m.d.comb += [step.x.eq(xi), step.first.eq(q_first), step.count.eq(q_count),
                         step.q.eq(Array(row.q[j] for j in range(C))[yq])]
            upd = Signal(p.quantile_row_layout, name=f"updated{lane}")
            m.d.comb += [upd.eq(row),
                         upd.lo.eq(Mux(xi < row.lo, xi, row.lo)),
                         upd.hi.eq(Mux(xi > row.hi, xi, row.hi))]
            for j in range(C):
                with m.If(yq == j):
                    m.d.comb += upd.q[j].eq(step.q_next)
            m.d.comb += [wr.addr.eq(q_addr * G + q_cur.g),
                         wr.en.eq(present & ((q_learn & q_sample) | q_is_commit))]
            for i in members:
                m.d.comb += trial.rows[i].eq(upd)
            with m.If(q_is_commit):
                m.d.comb += wr.data.eq(empty_row)
            with m.Else():
                m.d.comb += wr.data.eq(upd)
        for c in range(NC):
            layout = p.histogram_row_layout(c)
            mem = Memory(shape=layout, depth=E, init=[])
            m.submodules[f"histogram{c}"] = mem
            wr = mem.write_port()
            rd = mem.read_port(transparent_for=(wr,))
            m.d.comb += rd.addr.eq(q_addr_next)
            row = Signal(layout, name=f"hist{c}")
            m.d.comb += row.eq(Mux(q_hist_ok, rd.data.as_value(), 0))
            upd = Signal(layout, name=f"hist_updated{c}")
            m.d.comb += upd.eq(row)
            v = q_cur.s.xc[c]
            for val in range(cfg.categorical_values[c]):
                for j in range(C):
                    with m.If((v == val) & (yq == j)):
                        m.d.comb += upd[val][j].eq(row[val][j] + 1)
            m.d.comb += [wr.addr.eq(q_addr), wr.en.eq(q_learn & q_sample & (q_cur.g == 0)),
                         wr.data.eq(upd),
                         # later groups of the sample read the row its first group wrote
                         getattr(trial, f"h{c}").eq(Mux(q_cur.g == 0, upd.as_value(),
                                                        rd.data.as_value()))]

        # -- idle -------------------------------------------------------------------------------------------
        m.d.comb += self.idle.eq(~sum(r_valid).any() & (ins_state == 0) & ~at_commit
                                 & (outstanding == 0) & ~(awaiting & trial.done & ~trial.do_split))
        return m
