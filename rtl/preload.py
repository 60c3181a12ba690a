"""A tree learned in software as the hardware's initial state (the paper's pre-trained model).

:func:`preload_image` turns a golden model (``QuantileHoeffdingTree``, e.g. loaded
from its JSON) into what the generated design starts with: the rows of every
memory (node rows per level, element counters, quantile rows per lane,
histograms) and the initial values of the registers that say how far the tree
has grown (elements handed out, leaves, node pairs used per level, the
statistics counters) and of a split trial still pending, its outcome waiting
for its sample. ``HardODT(config, preload=image)`` writes them into the
Verilog as memory and register initial values, so learning continues from the
model's state exactly as the model itself would. :func:`load_rows` gives the same
image as the rows a run-time load writes through the host protocol (LOAD,
docs/protocol.md): every used memory row, then the state registers.

A reset after samples have entered returns the design to the empty tree, not
to the preloaded one (docs/hardware.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from hardodt.config import ConfigError
from reference.kernels import STAT_NAMES
from rtl.params import CATEGORICAL, INACTIVE, LEAF, NUMERIC, HardwareParams

__all__ = ["Preload", "preload_image", "load_rows", "empty_state", "HARDWARE_ONLY"]

#: Configuration fields that shape only the hardware: a model may differ in them
#: (``judge`` shapes nothing any more, hardodt.config.JUDGES).
HARDWARE_ONLY = ("lanes", "divider_stage_bits", "retimed_rows", "judge")


@dataclass(frozen=True)
class Pending:
    """A split trial begun but not applied: the registers that hold it."""

    commit_at: int  # samples from now until the split goes in (the input's index)
    level: int
    addr: int
    elem: int
    do_split: bool
    attr: int  # global attribute index (numeric first)
    value: int  # threshold, or the categorical value
    left: list[int]
    counts: list[int]  # left + right, per class


@dataclass(frozen=True)
class Preload:
    levels: list[list[list[dict]]]  # per level: rows of two node words
    counters: list[dict]
    quantiles: list[list[dict]]  # per lane: rows (element * groups + group)
    histograms: list[list[list[list[int]]]]  # per categorical attribute: rows
    pool: int
    leaves: int
    next_pair: list[int]
    stats: list[int]
    pending: Pending | None

    def state(self, params: HardwareParams) -> dict:
        """The state registers' values (``params.state_layout``)."""
        pend = self.pending
        out = empty_state(params)
        out.update(pool=self.pool, leaves=self.leaves, next_pair=list(self.next_pair),
                   stats=list(self.stats))
        if pend:
            out.update(awaiting=1, commit_at=pend.commit_at, remaining=pend.commit_at,
                       t_level=pend.level, t_addr=pend.addr, t_elem=pend.elem,
                       do_split=int(pend.do_split), attr=pend.attr, value=pend.value,
                       left=list(pend.left), counts=list(pend.counts))
        return out


def empty_state(params: HardwareParams) -> dict:
    """The state registers of the empty tree: the root holds element 0, nothing pending."""
    C, L = params.n_cls, params.levels
    return {"pool": 1, "leaves": 1, "next_pair": [0] * L, "stats": [0] * len(STAT_NAMES),
            "awaiting": 0, "commit_at": 0, "remaining": 0, "t_level": 0, "t_addr": 0,
            "t_elem": 0, "do_split": 0, "attr": 0, "value": 0, "left": [0] * C, "counts": [0] * C}


def _bits_of(layout, value) -> int:
    from amaranth.hdl import Const

    return Const.cast(layout.const(value)).value


def load_rows(params: HardwareParams, image: Preload) -> list[tuple[int, int, int]]:
    """``(target, row, bits)`` for every row a run-time load writes, the state row last
    (targets numbered as ``params.load_targets()``). Rows the tree does not use yet are
    not sent: the design rewrites them before their first use, as after a restart."""

    out = []
    t = 0
    pair = params.pair_layout
    for lv in range(params.levels):
        used = image.next_pair[lv] if lv else 1
        out += [(t, r, _bits_of(pair, image.levels[lv][r])) for r in range(used)]
        t += 1
    out += [(t, e, _bits_of(params.counter_layout, row)) for e, row in enumerate(image.counters)]
    t += 1
    used = len(image.counters) * params.groups
    for rows in image.quantiles:
        out += [(t, r, _bits_of(params.quantile_row_layout, rows[r])) for r in range(used)]
        t += 1
    for c, rows in enumerate(image.histograms):
        layout = params.histogram_row_layout(c)
        out += [(t, e, _bits_of(layout, row)) for e, row in enumerate(rows)]
        t += 1
    assert t == len(params.load_targets()) - 1
    out.append((t, 0, _bits_of(params.state_layout, image.state(params))))
    return out


