"""One quantile lane: the update unit and the memory of the numeric attributes it serves.

Memory-based sharing: one :class:`~rtl.quantile.QuantileStep` serves every
element and class of its attributes; a memory row holds one element's min, max
and the ``Q`` estimates of every class of one attribute, at address
``element * groups + group`` (a lane serves attributes ``lane``,
``lane + lanes``, ... in successive groups).

With ``registered`` (a learner with registered rows, ``params.registered_rows``)
the row is read two stages ahead and registered, so the memory's output is off
the update's loop: the loop runs from a register through the class's estimates,
the compare and add, back to a register. The write of the slot just ahead is
then too late for that read and is forwarded from a register when it was to
the same row (only what it changed: the class's estimates, min and max); the
write two ahead is seen by the transparent read port. Without it the
read-modify-write takes one cycle (the read port transparent for the write
port, so the next slot's read sees this slot's write): fewer registers, for
the small iCE40 designs.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.compare import greater, less
from rtl.copies import registered_copies
from rtl.params import HardwareParams, _bits
from rtl.quantile import QuantileStep, estimate_move_columns, move_layout, registered_moves

__all__ = ["QuantileLane", "registered_row_cost"]


def registered_row_cost(params: HardwareParams) -> dict[str, int]:
    """The registered rows' flip-flops and multiplexer LUTs over all lanes (none without
    ``params.registered_rows``): per lane the row fetched, the write back (the words it
    changes: min, max and ``Q`` estimates; its address, the classes it changes), the
    forwarding's flags (two, and copies of two: one per word and one per estimate they
    select; the next slot's same row and class, compared a cycle ahead), the slot's
    class in a copy per estimate of each class and one for the write back's flags, the class's
    estimates fetched apart, the row handed to the split trial, the attribute's
    value in ``Q + 2`` copies and the moves' bits that change with the count, each
    estimate's its own (``rtl.quantile.estimate_move_columns``), and the read's address
    and the values of the attributes a lane serves, registered a stage ahead; a
    multiplexer per row and estimate bit more than the one-cycle lane (the fetched row's
    and the forward's instead of the written row's).
    The resource model counts them as they are, outside its fitted weights."""
    if not params.registered_rows:  # (which implies numeric attributes)
        return {"ff": 0, "lut": 0}
    row = params.quantile_row_layout.size
    write_back = params.quantile_change_layout.size + 1 \
        + _bits(params.n_elem * params.groups) + params.n_cls
    estimates = params.config.quantiles * params.w  # the class's, fetched apart
    x_copies = (params.config.quantiles + 2) * params.w  # the value, an estimate's own
    # forwarding's, with copies, and the fetch's same row and class compared a cycle ahead
    flags = 2 + (2 + params.n_cls) + params.config.quantiles + 2
    labels = (params.n_cls * params.config.quantiles + 1) * _bits(params.n_cls)  # copies
    moves = sum(len(c) for c in estimate_move_columns(params.config))
    # the read's address and the served attributes' values, registered a stage ahead
    ahead = params.lanes * _bits(params.n_elem * params.groups) + params.n_num * params.w
    return {"ff": params.lanes * (2 * row + write_back + flags + estimates + x_copies + moves
                                  + labels)
            + ahead, "lut": params.lanes * (row + estimates)}


def row_address(element, group, groups: int):
    """``element * groups + group``, the row of an element's group in a lane's memory,
    with the constant product as shifted copies of ``element`` added (one per set bit of
    ``groups``): yosys gave a product by a constant that is not a power of two a DSP of
    its own (three MULT18X18Ds or DSP48E1s with three groups a lane, n9-l3-c4), where
    it is an adder or two."""
    terms = [element << i for i in range(groups.bit_length()) if groups >> i & 1]
    return sum(terms[1:], terms[0]) + group


class QuantileLane(wiring.Component):
    """Members
    -------
    read_element, read_group : In (without ``registered``)
        The row the *next* slot needs (its read is issued a cycle ahead).
    address_element, address_group : In (with ``registered``)
        The row of the slot three stages ahead: the lane registers its address (a copy:
        ``rtl.copies``), and the read of that slot, two stages ahead a cycle later, is
        issued from the register, so the wire from the pipeline's slot register out to
        the lane carries no logic and the memory's address no long wire.
    fetch_element, fetch_group : In (with ``registered``)
        The row of the next slot, being fetched: the same row as this slot's write
        means the write is forwarded to it. A slot's fetch follows its read by a cycle,
        and its update its fetch (the pipeline moves every cycle).
    read_label, fetch_label : In (with ``registered``)
        The classes of the slots being read (two stages ahead) and fetched (the next):
        the class's estimates are picked out of the row as it is fetched, off the
        update's loop.
    read_x : In (with ``registered``)
        The numeric values of the slot being read: the lane registers the values of
        the attributes it serves, then, a stage later, its attribute's value in
        ``Q + 2`` copies (``rtl.copies``), one for each estimate's comparison and
        adders and one each for the minimum and the maximum, in place of ``x``: two
        registers on the way from the pipeline's slot register, which the lanes,
        spread over the device, are far from.
    element, group, x, label, moves, first : In
        The slot in this stage: its sample's numeric values (``x``: without
        ``registered`` only), class, the moves of
        its class's estimates (``rtl.quantile.StepSchedule``, shared by the lanes;
        with ``registered``, the next slot's, which the lane registers itself: a
        register shared by the lanes reached them, spread over the device, through
        one long net) and the "first" rule's flag.
    learn : In(1)
        Write the updated row back.
    init : In(1)
        Write an empty row (min above max) instead: a new leaf's element.
    load_en, load_row, load_data : In
        Write ``load_data`` into row ``load_row`` (a run-time load; the pipeline is idle).
    updated : Out(quantile_row_layout)
        The row after this sample (the split trial's snapshot takes it; with
        ``registered``, from ``snapshot``).
    snapshot : Out(quantile_row_layout) (with ``registered``)
        ``updated`` a cycle later, from a register: the split trial takes its
        snapshot from here, so the long wire to it starts at a register.
    """

    def __init__(self, params: HardwareParams, lane: int, rows: list | None = None,
                 registered: bool = False) -> None:
        self.p = params
        self.registered = registered
        self.members = [i for i in range(params.n_num) if params.lane_of(i)[0] == lane]
        ebits, gbits = _bits(params.n_elem), _bits(max(2, params.groups))
        super().__init__({
            **({"address_element": In(ebits), "address_group": In(gbits),
                "fetch_element": In(ebits), "fetch_group": In(gbits),
                "read_label": In(_bits(params.n_cls)), "fetch_label": In(_bits(params.n_cls)),
                "read_x": In(data.ArrayLayout(signed(params.w), params.n_num))}
               if registered else {"read_element": In(ebits), "read_group": In(gbits)}),
            "element": In(ebits), "group": In(gbits),
            "x": In(data.ArrayLayout(signed(params.w), params.n_num)),
            "label": In(_bits(params.n_cls)), "moves": In(move_layout(params.config)),
            "first": In(1),
            "learn": In(1), "init": In(1),
            "load_en": In(1), "load_row": In(_bits(params.n_elem * params.groups)),
            "load_data": In(params.quantile_row_layout),
            "updated": Out(params.quantile_row_layout),
            **({"snapshot": Out(params.quantile_row_layout)} if registered else {}),
        })
        fx = params.config.fixed
        self.empty_row = params.quantile_row_layout.const({"lo": fx.word_max, "hi": fx.word_min})
        # The root's element starts empty too (or rows: a preload).
        init = [params.quantile_row_layout.const(r) for r in rows] if rows is not None \
            else [self.empty_row] * len(self.members)
        if registered:  # plain words: a write enable per word (Amaranth's granularity)
            self.memory = Memory(shape=params.quantile_row_layout.size,
                                 depth=params.n_elem * params.groups,
                                 init=[r.as_value().value for r in init])
        else:
            self.memory = Memory(shape=params.quantile_row_layout,
                                 depth=params.n_elem * params.groups, init=init)

    def elaborate(self, platform) -> Module:
        m = Module()
        p, G = self.p, self.p.groups
        m.submodules.memory = self.memory
        row = Signal(p.quantile_row_layout)  # this slot's row, before its update
        present = Signal()  # the last group may leave the lane idle
        m.d.comb += present.eq(self.group < len(self.members))
        step = m.submodules.step = QuantileStep(p.config, scheduled=True,
                                                x_copies=self.registered)
        Q = p.config.quantiles
        def member_value(values, group, name):
            """The value of the attribute this lane serves in ``group`` (``values``: one
            per group)."""
            x = Signal(signed(p.w), name=name)
            with m.Switch(group):
                for g, value in enumerate(values):
                    with m.Case(g):
                        m.d.comb += x.eq(value)
            return x

        if self.registered:  # the values registered here, then once per estimate, min and max
            served = [Signal(signed(p.w), name=f"x_read{g}") for g in range(len(self.members))]
            m.d.sync += [x.eq(self.read_x[i]) for x, i in zip(served, self.members, strict=True)]
            xs = registered_copies(m, member_value(served, self.fetch_group, "x_next"),
                                   Q + 2, "x")
            m.d.comb += [step.x[k].eq(xs[k]) for k in range(Q)]
            x_lo, x_hi = xs[Q], xs[Q + 1]
        else:
            x = member_value([self.x[i] for i in self.members], self.group, "x")
            m.d.comb += step.x.eq(x)
            x_lo = x_hi = x
        moves = self.moves
        if self.registered:  # the lane's own registers of the bits that change, one per
            # estimate (copies: synthesis keeps them apart from the other lanes' and the
            # schedule's)
            moves = registered_moves(m, p.config, self.moves, "moves", per_estimate=True)
        m.d.comb += [step.first.eq(self.first), step.moves.eq(moves)]
        upd = self.updated
        m.d.comb += [upd.eq(row), upd.lo.eq(Mux(less(x_lo, row.lo), x_lo, row.lo)),
                     upd.hi.eq(Mux(greater(x_hi, row.hi), x_hi, row.hi))]
        # The slot's class picks the estimates it updates (in the row and in the write
        # back's class flags); registered, the lane holds it in copies of its own, one per
        # estimate of each class and one for the flags, loaded from the next slot's class
        # (a decode of one register reached every class's bits, into the snapshot: 8.6 ns
        # of wire in a lane alone; a copy per class, 12.7 ns)
        n_labels = p.n_cls * Q + 1
        labels = registered_copies(m, self.fetch_label, n_labels, "label") \
            if self.registered else [self.label] * n_labels
        for j in range(p.n_cls):
            for k in range(Q):
                with m.If(labels[j * Q + k] == j):
                    m.d.comb += upd.q[j][k].eq(step.q_next[k])
        writes = Signal()  # this slot writes its row
        m.d.comb += writes.eq(present & (self.learn | self.init) & ~self.load_en)
        if self.registered:
            self._registered(m, row, writes, step, labels[-1])
        else:
            m.d.comb += step.q.eq(Array(row.q[j] for j in range(p.n_cls))[self.label])
            wr = self.memory.write_port()
            rd = self.memory.read_port(transparent_for=(wr,))
            m.d.comb += [rd.addr.eq(row_address(self.read_element, self.read_group, G)),
                         row.eq(rd.data),
                         wr.addr.eq(row_address(self.element, self.group, G)), wr.en.eq(writes),
                         wr.data.eq(Mux(self.init, self.empty_row.as_value(), upd.as_value()))]
            with m.If(self.load_en):
                m.d.comb += [wr.addr.eq(self.load_row), wr.en.eq(1), wr.data.eq(self.load_data)]
        return m

    def _registered(self, m: Module, row, writes, step, label) -> None:
        """The row fetched into a register, the write a cycle later from registers (only
        the words it changes: the memory has a write enable per word), and the two
        writes the fetch misses forwarded: the one being written back into the fetched
        row, the one just computed into this slot's row. The class's estimates are
        fetched apart too, so the update's loop (estimates, step, write back,
        forward) has no class multiplexer on it. ``label``: the slot's class, a copy of
        the lane's own for the write back's class flags."""
        p, G, Q, w = self.p, self.p.groups, self.p.config.quantiles, self.p.w
        new_q = step.q_next
        words = p.quantile_row_layout.size // w  # min, max, then class by class
        wr = self.memory.write_port(granularity=w)
        rd = self.memory.read_port(transparent_for=(wr,))
        # (a copy: every lane registers the same address, and synthesis would make one
        # register of them, far from most)
        address = row_address(self.address_element, self.address_group, G)[:len(rd.addr)]
        m.d.comb += rd.addr.eq(registered_copies(m, address, 1, "read_addr")[0])
        fetch_addr = row_address(self.fetch_element, self.fetch_group, G)
        here = row_address(self.element, self.group, G)  # this slot's row
        # What this slot writes (an emptied row's words for an init), one cycle later.
        change = Signal(p.quantile_change_layout)
        wb_write = Signal()  # the write back: a row, its address, the classes it changes
        wb_addr = Signal.like(wr.addr)
        wb_cls = Signal(p.n_cls)
        empty = self.empty_row
        m.d.sync += self.snapshot.eq(self.updated)
        m.d.sync += [change.lo.eq(Mux(self.init, empty.lo, self.updated.lo)),
                     change.hi.eq(Mux(self.init, empty.hi, self.updated.hi)),
                     change.q.eq(Mux(self.init, 0, new_q.as_value())),
                     wb_write.eq(writes), wb_addr.eq(here)]
        m.d.sync += [wb_cls[j].eq(self.init | (label == j)) for j in range(p.n_cls)]
        en = [wb_write, wb_write] + [wb_write & wb_cls[j] for j in range(p.n_cls) for _ in range(Q)]
        assert len(en) == words
        written = Signal(p.quantile_row_layout)
        m.d.comb += [written.lo.eq(change.lo), written.hi.eq(change.hi),
                     *[written.q[j].eq(change.q) for j in range(p.n_cls)],
                     wr.addr.eq(wb_addr), wr.en.eq(Cat(*en)), wr.data.eq(written.as_value())]
        with m.If(self.load_en):
            m.d.comb += [wr.addr.eq(self.load_row), wr.en.eq(Cat([1] * words)),
                         wr.data.eq(self.load_data.as_value())]

        def forwarded(target, base, hit):
            """``target`` is ``base`` with the write back's words where ``hit``: min and
            max, and the estimates of the classes it changes. ``hit``: a flag each for the
            minimum, the maximum and every class (one flag, or its copies)."""
            return [target.lo.eq(Mux(hit[0], change.lo, base.lo)),
                    target.hi.eq(Mux(hit[1], change.hi, base.hi)),
                    *[target.q[j].eq(Mux(hit[2 + j] & wb_cls[j], change.q.as_value(),
                                         base.q[j].as_value())) for j in range(p.n_cls)]]

        # The fetched row, with the write being written back as the memory is read. Whether
        # it is that row is known a cycle ahead (this slot's row against the one being
        # read): the flag comes from a register, not a comparison, to the row's width of
        # multiplexers.
        to_read = writes & (here == rd.addr)  # this write is to the row being read
        # ... to the row being fetched: this slot was fetched a cycle ago, as the slot now
        # fetched was read, so whether they share a row (and a class) is compared then,
        # into a register, and no comparison follows the slot's registers to the copies
        same_row, same_class = Signal(), Signal()
        m.d.sync += [same_row.eq(fetch_addr == rd.addr),
                     same_class.eq(self.fetch_label == self.read_label)]
        to_fetched = writes & same_row
        back = Signal()
        m.d.sync += back.eq(to_read)
        fetched = Signal(p.quantile_row_layout)
        stored = p.quantile_row_layout(rd.data)
        m.d.sync += forwarded(fetched, stored, [back] * (2 + p.n_cls))
        # This slot's row, with the write computed just before it (now in the write back):
        # the flag in a copy per word it selects (min, max, each class's estimates).
        hit = registered_copies(m, to_fetched, 2 + p.n_cls, "hit")
        m.d.comb += forwarded(row, fetched, hit)
        # The class's estimates alone, the same way: picked by the fetching slot's class,
        # the forward flags registered with the class compared a cycle ahead (the update's
        # flag in a copy per estimate: it selects every bit the step starts from).
        back_q = Signal()  # ... and changes that slot's class
        m.d.sync += back_q.eq(to_read & (self.init | (self.label == self.read_label)))
        hit_q = registered_copies(m, to_fetched & (self.init | same_class), Q, "hit_q")
        fetched_q = Signal.like(step.q)
        m.d.sync += fetched_q.eq(Mux(back_q, change.q.as_value(),
                                     Array(stored.q[j] for j in range(p.n_cls))[self.fetch_label]
                                     .as_value()))
        m.d.comb += [step.q[k].eq(Mux(hit_q[k], change.q[k], fetched_q[k])) for k in range(Q)]
