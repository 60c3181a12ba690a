"""The quantile update of one attribute: ``Q`` compare-and-adds side by side.

This is the arithmetic of ``reference.kernels._learn_leaf`` for one numeric
attribute and the sample's class, in fixed point, as combinational logic: the
read-modify-write pipeline around it (issue 3) reads ``q`` from the quantile
memory and writes ``q_next`` back. It comes in two parts: :class:`StepSchedule`
turns the class's count into each estimate's moves (the decreasing schedule's
shifted constants), :class:`QuantileStep` compares, adds and saturates. The
moves depend on the sample only, not on the attribute, so a learner with more
than one lane computes them once, a stage ahead, for all of them
(``QuantileStep(config, scheduled=True)``): a shifter per lane less, and the
schedule off the read-modify-write path.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hardodt.config import Config, ConfigError
from rtl.compare import greater
from rtl.copies import registered_copies

__all__ = ["QuantileStep", "StepSchedule", "estimate_move_columns", "move_layout",
           "move_columns", "move_table", "registered_moves"]


def move_layout(config: Config) -> data.ArrayLayout:
    """Each quantile's ``up`` and ``down`` steps (at most ``one``, ``2^fraction_bits``)."""
    w = config.word_bits
    return data.ArrayLayout(data.StructLayout({"up": w + 1, "down": w + 1}), config.quantiles)


def move_table(config: Config, k: int) -> tuple[list[int], list[int]]:
    """Estimate ``k``'s up and down moves for each ``s = floor(log2 count)`` (decreasing
    schedule), or the constant ones (a list of one)."""
    fx = config.fixed
    if config.step_schedule != "decreasing":
        return [int(fx.step_up[k])], [int(fx.step_down[k])]
    up = [max(int(fx.alpha[k]) >> s, int(fx.step_up[k])) for s in range(config.count_bits)]
    down = [max(int(fx.one - fx.alpha[k]) >> s, int(fx.step_down[k]))
            for s in range(config.count_bits)]
    return up, down


def move_columns(config: Config) -> tuple[list[int], list[int | None], int]:
    """The moves as a register needs them: over every count, many of ``move_layout``'s
    bits never change and many are equal to one another (each is a column of the
    schedule's table). Returns the bits to register (one per distinct column that
    changes), for each bit of the layout the index of its register among those (None:
    constant), and the constants' value. A constant in a register kept apart
    (``rtl.copies``) would stay a flip-flop and keep its adders whole."""
    layout = move_layout(config)
    elem = layout.elem_shape
    vectors = None
    for k in range(config.quantiles):
        up, down = move_table(config, k)
        at = k * elem.size
        words = [(u << (at + elem["up"].offset)) | (d << (at + elem["down"].offset))
                 for u, d in zip(up, down, strict=True)]
        vectors = words if vectors is None else [v | x for v, x in zip(vectors, words, strict=True)]
    kept, source, constant, first = [], [], 0, {}
    for i in range(layout.size):
        column = tuple((v >> i) & 1 for v in vectors)
        if len(set(column)) == 1:
            source.append(None)
            constant |= column[0] << i
        else:
            if column not in first:
                first[column] = len(kept)
                kept.append(i)
            source.append(first[column])
    return kept, source, constant


def estimate_move_columns(config: Config) -> list[list[int]]:
    """For each estimate, the registers of :func:`move_columns` its moves read (the
    columns of its own that change): what a register per estimate holds."""
    _kept, source, _constant = move_columns(config)
    size = move_layout(config).elem_shape.size
    return [sorted({j for j in source[k * size:(k + 1) * size] if j is not None})
            for k in range(config.quantiles)]


def registered_moves(m: Module, config: Config, moves, name: str,
                     per_estimate: bool = False) -> data.View:
    """``moves`` a cycle later, from a register of only the bits that change with the
    count (:func:`move_columns`); the constant bits are wired in after it. With
    ``per_estimate`` (a lane's own) each estimate's moves come from a register of their
    own (the columns they read, :func:`estimate_move_columns`), copies synthesis keeps
    apart (``rtl.copies``): a column shared by several estimates' adders reached them
    all from one flip-flop, far from most (4.7 ns of wire in a lane's update loop)."""
    kept, source, constant = move_columns(config)
    bits = Value.cast(moves)
    out = Signal(move_layout(config), name=f"{name}_held")
    size = move_layout(config).elem_shape.size
    groups = estimate_move_columns(config) if per_estimate else [list(range(len(kept)))]
    for k, columns in enumerate(groups):
        held = None
        if columns:
            value = Cat(*(bits[kept[j]] for j in columns))
            reg_name = f"{name}{k}" if per_estimate else name
            if per_estimate:
                held = registered_copies(m, value, 1, reg_name)[0]
            else:
                held = Signal(len(columns), name=reg_name)
                m.d.sync += held.eq(value)
        at = {j: n for n, j in enumerate(columns)}
        span = range(k * size, (k + 1) * size) if per_estimate else range(len(source))
        m.d.comb += [out.as_value()[i].eq(held[at[source[i]]] if source[i] is not None
                                          else (constant >> i) & 1) for i in span]
    return out