def _same_learning(a, b) -> list[str]:
    da, db = a.to_dict(), b.to_dict()
    return [k for k in da if k not in HARDWARE_ONLY and da[k] != db.get(k)]


def preload_image(params: HardwareParams, model) -> Preload:
    """The initial state of the design for ``params`` that continues ``model``."""
    from reference.kernels import P_ACTIVE, P_ATTR, P_COMMIT_AT, P_DO_SPLIT, P_NODE, P_VALUE

    cfg = params.config
    differ = _same_learning(cfg, model.config)
    if differ:
        raise ConfigError(f"preload: the model was learned with another configuration "
                          f"(differs in {', '.join(differ)}); only {', '.join(HARDWARE_ONLY)} "
                          f"may differ")
    kind, attr, value, thr, elem, cls, left, right, depth, top = model._tree
    cnt, nn, since, quant, lo, hi, hist, seen = model._elem
    N, C, G = params.n_num, params.n_cls, params.groups

    # Node rows: breadth first, each level's pairs in order (the order does not matter to
    # what the tree does; only how many pairs each level has used).
    levels = [[[{}, {}] for _ in range(params.level_rows(lv))] for lv in range(params.levels)]
    next_pair = [0] * params.levels
    where = {}  # golden node -> (level, address)
    queue = [(0, 0, 0)]
    while queue:
        i, lv, addr = queue.pop(0)
        where[i] = (lv, addr)
        k = int(kind[i])
        if k in (NUMERIC, CATEGORICAL):
            pair = next_pair[lv + 1]
            if pair >= params.level_rows(lv + 1):
                raise ConfigError(f"preload: level {lv + 1} holds {params.level_rows(lv + 1)} "
                                  f"node pairs and the model needs more")
            next_pair[lv + 1] += 1
            word = {"kind": k, "attr": int(attr[i]), "child": pair,
                    "thr": int(thr[i]) if k == NUMERIC else int(value[i])}
            queue += [(int(left[i]), lv + 1, pair << 1), (int(right[i]), lv + 1, (pair << 1) | 1)]
        elif k == LEAF:
            word = {"kind": LEAF, "elem": int(elem[i]), "cls": int(cls[i])}
        else:
            word = {"kind": INACTIVE, "elem": 0, "cls": int(cls[i])}
        levels[lv][addr >> 1][addr & 1] = word

    used = int(top[2])
    counters = [{"cnt": [int(v) for v in cnt[e]], "n": int(nn[e]), "since": int(since[e]),
                 "seen": sum(1 << j for j in range(C) if seen[e, j]), "hist_ok": 1}
                for e in range(used)]
    quantiles = []
    for lane in range(params.lanes if N else 0):
        rows = [{} for _ in range(params.n_elem * G)]
        for i in range(N):
            k, g = params.lane_of(i)
            if k != lane:
                continue
            for e in range(used):
                rows[e * G + g] = {
                    "lo": int(lo[e, i]), "hi": int(hi[e, i]),
                    "q": [[int(quant[e, i, j, q]) if seen[e, j] else 0
                           for q in range(cfg.quantiles)] for j in range(C)]}
        quantiles.append(rows)
    histograms = [[[[int(hist[e, c, v, j]) for j in range(C)]
                    for v in range(cfg.categorical_values[c])] for e in range(used)]
                  for c in range(params.n_cat)]

    info, p_thr, p_left, p_right = model._pending
    pending = None
    if info[P_ACTIVE]:
        node = int(info[P_NODE])
        lv, addr = where[node]
        a = int(info[P_ATTR])
        pending = Pending(
            commit_at=int(info[P_COMMIT_AT]) - int(model._stats[0]), level=lv, addr=addr,
            elem=int(elem[node]), do_split=bool(info[P_DO_SPLIT]), attr=a,
            value=int(p_thr[0]) if a < N else int(info[P_VALUE]),
            left=[int(v) for v in p_left], counts=[int(p_left[j] + p_right[j])
                                                   for j in range(C)])
    return Preload(levels=levels, counters=counters, quantiles=quantiles, histograms=histograms,
                   pool=used, leaves=int(top[1]), next_pair=next_pair,
                   stats=[int(v) & 0xFFFFFFFF for v in model._stats], pending=pending)
