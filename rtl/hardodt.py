"""``HardODT``: the whole learner, one sample in and one prediction out per cycle.

The pipeline never stalls inside; only the input is held back (by the output
FIFO's free space, or while a split is being inserted), so every stage sees
the slots in input order and read-modify-writes need no more than a
transparent read port (the write of one slot is visible to the next slot's
read in the same cycle). Stages, one cycle each:

    R_0 .. R_{T-1}  the tree levels: read the level's node memory, branch; with
                    registered rows two stages a level, the node read into a register,
                    then the branch (``T = params.tree_stages``: ``2 L``, or ``L``)
    R_T, R_{T+1}    the element counters' row read for the slot leaving the tree levels,
                    from its register, and fetched into a register (with registered
                    rows, ``params.registered_rows``; otherwise these stages are left out)
    R_C             element counters: predict (majority), count, split-trial due?
                    (``C = params.counter_stage``: ``T + 2``, or ``T``)
    R_{C+1}         the quantile step's moves for the class's count, looked up into a
                    register (one schedule for all lanes)
    R_{C+2}         those moves copied into each lane's register (with one lane these two
                    stages are left out, ``params.schedule_stages``)
    R_{C+3}         quantile rows and histograms: update; snapshot for a trial

A split trial runs beside the pipeline on a snapshot (``rtl.split_trial``). Its
outcome enters the pipeline at the input as two *commit slots* placed exactly
after sample ``s + split_delay`` (the golden model's split timing, see
``reference.kernels.run_stream``): the first rewrites the leaf at its level,
writes the two children one level down and initialises the new element, the
second re-initialises the element the larger child keeps. Samples already in
flight still see the old leaf, as in the golden model.

A reset (``rst``) at any time returns the learner to the empty tree: predictions
in flight are dropped, and a RESTART slot re-initialises the root before the
next sample enters (``G`` cycles). The registers that say how far the tree has
grown (``params.state_layout``) are written as a whole: with the empty tree's
values by that restart, with a learned tree's by a run-time load (``load_*``),
which also writes memory rows one at a time while the pipeline is idle.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, ResetInserter, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from hardodt.config import Config, ConfigError
from reference.kernels import STAT_NAMES
from rtl.compare import at_least
from rtl.copies import registered_copies
from rtl.element_counters import ElementCounters, argmax
from rtl.histogram import Histogram
from rtl.node_readback import NodeReadback
from rtl.params import (
    CATEGORICAL,
    INACTIVE,
    LEAF,
    NUMERIC,
    OP_COMMIT_KEEP,
    OP_COMMIT_OTHER,
    OP_RESTART,
    OP_SAMPLE,
    HardwareParams,
    _bits,
)
from rtl.preload import Preload, empty_state, preload_image
from rtl.quantile import StepSchedule, registered_moves
from rtl.quantile_lane import QuantileLane
from rtl.split_trial import SplitTrial
from rtl.tree_level import TreeLevel

__all__ = ["HardODT"]


def _element(slot):
    """The element a slot works on: its leaf's (a sample) or the one it initialises (a
    commit); the two share their bits in the slot (``params.slot_layout``)."""
    return slot.leaf_elem


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
    leaves : Out(32)
        Leaves of the tree (inactive ones included).
    idle : Out(1)
        Nothing in flight and no split waiting to be inserted: read-back is safe.
    debug_en, debug_level, debug_row : In; debug_node, debug_counter, debug_valid : Out
        Read-back while idle: with ``debug_en`` held (and the address with it) the
        node row ``debug_row`` of level ``debug_level`` and the counter row of
        element ``debug_row`` are there once ``debug_valid`` rises
        (``rtl.node_readback``: one cycle on a shallow tree, a few hundred on a deep
        one), until ``debug_en`` falls. A read starts when ``debug_en`` rises: it falls
        for a cycle between reads. The input is held while ``debug_en`` is set.
    load_en, load_target, load_row, load_data : In (with ``load=True``)
        A run-time load, while idle: with ``load_en`` (one cycle) ``load_data`` is
        written into row ``load_row`` of target ``load_target``
        (``params.load_targets()``: the memories, then the state registers, which
        also end any trial under way). Rows first, the state last (``rtl.preload.load_rows``).
        A tree level's row travels down the pipeline as a slot and is written when it
        reaches its level: ``idle`` falls until then.
    """

    def __init__(self, config: Config, preload=None, load: bool = False) -> None:
        try:
            self.params = p = HardwareParams(config)
            from hardodt.estimate import too_large

            why = too_large(config)
            if why:
                raise ConfigError(why)
            if preload is not None and not isinstance(preload, Preload):
                preload = preload_image(p, preload)  # a golden model
        except Exception:
            self._MustUse__silence = True  # refused, so never elaborated: no warning
            raise
        self.preload = preload
        self.load = load
        self.config = config
        self.fifo_depth = p.fifo_depth
        row_bits = max(_bits(p.n_elem), p.pair_bits)
        targets = p.load_targets() if load else []
        loads = {
            "load_en": In(1),
            "load_target": In(range(len(targets))),
            "load_row": In(_bits(max(t["depth"] for t in targets))),
            "load_data": In(max(t["width"] for t in targets)),
        } if load else {}
        super().__init__({
            "samples": In(stream.Signature(p.sample_layout)),
            "predictions": Out(stream.Signature(p.prediction_layout)),
            "stats": Out(data.ArrayLayout(32, len(STAT_NAMES))),
            "idle": Out(1),
            "leaves": Out(32),
            "trial_cycles": Out(32),
            "debug_en": In(1),
            "debug_level": In(range(p.levels)),
            "debug_row": In(row_bits),
            "debug_node": Out(p.pair_layout),
            "debug_counter": Out(p.counter_layout),
            "debug_valid": Out(1),
            **loads,
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        p, cfg = self.params, self.config
        L, N, NC, C, E = p.levels, p.n_num, p.n_cat, p.n_cls, p.n_elem
        slot_layout = p.slot_layout
        node = p.node_layout
        pre = self.preload
        # The state registers: with a preloaded tree or run-time loading they keep their
        # values through a reset, and the restart after it writes the empty tree's (only if
        # a sample has entered since power-up: a reset before that keeps a preloaded tree),
        # a load a learned tree's. Otherwise their initial values are the empty tree's and
        # the reset itself clears them (cheaper: the flip-flops' own reset).
        explicit = pre is not None or self.load
        init = pre.state(p) if pre else empty_state(p)
        state_write = Signal()
        state_new = Signal(p.state_layout)

        def reg(shape, name, value):
            return Signal(shape, name=name, init=value, reset_less=explicit)

        stats = [reg(32, f"stat_{n}", init["stats"][i]) for i, n in enumerate(STAT_NAMES)]
        for i, s in enumerate(stats):
            m.d.comb += self.stats[i].eq(s)
        S = {n: i for i, n in enumerate(STAT_NAMES)}

        # Each counter counts its event a cycle late, from a register: the events come from
        # the whole pipeline and the counters sit where they are read (on the 85F, by the
        # pins), so the long wire runs register to register. ``idle`` waits for them.
        bumps = []

        def bump(name, cond):
            late = Signal(name=f"bump_{name}")
            m.d.sync += late.eq(cond)
            with m.If(late):
                m.d.sync += stats[S[name]].eq(stats[S[name]] + 1)
            bumps.append(late)

        # -- output FIFO and input gating --------------------------------------------------
        out_fifo = m.submodules.out_fifo = fifo.SyncFIFOBuffered(
            width=p.prediction_layout.size, depth=self.fifo_depth)
        m.d.comb += [self.predictions.valid.eq(out_fifo.r_rdy),
                     self.predictions.p.eq(out_fifo.r_data), out_fifo.r_en.eq(self.predictions.ready)]
        outstanding = Signal(range(self.fifo_depth + 1))
        entered = Signal(p.seq_bits)  # samples accepted so far (modulo): the next sample's index
        awaiting = reg(1, "awaiting", init["awaiting"])  # a trial's outcome is not inserted yet
        commit_at = reg(p.seq_bits, "commit_at", init["commit_at"])  # ... and it goes in
        t_level = reg(range(L), "t_level", init["t_level"])  # before this sample index
        t_addr = reg(p.pair_bits + 1, "t_addr", init["t_addr"])
        t_elem = reg(_bits(E), "t_elem", init["t_elem"])
        # ``awaiting & (entered == commit_at)``, kept as a register by the input: the state
        # registers sit by the counters, far from the pins, so the gate reads one flag and
        # the comparison ends at this register (its next value is set below, beside each
        # change of ``entered``, ``awaiting`` and ``commit_at``). After a reset that keeps
        # the state registers, ``entered`` is 0 again.
        at_commit = Signal(name="at_commit",
                           init=int(init["awaiting"] and init["commit_at"] == 0))

        ins_state = Signal(2)  # 0 idle, 1 insert COMMIT_OTHER, 2 insert COMMIT_KEEP, 3 RESTART
        G = p.groups
        sub = Signal(range(max(2, G)))  # group of the next slot issued for the current sample / commit
        open_ = Signal()  # a new sample may enter (independent of valid, as streams require)
        accept = Signal()
        cont = Signal()  # the current sample's later groups enter from ``held``
        held = Signal(p.sample_layout)
        # A reset clears the registers but not the memories. The memories start as the
        # generated image (an empty tree); once a sample has entered, a reset inserts a
        # RESTART slot that makes the root an empty leaf again (element 0's counters and
        # quantile rows too; rows of other levels and elements are rewritten before use).
        dirty = Signal(reset_less=True)  # a sample entered since power-up or the last restart
        restart = Signal(init=1)  # the first cycle after a reset
        load_state = Signal()  # a run-time load writes the state registers
        load_en = self.load_en if self.load else Const(0)
        if self.load:
            m.d.comb += load_state.eq(load_en & (self.load_target == len(p.load_targets()) - 1))
        with m.If(restart):
            m.d.sync += restart.eq(0)
            with m.If(dirty):
                m.d.sync += [ins_state.eq(3), dirty.eq(0)]
                if explicit:
                    m.d.comb += [state_write.eq(1),
                                 state_new.eq(p.state_layout.const(empty_state(p)))]
        with m.If(accept | load_state):  # a reset after a load empties the tree
            m.d.sync += dirty.eq(1)
        if self.load:
            with m.If(load_state):
                m.d.comb += [state_write.eq(1), state_new.eq(self.load_data)]
        m.d.comb += [
            open_.eq((ins_state == 0) & (sub == 0) & (outstanding < self.fifo_depth) & ~at_commit
                     & ~self.debug_en & ~load_en & ~restart),
            self.samples.ready.eq(open_),
            accept.eq(self.samples.valid & open_),
            cont.eq(sub != 0),
        ]
        with m.If(accept):
            m.d.sync += held.eq(self.samples.p)
        with m.If(accept | cont | (ins_state != 0)):
            m.d.sync += sub.eq(Mux(sub == G - 1, 0, sub + 1))
        popped = Signal()
        m.d.comb += popped.eq(self.predictions.valid & self.predictions.ready)
        m.d.sync += outstanding.eq(outstanding + accept - popped)
        with m.If(accept):
            m.d.sync += entered.eq(entered + 1)

        def reached(target):  # the entered count equals ``target`` next cycle
            return Mux(accept, (entered + 1)[:p.seq_bits] == target, entered == target)

        m.d.sync += at_commit.eq(awaiting & reached(commit_at))
        with m.If(state_write):  # commit_at counts from here
            m.d.sync += entered.eq(0)

        # -- split trial engine and commit slots --------------------------------------------------
        trial = SplitTrial(p, init)
        m.d.comb += self.trial_cycles.eq(trial.trial_cycles)
        if explicit:
            m.submodules.trial = ResetInserter(state_write)(trial)  # ends a trial under way
            m.d.comb += [trial.preset.eq(state_write), trial.preset_state.eq(state_new)]
        else:
            m.submodules.trial = trial
        tok = Signal(slot_layout)  # the commit slots being inserted (op is set per slot)
        tok_keep = Signal(slot_layout)
        # (a level whose every row is used counts to its row count, one past what the
        # register holds when that is a power of two: it wraps to 0 there, as the counter
        # does in use; no split reaches a full level, so the value is never read again)
        next_pair = Array(reg(p.pair_bits, f"next_pair{lv}",
                              init["next_pair"][lv] & ((1 << p.pair_bits) - 1))
                          for lv in range(L))
        pool = reg(range(E + 1), "pool", init["pool"])  # elements handed out (the root has 0)

        # The outcome's parts are registered every cycle and the commit slots built from
        # those registers, so the slots' logic starts at registers: what they come from
        # holds still from the trial's end to its resolution (the trial's result), or
        # since the trial began (the tree's state). ``settled``: the trial has been done
        # for a cycle, so the registers hold its outcome.
        settled = Signal()
        resolve = Signal()
        m.d.comb += resolve.eq(awaiting & trial.done & settled & (~trial.do_split | at_commit)
                               & (ins_state == 0) & (sub == 0))
        m.d.sync += settled.eq(trial.done & ~resolve & ~state_write)
        left = [trial.left[j] for j in range(C)]
        right = [trial.right[j] for j in range(C)]
        sum_l = Signal(p.cb + 4)
        sum_r = Signal(p.cb + 4)
        m.d.sync += [sum_l.eq(sum(left)), sum_r.eq(sum(right))]
        keep_left = Signal()
        m.d.comb += keep_left.eq(at_least(sum_l, sum_r))
        cls_l, cls_r = Signal(_bits(C)), Signal(_bits(C))
        m.d.sync += [cls_l.eq(argmax(m, left, "cls_left")), cls_r.eq(argmax(m, right, "cls_right"))]
        other_ok = Signal()
        other = Signal(_bits(E))
        m.d.sync += [other_ok.eq(pool < E), other.eq(pool)]
        pair = Signal(p.pair_bits)
        m.d.sync += pair.eq(next_pair[t_level + 1])
        internal_reg = Signal(node)  # the split leaf's new node, but for its child pair
        # (assigned in the clocked domain: a constant field alone in a combinational
        # process becomes an ``always @*`` with nothing to wake it in Verilog simulators)
        m.d.sync += [internal_reg.eq(0), internal_reg.thr.eq(trial.thr)]
        if N:
            m.d.sync += [internal_reg.kind.eq(Mux(trial.attr < N, NUMERIC, CATEGORICAL)),
                         internal_reg.attr.eq(Mux(trial.attr < N, trial.attr, trial.attr - N))]
        else:
            m.d.sync += [internal_reg.kind.eq(CATEGORICAL), internal_reg.attr.eq(trial.attr)]
        with m.If(trial.attr >= N):
            m.d.sync += internal_reg.thr.eq(trial.value)
        internal = Signal(node)
        m.d.comb += [internal.eq(internal_reg), internal.child.eq(pair)]
        with m.If(resolve):
            m.d.comb += trial.ack.eq(1)
            m.d.sync += [awaiting.eq(0), at_commit.eq(0)]
            with m.If(trial.do_split):
                with m.If(other_ok):
                    m.d.sync += pool.eq(pool + 1)
                m.d.sync += next_pair[t_level + 1].eq(pair + 1)
                kids = Signal(p.pair_layout)
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
                    # the first slot turns the leaf into the internal node, the second
                    # (right behind it, before any sample) writes the two children below
                    tok.eq(0), tok.op.eq(OP_COMMIT_OTHER), tok.c_level.eq(t_level),
                    tok.c_row.eq(t_addr >> 1), tok.c_mask.eq(Mux(t_addr[0], 0b10, 0b01)),
                    tok.c_data[0].eq(internal), tok.c_data[1].eq(internal),
                    tok.c_elem.eq(other), tok.c_active.eq(other_ok), tok.c_n.eq(n_other),
                    tok_keep.eq(0), tok_keep.op.eq(OP_COMMIT_KEEP), tok_keep.c_elem.eq(t_elem),
                    tok_keep.c_active.eq(1), tok_keep.c_n.eq(n_keep),
                    tok_keep.c_level.eq(t_level + 1), tok_keep.c_row.eq(pair),
                    tok_keep.c_mask.eq(0b11), tok_keep.c_data.eq(kids),
                    ins_state.eq(1),
                ]
        with m.If((ins_state == 1) & (sub == G - 1)):
            m.d.sync += ins_state.eq(2)
        with m.If(((ins_state == 2) | (ins_state == 3)) & (sub == G - 1)):
            m.d.sync += ins_state.eq(0)
        restart_tok = Signal(slot_layout)
        m.d.comb += [restart_tok.eq(0), restart_tok.op.eq(OP_RESTART), restart_tok.c_active.eq(1),
                     restart_tok.c_mask.eq(0b01),  # level 0, row 0, node 0: a leaf of
                     restart_tok.c_data[0].kind.eq(LEAF)]  # element 0, class 0

        # -- R_0: the slot entering the pipeline --------------------------------------------------
        QS = p.quantile_stage
        r_valid = [Signal(name=f"r{lv}_valid") for lv in range(QS + 1)]
        r = [Signal(slot_layout, name=f"r{lv}") for lv in range(QS + 1)]
        with m.If(ins_state == 1):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(tok), r[0].g.eq(sub)]
        with m.Elif(ins_state == 2):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(tok_keep), r[0].g.eq(sub)]
        with m.Elif(ins_state == 3):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(restart_tok), r[0].g.eq(sub)]
        if self.load:
            # A run-time load of a tree level's row enters as a slot (a commit that
            # initialises no element) and is written when it reaches its level, like a
            # split's rows: the levels' write ports need no second source. ``idle`` stays
            # low until it is written.
            with m.Elif(self.load_en & (self.load_target < L)):
                m.d.sync += [r_valid[0].eq(1), r[0].eq(0), r[0].op.eq(OP_COMMIT_KEEP),
                             r[0].c_level.eq(self.load_target), r[0].c_row.eq(self.load_row),
                             r[0].c_mask.eq(0b11), r[0].c_data.eq(self.load_data)]
        with m.Elif(cont):
            m.d.sync += [r_valid[0].eq(1), r[0].eq(0), r[0].op.eq(OP_SAMPLE), r[0].g.eq(sub),
                         r[0].seq.eq(entered - 1), r[0].s.eq(held)]  # taken last
        with m.Else():
            m.d.sync += [r_valid[0].eq(accept), r[0].eq(0), r[0].op.eq(OP_SAMPLE), r[0].g.eq(0),
                         r[0].seq.eq(entered), r[0].s.eq(self.samples.p)]

        def loads(unit, target):  # a run-time load's row write, if it is for this unit
            if self.load:
                m.d.comb += [unit.load_en.eq(self.load_en & (self.load_target == target)),
                             unit.load_row.eq(self.load_row), unit.load_data.eq(self.load_data)]

        # -- R_0 .. R_{T-1}: the tree levels ----------------------------------------------------------
        next_row = Const(0)  # row the slot entering R_0 reads: the root
        debug_nodes = []
        LS, T = p.level_stages, p.tree_stages
        for lv in range(L):
            level = m.submodules[f"level{lv}"] = TreeLevel(p, lv, pre.levels[lv] if pre else None)
            at = lv * LS  # the level's first stage
            m.d.comb += [level.row.eq(Mux(self.debug_en, self.debug_row, next_row)),
                         level.valid.eq(r_valid[at]), level.slot.eq(r[at])]
            if LS == 2:  # the node read, then the branch
                m.d.sync += [r_valid[at + 1].eq(r_valid[at]), r[at + 1].eq(r[at])]
                m.d.comb += level.branch.eq(r[at + 1])
            debug_nodes.append(level.data)
            m.d.sync += [r_valid[at + LS].eq(r_valid[at + LS - 1]), r[at + LS].eq(level.next)]
            next_row = level.child_row
        readback = m.submodules.readback = NodeReadback(p)
        m.d.comb += [readback.en.eq(self.debug_en), readback.level.eq(self.debug_level),
                     *[readback.rows[lv].eq(row) for lv, row in enumerate(debug_nodes)],
                     self.debug_node.eq(readback.node), self.debug_valid.eq(readback.valid)]

        # -- R_T, R_{T+1} (registered rows): the counters' row read, then fetched ---------------------
        # (the read is issued from the slot register after the last level, not from that
        # level's output: the last level's block RAM then only feeds a slot register)
        CS = p.counter_stage
        counters = m.submodules.counters = ElementCounters(p, pre.counters if pre else None,
                                                           registered=p.registered_rows)
        # the slot whose counters' row is read: the one leaving the tree levels (one-cycle
        # counters), or the one in the register after them
        entering = r[T] if p.registered_rows else level.next
        # the slot entering R_C and its valid bit: from the fetch stage's register, or (the
        # loop above shifts it into r[T] = r[CS]) straight from the last tree level
        into, into_valid = level.next, r_valid[T - 1]
        if p.registered_rows:
            into, into_valid = r[T + 1], r_valid[T + 1]
            m.d.comb += counters.fetch_element.eq(_element(into))
            m.d.sync += [r_valid[T + 1].eq(r_valid[T]), r[T + 1].eq(r[T]),
                         r_valid[CS].eq(into_valid), r[CS].eq(into)]

        # -- R_C: element counters, prediction, split-trial decision -------------------------------------
        loads(counters, L)
        cur = r[CS]
        # What the slot at R_C is, decoded as it enters and registered beside r[CS]: its
        # valid bit went to the counters, the state registers, the statistics and the
        # carried flags, spread over the device. One copy drives the counters and the
        # FIFO, another the state registers and the statistics (``rtl.copies``).
        into_first = into_valid & (into.g == 0)
        is_sample, sample_counted = registered_copies(
            m, into_first & (into.op == OP_SAMPLE), 2, "cs_sample")
        is_commit = Signal()
        split_slot = Signal()  # the first commit slot of a split: a leaf more
        later_group = Signal()  # a sample's later group: reuses what its first decided
        m.d.sync += [is_commit.eq(into_first & (into.op != OP_SAMPLE) & into.c_active),
                     split_slot.eq(into_first & (into.op == OP_COMMIT_OTHER)),
                     later_group.eq(into_valid & (into.op == OP_SAMPLE) & (into.g != 0))]
        cur_elem = Signal(_bits(E))  # R_C's element
        m.d.comb += [
            cur_elem.eq(_element(cur)),
            counters.read_element.eq(Mux(self.debug_en, self.debug_row, _element(entering))),
            self.debug_counter.eq(counters.stored),
            counters.element.eq(cur_elem),
            counters.label.eq(cur.s.label),
            counters.leaf_inactive.eq(cur.leaf_kind == INACTIVE),
            counters.leaf_class.eq(cur.leaf_cls),
            counters.learn_request.eq(is_sample & cur.s.learn),
            counters.init.eq(is_commit), counters.init_n.eq(cur.c_n),
        ]
        # The prediction goes into the output FIFO from a register with registered rows: the
        # majority's comparisons then end beside the counters, and the FIFO, by the
        # output, is written from a register (a cycle more of latency, none of throughput).
        written = m.d.sync if p.registered_rows else m.d.comb
        written += [out_fifo.w_en.eq(is_sample), out_fifo.w_data.eq(counters.prediction)]
        inactive = cur.leaf_kind == INACTIVE
        do_learn = counters.learn
        new = counters.updated
        cnt_y = counters.count
        leaves = reg(range(cfg.max_leaves + 2), "leaves", init["leaves"])
        m.d.comb += self.leaves.eq(leaves)
        # samples left in the pending window
        remaining = reg(range(cfg.split_delay + 1), "remaining", init["remaining"])
        # ``remaining != 0`` and ``leaves >= max_leaves`` as flags, each updated with its
        # count: the trial's decision (which sets and clears the state registers) reads
        # flags, not comparisons of counts
        pending = reg(1, "pending", int(init["remaining"] != 0))
        leaves_full = reg(1, "leaves_full", int(init["leaves"] >= cfg.max_leaves))
        # since + 1 >= grace, read off the stored count (no adder before the comparison;
        # with registered rows, a flag registered beside the row)
        due = do_learn & counters.ripe
        start = Signal()
        m.d.comb += start.eq(due & ~pending)
        m.d.comb += counters.restart.eq(start)
        skip_depth = start & (cur.leaf_level >= cfg.max_depth)
        skip_leaves = start & ~skip_depth & leaves_full
        # classes with samples once this one counts (it is learned when a trial starts): the
        # stored counts' flags, beside the increment rather than after it
        seen_classes = sum((counters.nonzero[j] | (cur.s.label == j)).as_unsigned()
                           for j in range(C))
        skip_pure = start & ~skip_depth & ~skip_leaves & (seen_classes < 2)
        begin = Signal()
        m.d.comb += begin.eq(start & ~skip_depth & ~skip_leaves & ~skip_pure)
        with m.If(sample_counted & pending):
            m.d.sync += [remaining.eq(remaining - 1), pending.eq(remaining != 1)]
        with m.If(begin):  # (the next sample reads the flag: set now)
            m.d.sync += pending.eq(cfg.split_delay != 0)
        # The window's count, the trial's leaf and its commit point go into the state
        # registers a cycle after ``begin``, from registers: the leaf and the commit point
        # are read by the input and the commit slots, far from here, and the count's load
        # was the decision's longest path; so the decision reaches them as one registered
        # flag (cleared by a state write of the same cycle, which overrides the trial as it
        # always did).
        begun = Signal()
        begun_level, begun_addr = Signal.like(t_level), Signal.like(t_addr)
        begun_elem, begun_commit = Signal.like(t_elem), Signal.like(commit_at)
        m.d.sync += [begun.eq(begin & ~state_write), begun_level.eq(cur.leaf_level),
                     begun_addr.eq(cur.leaf_addr), begun_elem.eq(cur.leaf_elem),
                     begun_commit.eq(cur.seq + cfg.split_delay + 1)]
        with m.If(begun):  # (a sample of this cycle counts in the window already)
            m.d.sync += [remaining.eq(Mux(sample_counted, max(0, cfg.split_delay - 1),
                                          cfg.split_delay)),
                         pending.eq(Mux(sample_counted, cfg.split_delay > 1, cfg.split_delay > 0)),
                         awaiting.eq(1), commit_at.eq(begun_commit),
                         at_commit.eq(reached(begun_commit)),
                         t_level.eq(begun_level), t_addr.eq(begun_addr), t_elem.eq(begun_elem)]
        with m.If(split_slot):
            m.d.sync += [leaves.eq(leaves + 1), leaves_full.eq(leaves >= cfg.max_leaves - 1)]
        bump("samples", sample_counted)
        bump("learned", do_learn)
        bump("frozen_samples", is_sample & cur.s.learn & ~inactive & counters.frozen)
        bump("inactive_samples", sample_counted & cur.s.learn & inactive)
        bump("split_trials", begin)
        bump("splits", split_slot)
        bump("trials_skipped_depth", skip_depth)
        bump("trials_skipped_leaves", skip_leaves)
        bump("trials_skipped_pure", skip_pure)
        bump("inactive_leaves", split_slot & ~cur.c_active)
        bump("trials_postponed", due & pending)

        # Carried to R_{C+1}.
        q_learn = Signal()
        q_first = Signal()
        q_count = Signal(p.cb)
        q_trial = Signal()
        q_hist_ok = Signal()
        q_counts = Signal(p.counter_layout)
        # A sample's later groups reuse what its first group decided here.
        with m.If(~later_group):
            m.d.sync += [q_learn.eq(do_learn), q_count.eq(cnt_y), q_trial.eq(begin),
                         q_hist_ok.eq(counters.row.hist_ok), q_counts.eq(new),
                         q_first.eq(counters.first)]
        m.d.sync += [r_valid[CS + 1].eq(r_valid[CS]), r[CS + 1].eq(cur)]

        # -- R_{C+1}, R_{C+2}: the moves of the class's estimates, once for every lane -----------------
        # (stages of their own, ``params.schedule_stages``: the schedule stays off the quantile
        # rows' read-modify-write path). R_{C+1} looks the count's moves up into a register
        # beside the schedule; R_{C+2} is that register's copy in each lane
        # (``rtl.quantile_lane``), so the long wire out to the lanes runs from a register to
        # a register. What R_C decided moves along with the slot. With one lane, the
        # schedule sits in the quantile stage instead.
        moves = None  # no numeric attribute: no estimates to move
        if N:
            schedule = m.submodules.schedule = StepSchedule(cfg)
            m.d.comb += schedule.count.eq(q_count)
            moves = schedule.moves
            if p.schedule_stages:
                moves = registered_moves(m, cfg, moves, "moves_looked_up")
        u_learn, u_first, u_trial, u_hist_ok = q_learn, q_first, q_trial, q_hist_ok
        u_counts = q_counts
        # the learn and trial flags of the slot at each stage
        learn_at, trial_at = {CS + 1: q_learn}, {CS + 1: q_trial}
        for stage in range(CS + 2, CS + 2 + p.schedule_stages):
            v_learn, v_first, v_trial, v_hist_ok = (Signal(name=f"{n}{stage}") for n in
                                                    ("learn", "first", "trial", "hist_ok"))
            v_counts = Signal(p.counter_layout, name=f"counts{stage}")
            m.d.sync += [v_learn.eq(u_learn), v_first.eq(u_first), v_trial.eq(u_trial),
                         v_hist_ok.eq(u_hist_ok), v_counts.eq(u_counts),
                         r_valid[stage].eq(r_valid[stage - 1]), r[stage].eq(r[stage - 1])]
            u_learn, u_first, u_trial, u_hist_ok, u_counts = \
                v_learn, v_first, v_trial, v_hist_ok, v_counts
            learn_at[stage], trial_at[stage] = v_learn, v_trial

        # -- R_{C+3} (R_{C+1} without the schedule's stages): quantile rows and histograms -------------
        q_cur = r[QS]

        def sample_at(at):  # the slot at stage ``at`` is a sample
            return r_valid[at] & (r[at].op == OP_SAMPLE)

        def commit_at_stage(at):  # ... a commit slot that initialises its element
            return r_valid[at] & (r[at].op != OP_SAMPLE) & r[at].c_active

        def starts_at(at, trial_flag):  # ... the last group of a sample that starts a trial
            return trial_flag & sample_at(at) & (r[at].g == G - 1)

        q_is_commit = commit_at_stage(QS)
        q_addr_next = _element(r[QS - 1])  # the reads are issued a cycle ahead
        q_addr = _element(q_cur)
        yq = q_cur.s.label
        m.d.comb += [trial.counts.eq(u_counts.cnt), trial.n.eq(u_counts.n)]
        q_sample = sample_at(QS)
        q_learning = u_learn & q_sample  # the lanes and histograms learn this slot
        if p.schedule_stages:  # decided a stage ahead, from the slot before, into registers:
            # the trial's registers that start with it and the lanes sit far from the
            # pipeline, and the wires to them then carry no logic
            starting = Signal(name="trial_starting")
            learning, committing = Signal(name="q_learning"), Signal(name="q_committing")
            m.d.sync += [starting.eq(starts_at(QS - 1, trial_at[QS - 1])),
                         learning.eq(learn_at[QS - 1] & sample_at(QS - 1)),
                         committing.eq(commit_at_stage(QS - 1))]
            m.d.comb += trial.start.eq(starting)
            q_learning, q_is_commit = learning, committing
        else:
            m.d.comb += trial.start.eq(starts_at(QS, u_trial))
        # registered lanes hand over their rows a cycle later: so does the load
        loaded = m.d.sync if p.registered_rows else m.d.comb
        loaded += [trial.load.eq(u_trial & q_sample), trial.group.eq(q_cur.g)]
        for k in range(p.lanes if N else 0):
            lane = m.submodules[f"quantiles_lane{k}"] = QuantileLane(
                p, k, pre.quantiles[k] if pre else None, registered=p.registered_rows)
            loads(lane, L + 1 + k)
            if p.registered_rows:  # the rows are read two stages ahead and registered
                m.d.comb += [lane.address_element.eq(_element(r[QS - 3])),
                             lane.address_group.eq(r[QS - 3].g),
                             lane.read_label.eq(r[QS - 2].s.label), lane.read_x.eq(r[QS - 2].s.x),
                             lane.fetch_element.eq(q_addr_next), lane.fetch_group.eq(r[QS - 1].g),
                             lane.fetch_label.eq(r[QS - 1].s.label)]
            else:
                m.d.comb += [lane.read_element.eq(q_addr_next), lane.read_group.eq(r[QS - 1].g)]
            if not p.registered_rows:  # (registered lanes copy the values a stage ahead)
                m.d.comb += lane.x.eq(q_cur.s.x)
            m.d.comb += [lane.element.eq(q_addr), lane.group.eq(q_cur.g),
                         lane.label.eq(yq), lane.moves.eq(moves), lane.first.eq(u_first),
                         lane.learn.eq(q_learning), lane.init.eq(q_is_commit)]
            for i in lane.members:
                m.d.comb += trial.rows[i].eq(lane.snapshot if p.registered_rows else lane.updated)
        for c in range(NC):
            hist = m.submodules[f"histogram{c}"] = Histogram(p, c, pre.histograms[c] if pre else None)
            loads(hist, L + 1 + (p.lanes if N else 0) + c)
            m.d.comb += [hist.read_element.eq(q_addr_next), hist.element.eq(q_addr),
                         hist.value.eq(q_cur.s.xc[c]), hist.label.eq(yq),
                         hist.valid_row.eq(u_hist_ok), hist.learn.eq(q_learning),
                         hist.first_group.eq(q_cur.g == 0),
                         getattr(trial, f"h{c}").eq(hist.updated)]

        # -- the state registers written as a whole (last: this overrides the updates above) -------------
        with m.If(state_write):
            st = state_new
            m.d.sync += [pool.eq(st.pool), leaves.eq(st.leaves), awaiting.eq(st.awaiting),
                         commit_at.eq(st.commit_at), remaining.eq(st.remaining),
                         at_commit.eq(st.awaiting & (st.commit_at == 0)),  # entered is 0
                         pending.eq(st.remaining != 0), leaves_full.eq(st.leaves >= cfg.max_leaves),
                         t_level.eq(st.t_level), t_addr.eq(st.t_addr), t_elem.eq(st.t_elem)]
            m.d.sync += [next_pair[lv].eq(st.next_pair[lv]) for lv in range(L)]
            m.d.sync += [stats[i].eq(st.stats[i]) for i in range(len(STAT_NAMES))]
            m.d.sync += [late.eq(0) for late in bumps]  # an event of this cycle is overwritten

        # -- idle -------------------------------------------------------------------------------------------
        # (registered quantile rows are written a cycle after the last stage)
        writing_back = Signal()
        if p.registered_rows:
            m.d.sync += writing_back.eq(r_valid[QS])
        m.d.comb += self.idle.eq(~sum(r_valid).any() & ~writing_back & (ins_state == 0)
                                 & ~Cat(*bumps).any()
                                 & ~at_commit & ~restart
                                 & (outstanding == 0) & ~(awaiting & trial.done & ~trial.do_split))
        return m