def _fixed_only(obj, config: Config) -> None:
    if config.number != "fixed":
        obj._MustUse__silence = True  # refused, so never elaborated: no warning
        raise ConfigError("number: the hardware needs number = 'fixed'")


class StepSchedule(wiring.Component):
    """Each estimate's moves for a class count: ``max(lambda, 2^-s) * alpha_k`` up and
    ``max(lambda, 2^-s) * (1 - alpha_k)`` down (``s = floor(log2 count)``; without the
    decreasing schedule, ``lambda`` alone).

    Members
    -------
    count : In(count_bits)
        The class's sample count at the leaf, this sample included.
    moves : Out(move_layout(config))
    """

    def __init__(self, config: Config) -> None:
        _fixed_only(self, config)
        self.config = config
        super().__init__({"count": In(config.count_bits), "moves": Out(move_layout(config))})

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, fx = self.config, self.config.fixed
        w = cfg.word_bits
        decreasing = cfg.step_schedule == "decreasing"
        # s = floor(log2 count): the position of the highest set bit.
        shift = Signal(range(cfg.count_bits), name="shift")
        for bit in range(cfg.count_bits):
            with m.If(self.count[bit]):
                m.d.comb += shift.eq(bit)
        for k in range(cfg.quantiles):
            mv = self.moves[k]
            if decreasing:
                # Each move is a function of the shift alone: a table of count_bits
                # constants, looked up (a few LUTs deep), rather than a shifter and a
                # comparison with the floor built in logic.
                up, down = move_table(cfg, k)
                m.d.comb += [mv.up.eq(Array(Const(v, w + 1) for v in up)[shift]),
                             mv.down.eq(Array(Const(v, w + 1) for v in down)[shift])]
            else:
                m.d.comb += [mv.up.eq(fx.step_up[k]), mv.down.eq(fx.step_down[k])]
        return m


class QuantileStep(wiring.Component):
    """Next value of the ``Q`` quantile estimates of one attribute and one class.

    Parameters
    ----------
    config:
        A fixed-point :class:`hardodt.Config`; its quantiles, word width, step
        constants and step schedule fix the logic.
    scheduled:
        Take the moves from outside (``moves``, a :class:`StepSchedule`'s, shared)
        instead of computing them from ``count``.
    x_copies:
        Take the value once per estimate (``x`` is an array: ``rtl.copies``' registers,
        each placed beside its own estimate's comparison and adders).

    Members
    -------
    x : In(signed(word_bits)), or In(ArrayLayout(signed(word_bits), quantiles))
        The sample's encoded attribute value (with ``x_copies``, a copy per estimate).
    first : In(1)
        The class's first sample at this leaf under the ``first`` initial-quantile
        rule: every estimate takes ``x``.
    count : In(count_bits)
        The class's sample count at the leaf, this sample included (the
        decreasing schedule's step depends on it). Without ``scheduled`` only.
    moves : In(move_layout(config))
        The moves for that count. With ``scheduled`` only.
    q : In(ArrayLayout(signed(word_bits), quantiles))
        The current estimates.
    q_next : Out(ArrayLayout(signed(word_bits), quantiles))
        The estimates after this sample: up when ``x > q_k``, else down, saturated
        to the word.
    """

    def __init__(self, config: Config, scheduled: bool = False, x_copies: bool = False) -> None:
        _fixed_only(self, config)
        self.config = config
        self.scheduled = scheduled
        self.x_copies = x_copies
        w, q = config.word_bits, config.quantiles
        source = {"moves": In(move_layout(config))} if scheduled else \
            {"count": In(config.count_bits)}
        super().__init__({
            "x": In(data.ArrayLayout(signed(w), q) if x_copies else signed(w)),
            "first": In(1),
            **source,
            "q": In(data.ArrayLayout(signed(w), q)),
            "q_next": Out(data.ArrayLayout(signed(w), q)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, fx = self.config, self.config.fixed
        if self.scheduled:
            moves = self.moves
        else:
            schedule = m.submodules.schedule = StepSchedule(cfg)
            m.d.comb += schedule.count.eq(self.count)
            moves = schedule.moves
        w = cfg.word_bits
        for k in range(cfg.quantiles):
            mv, cur = moves[k], self.q[k]
            x = self.x[k] if self.x_copies else self.x
            # Saturation from the sums' own top bits: a move is at most one (2^fraction_bits,
            # at most 2^(w-2)), so each sum fits w + 1 bits and has left the word exactly when
            # its two top bits differ; no comparator beside each add.
            up = Signal(signed(w + 1), name=f"up_sum{k}")
            down = Signal(signed(w + 1), name=f"down_sum{k}")
            m.d.comb += [up.eq(cur + mv.up), down.eq(cur - mv.down)]
            with m.If(self.first):
                m.d.comb += self.q_next[k].eq(x)
            with m.Elif(greater(x, cur)):  # (a sum bit: rtl.compare)
                m.d.comb += self.q_next[k].eq(Mux(up[w] ^ up[w - 1], fx.word_max, up[:w]))
            with m.Else():
                m.d.comb += self.q_next[k].eq(Mux(down[w] ^ down[w - 1], fx.word_min, down[:w]))
        return m
