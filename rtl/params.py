"""Hardware parameters derived from a :class:`hardodt.Config`, and what the RTL refuses.

Every width and memory size of the generated design comes from here, so the
generator, the test benches and (later) the resource model agree on them.
A configuration the RTL cannot build raises :class:`ConfigError` naming the
field, the limit and why, before any HDL is produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from hardodt.config import Config, ConfigError
from reference.fixedpoint import QUALITY_FRACTION_BITS
from reference.kernels import STAT_NAMES

__all__ = ["HardwareParams", "LEAF", "INACTIVE", "NUMERIC", "CATEGORICAL", "OP_SAMPLE",
           "OP_COMMIT_OTHER", "OP_COMMIT_KEEP", "OP_RESTART", "max_pairs_per_level",
           "counter_stage", "dsp_cut", "halves", "level_stages", "registered_rows", "tree_stages",
           "trigger_latency"]

#: The widest operand the split trial multiplies in one DSP (an ECP5 MULT18X18D's); wider
#: ones are cut in halves (``HardwareParams.split_squares``,
#: ``rtl.split_trial.registered_product_terms``).
DSP_BITS = 18


def halves(bits: int) -> tuple[int, int]:
    """The widths of an operand's low and high halves, the low one the wider."""
    return (bits + 1) // 2, bits // 2


def dsp_cut(bits: int) -> list[tuple[int, int]]:
    """An operand of ``bits`` as the split trial cuts it for its DSPs, ``(width, offset)``
    pieces: whole up to :data:`DSP_BITS`, else in :func:`halves`. The resource model
    counts the products from the same cut (``hardodt.estimate``)."""
    if bits <= DSP_BITS:
        return [(bits, 0)]
    low, high = halves(bits)
    return [(low, 0), (high, low)]

# Node kinds (as in reference.kernels).
LEAF, INACTIVE, NUMERIC, CATEGORICAL = 0, 1, 2, 3
# Pipeline slot operations.
#: Slot kinds: a sample; a split's two commit slots; after a reset, the slot that makes the
#: root an empty leaf again (its node row, element 0's counters and quantile rows).
OP_SAMPLE, OP_COMMIT_OTHER, OP_COMMIT_KEEP, OP_RESTART = 0, 1, 2, 3


def _bits(n: int) -> int:
    """Bits to hold 0..n-1 (at least 1)."""
    return max(1, (n - 1).bit_length())


def registered_rows(config: Config) -> bool:
    """Whether the element counters and quantile rows go through registers: fetched
    into a register a stage ahead, updated from registers, written back a cycle later
    (``rtl.element_counters``, ``rtl.quantile_lane``), so no memory's output or input is
    on an update's path. It costs a stage and a row of registers per memory; designs
    with one quantile lane (or none) are the small ones (the iCEBreaker's fills 90 % of
    a UP5K), which keep the one-cycle read-modify-writes."""
    return config.n_numeric > 0 and (config.lanes or config.n_numeric) > 1


def level_stages(config: Config) -> int:
    """Pipeline stages a tree level takes (``rtl.tree_level``): two with registered rows
    (the slot's node read into a register, then the branch from it, so neither a
    memory's output nor the next level's read address waits on a comparison), one on
    the small designs, whose every stage is a slot register they can ill afford."""
    return 2 if registered_rows(config) else 1


def tree_stages(config: Config) -> int:
    """Pipeline stages of the tree levels: ``level_stages`` for each of the
    ``L = max_depth + 1`` levels."""
    return (config.max_depth + 1) * level_stages(config)


def counter_stage(config: Config) -> int:
    """The pipeline stage of the element counters (prediction, count, split-trial
    decision): the tree levels' stages before it, and with registered rows the two
    stages that read their row from the slot register after the last level and fetch
    it into a register (``rtl.hardodt``)."""
    return tree_stages(config) + 2 * int(registered_rows(config))


def trigger_latency(config: Config) -> int:
    """Pipeline slots from the input to the stage that starts a split trial.

    Samples that entered after a trial's sample but before the trial starts are
    already past the point where the split could be inserted, so the
    configuration's ``split_delay`` must be at least this.
    """
    return 1 + counter_stage(config) + 1


@dataclass(frozen=True)
class HardwareParams:
    config: Config

    def __post_init__(self) -> None:
        cfg = self.config
        if cfg.number != "fixed":
            raise ConfigError("number: the hardware computes in fixed point; use number = 'fixed'")
        if cfg.initial_quantiles != "first":
            raise ConfigError(f"initial_quantiles: the RTL generator implements 'first' only "
                              f"(got {cfg.initial_quantiles!r}); 'range' and 'centre' need "
                              f"per-split initial values it does not compute yet")
        if cfg.inherit_counts:
            raise ConfigError("inherit_counts: the RTL generator implements false only (a new "
                              "leaf starts with no class counts)")
        lat = trigger_latency(cfg)
        if cfg.split_delay < lat:
            raise ConfigError(f"split_delay: {cfg.split_delay} is below {lat}, the pipeline slots "
                              f"between the input and the split-trial stage at max_depth="
                              f"{cfg.max_depth}; a split decided later cannot be applied before "
                              f"samples that have already entered")

    # -- widths ------------------------------------------------------------------
    @property
    def w(self) -> int:
        return self.config.word_bits

    @property
    def cb(self) -> int:
        return self.config.count_bits

    @property
    def n_num(self) -> int:
        return self.config.n_numeric

    @property
    def n_cat(self) -> int:
        return self.config.n_categorical

    @property
    def n_cls(self) -> int:
        return self.config.n_classes

    @property
    def n_elem(self) -> int:
        return self.config.element_capacity

    @property
    def lanes(self) -> int:
        """Quantile update units; each serves ``groups`` numeric attributes in turn."""
        return self.config.lanes or max(1, self.n_num)

    @property
    def groups(self) -> int:
        """Cycles a sample spends in the quantile stage: ``ceil(numeric attributes / lanes)``."""
        return max(1, -(-self.n_num // self.lanes))

    def lane_of(self, attr: int) -> tuple[int, int]:
        """``(lane, group)`` of numeric attribute ``attr``."""
        return attr % self.lanes, attr // self.lanes

    @property
    def radix4_division(self) -> bool:
        """Whether the split trial's dividers retire two quotient bits at a time
        (``rtl.divider``, ``radix4``: three subtractions side by side instead of two one
        after the other), for the clock at a subtraction and a register more per two
        bits. It comes with the registered rows: the small designs keep the fewer logic
        cells."""
        return self.registered_rows

    @property
    def split_squares(self) -> bool:
        """Whether the split trial squares a count as three products of its halves
        (``rtl.split_trial``): a count wider than an ECP5 DSP's 18 x 18 takes several
        DSPs whose partial products yosys adds in the same cycle, the trial's slowest path;
        the halves' products fit a DSP each and are added a cycle later."""
        return len(dsp_cut(self.cb)) > 1

    @property
    def schedule_stages(self) -> int:
        """Pipeline stages the estimates' moves get before the quantile stage
        (``rtl.hardodt``): with several lanes one schedule is shared and taken off the
        read-modify-write path, in two stages: the count's moves looked up into a register
        beside the schedule, then that register copied in each lane (a register to a
        register: the long wire to the lanes, spread over the device, carries no logic).
        With one lane (or none) there is nothing to share, and its registers would cost
        more logic cells than they save (the iCEBreaker's design fills 90 % of a UP5K):
        none. It comes with the registered rows."""
        return 2 if self.registered_rows else 0

    @property
    def registered_rows(self) -> bool:
        """See :func:`registered_rows`."""
        return registered_rows(self.config)

    @property
    def level_stages(self) -> int:
        """See :func:`level_stages`."""
        return level_stages(self.config)

    @property
    def tree_stages(self) -> int:
        """See :func:`tree_stages`."""
        return tree_stages(self.config)

    @property
    def counter_stage(self) -> int:
        """See :func:`counter_stage`: ``L``, or ``2 L + 2`` with registered rows."""
        return counter_stage(self.config)

    @property
    def quantile_stage(self) -> int:
        """The pipeline stage of the quantile rows and histograms: one after the counters',
        and after the schedule's stages."""
        return self.counter_stage + 1 + self.schedule_stages

    @property
    def levels(self) -> int:
        return self.config.max_depth + 1

    @property
    def fifo_depth(self) -> int:
        """Entries of the output FIFO: a prediction for every slot in flight, and a few
        more so the input need not wait on a sink that is ready again."""
        return self.counter_stage + 4 + int(self.registered_rows)

    def retimed(self, level: int) -> bool:
        """Whether ``level`` compares one level down (``rtl.tree_level``): a level of at
        least ``retimed_rows`` rows (the configuration's; 64 by default, where a level's
        memory becomes a block RAM on an ECP5, whose output comes 5.6 ns after the clock
        at speed grade 6). Its memory's output then meets no comparison on its way to
        the next slot register. The rows grow with the level, so these are the deepest
        levels; the others compare where they read, for fewer LUTs. Only levels of one
        stage (:meth:`level_stages`): in two, the memory's output goes into a register
        before any comparison anyway."""
        return self.level_stages == 1 and self.level_rows(level) >= self.config.retimed_rows

    @property
    def retimed_levels(self) -> int:
        """How many levels compare one level down (:meth:`retimed`)."""
        return sum(self.retimed(lv) for lv in range(self.levels))

    @property
    def carried_comparison(self) -> dict:
        """The slot's fields for the comparison a deep level carries one level down (none
        without deep levels)."""
        if not self.retimed_levels:
            return {}
        return {
            "pend": 1,  # the node one level up was internal: compare p_x with p_thr
            "p_x": signed(self.w),  # the sample's value of its attribute (categorical: zero-extended)
            "p_thr": signed(self.w),
            "p_cat": 1,  # ... a categorical node: equal to p_thr's low bits goes left
        }

    def level_rows(self, level: int) -> int:
        """Rows (sibling pairs) of the node memory of ``level``; the root's row holds one node."""
        if level == 0:
            return 1
        return max(1, min(2 ** (level - 1), max_pairs_per_level(self.config.max_leaves)))

    @property
    def pair_bits(self) -> int:
        return _bits(max(self.level_rows(lv) for lv in range(self.levels)))

    @property
    def attr_bits(self) -> int:
        return _bits(max(self.n_num, self.n_cat, 1))

    @property
    def value_bits(self) -> int:
        return _bits(max(self.config.categorical_values, default=2))

    @property
    def quality_bits(self) -> int:
        """Quality terms: below ``2^(count_bits + 8)`` each, two of them summed."""
        return self.cb + QUALITY_FRACTION_BITS + 2

    # -- layouts -------------------------------------------------------------------
    @cached_property
    def sample_layout(self) -> data.StructLayout:
        """One input sample: encoded numeric words, categorical values, label, learn flag."""
        return data.StructLayout({
            "x": data.ArrayLayout(signed(self.w), self.n_num),
            "xc": data.ArrayLayout(unsigned(self.value_bits), self.n_cat),
            "label": unsigned(_bits(self.n_cls)),
            "learn": unsigned(1),
        })

    @cached_property
    def prediction_layout(self) -> data.StructLayout:
        return data.StructLayout({"label": unsigned(_bits(self.n_cls))})

    @cached_property
    def node_layout(self) -> data.StructLayout:
        """A node word: kind, and per kind: attribute + threshold/value + child pair, or
        element + class (the class an inactive or still empty leaf predicts)."""
        return data.StructLayout({
            "kind": unsigned(2),
            "attr": unsigned(self.attr_bits),
            "thr": signed(self.w),  # numeric threshold; a categorical value in its low bits
            "child": unsigned(self.pair_bits),
            "elem": unsigned(_bits(self.n_elem)),
            "cls": unsigned(_bits(self.n_cls)),
        })

    @cached_property
    def pair_layout(self) -> data.ArrayLayout:
        """A tree level's memory row: the two children of one split, side by side (a sample's
        address picks one by its low bit; a split writes both at once)."""
        return data.ArrayLayout(self.node_layout, 2)

    @cached_property
    def counter_layout(self) -> data.StructLayout:
        """The per-element counter row: class counts, n, samples since the last trial,
        classes seen (the "first" rule) and the histogram status bit."""
        return data.StructLayout({
            "cnt": data.ArrayLayout(unsigned(self.cb), self.n_cls),
            "n": unsigned(self.cb),
            "since": unsigned(self.cb),
            "seen": unsigned(self.n_cls),
            "hist_ok": unsigned(1),
        })

    @cached_property
    def quantile_change_layout(self) -> data.StructLayout:
        """What one write of a registered quantile row changes (``rtl.quantile_lane``): min,
        max and one class's ``Q`` estimates; each of the row's classes is a part of the
        memory written under its own enable."""
        return data.StructLayout({
            "lo": signed(self.w), "hi": signed(self.w),
            "q": data.ArrayLayout(signed(self.w), self.config.quantiles),
        })

    @cached_property
    def quantile_row_layout(self) -> data.StructLayout:
        """Per element and numeric attribute: min, max and the ``Q`` estimates of every class."""
        return data.StructLayout({
            "lo": signed(self.w),
            "hi": signed(self.w),
            "q": data.ArrayLayout(data.ArrayLayout(signed(self.w), self.config.quantiles),
                                  self.n_cls),
        })

    @property
    def seq_bits(self) -> int:
        """Bits of a sample's index in the pipeline. The index only times a split's commit
        (``split_delay + 1`` samples after its trial's sample, which is at most the pipeline's
        depth behind the input), so it is kept modulo a power of two above that distance."""
        return min(32, _bits(self.config.split_delay + 2 * (self.tree_stages + 4)) + 1)

    @cached_property
    def slot_layout(self) -> data.FlexibleLayout:
        """What travels down the pipeline: a sample (and where it has got to), or a
        commit slot (a split's node writes and an element to initialise).

        A slot is one or the other, so the two share their bits (a union after ``op``
        and ``g``): every level's slot register is as wide as the wider of the two, not
        their sum. A commit's element sits on a sample's leaf element, so the stages
        after the levels read the element a slot works on without a multiplexer."""
        addr = self.pair_bits + 1
        ebits = _bits(self.n_elem)
        common = {"op": 2,
                  "g": range(max(2, self.groups))}  # quantile group (a sample takes one slot per group)
        sample = {
            "leaf_elem": ebits,  # first: shared with c_elem
            "seq": self.seq_bits,  # the sample's index in the stream, modulo 2^seq_bits
            "s": self.sample_layout,
            # node address at the level being read: row = addr >> 1, lane = addr & 1 (with
            # ``pend``, the lane is the comparison the slot carries: rtl.tree_level)
            "addr": addr,
            **self.carried_comparison,
            "found": 1,
            "leaf_kind": 2,
            "leaf_cls": _bits(self.n_cls),
            "leaf_level": range(self.levels),
            "leaf_addr": addr,
        }
        commit = {
            "c_elem": ebits,  # the element this slot initialises (if c_active)
            "c_data": self.pair_layout,  # the one row each commit slot writes (the split
            "c_level": range(self.levels),  # leaf's new internal node, or its two children),
            "c_row": self.pair_bits,
            "c_mask": 2,  # which of the row's two nodes
            "c_active": 1,
            "c_n": self.cb,
        }
        fields = {}

        def place(part: dict, at: int) -> int:  # one after another from ``at``; returns the end
            for name, shape in part.items():
                fields[name] = data.Field(shape, at)
                at += fields[name].width
            return at

        base = place(common, 0)
        return data.FlexibleLayout(max(place(sample, base), place(commit, base)), fields)

    def histogram_row_layout(self, c: int) -> data.ArrayLayout:
        """Per element and categorical attribute ``c``: a class count per value."""
        return data.ArrayLayout(data.ArrayLayout(unsigned(self.cb), self.n_cls),
                                self.config.categorical_values[c])

    @cached_property
    def state_layout(self) -> data.StructLayout:
        """The registers that say how far the tree has grown, beside its memories: elements
        handed out, leaves, node pairs used per level, the statistics counters, and a split
        trial's outcome still waiting for its sample (``commit_at`` and ``remaining`` count
        samples from now). A restart writes the empty tree's, a load a learned tree's."""
        cfg, cb, C = self.config, self.cb, self.n_cls
        return data.StructLayout({
            "pool": _bits(self.n_elem + 1),
            "leaves": _bits(cfg.max_leaves + 2),
            "next_pair": data.ArrayLayout(self.pair_bits, self.levels),
            "stats": data.ArrayLayout(32, len(STAT_NAMES)),
            "awaiting": 1,  # a trial's outcome (below) is not inserted yet
            "commit_at": self.seq_bits,
            "remaining": _bits(cfg.split_delay + 1),
            "t_level": _bits(self.levels),
            "t_addr": self.pair_bits + 1,
            "t_elem": _bits(self.n_elem),
            "do_split": 1,
            "attr": _bits(max(2, self.n_num + self.n_cat)),
            "value": signed(self.w),
            "left": data.ArrayLayout(unsigned(cb), C),
            "counts": data.ArrayLayout(unsigned(cb), C),
        })

    def load_targets(self) -> list[dict]:
        """What a run-time load writes, in target-number order: every memory (rows as
        :meth:`memories`), then the state registers as one row (``state_layout``)."""
        return [*self.memories(), {"name": "state", "depth": 1, "width": self.state_layout.size,
                                   "granules": 1, "bits": self.state_layout.size}]

    # -- memories (for reports) -------------------------------------------------------
    def memories(self) -> list[dict]:
        """Every memory of the design: name, depth, width in bits, and write granules
        (a node row's two nodes are written separately; a registered quantile row's min
        and max, and each class's estimates, with ``parts`` their widths and ``written``
        the distinct bits a write carries: one class's estimates, min and max)."""
        out = []
        for lv in range(self.levels):
            out.append({"name": f"node_level{lv}", "depth": self.level_rows(lv),
                        "width": self.pair_layout.size, "granules": 2})
        # (registered counters forward every write themselves: no transparency register;
        # they store each row's flags beside it, rtl.element_counters.kept_layout)
        out.append({"name": "element_counters", "depth": self.n_elem,
                    "width": self.counter_layout.size
                    + ((2 + self.n_cls) if self.registered_rows else 0),
                    **({"written": 0} if self.registered_rows else {})})
        if self.n_num:
            # registered rows (rtl.quantile_lane) write min and max, and one class's
            # estimates, each under its own enable
            parts = [2 * self.w] + [self.config.quantiles * self.w] * self.n_cls
            for lane in range(self.lanes):
                out.append({"name": f"quantiles_lane{lane}", "depth": self.n_elem * self.groups,
                            "width": self.quantile_row_layout.size,
                            **({"granules": len(parts), "parts": parts,
                                "written": self.quantile_change_layout.size}
                               if self.registered_rows else {})})
        for c in range(self.n_cat):
            out.append({"name": f"histogram_{self.config.categorical_names[c]}",
                        "depth": self.n_elem, "width": self.histogram_row_layout(c).size})
        for m in out:
            m.setdefault("granules", 1)
            m["bits"] = m["depth"] * m["width"]
        return out


def max_pairs_per_level(max_leaves: int) -> int:
    """The most sibling pairs any one tree level can hold with at most ``max_leaves`` leaves.

    Each split adds one leaf, so a tree has at most ``max_leaves - 1`` splits, and each
    puts one pair on the level below its leaf. ``S`` pairs on one level need ``S`` splits
    on the level above, which need at least ``ceil(S / 2)`` pairs there, and so on up to
    the root's one split: ``S + ceil(S / 2) + ... + 1`` splits in all, at least ``2S - 1``,
    so ``S <= max_leaves // 2``. The largest ``S`` whose chain fits is the bound (512 for
    1,024 leaves, where ``max_leaves - 1`` rows per level would have doubled the deep
    levels' memories)."""
    def splits_needed(pairs: int) -> int:
        total = pairs
        while pairs > 1:
            pairs = (pairs + 1) // 2
            total += pairs
        return total

    pairs = max_leaves // 2
    while pairs and splits_needed(pairs) > max_leaves - 1:
        pairs -= 1
    return pairs
