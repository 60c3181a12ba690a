"""Packing samples for the design's input bus, and reading the learned tree back.

Both the hardware's tree (read through the debug port) and the golden model's
are turned into the same canonical form, a pre-order list of nodes, so that
two trees compare with ``==`` however their nodes are numbered in memory.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import data

from rtl.params import CATEGORICAL, INACTIVE, LEAF, NUMERIC, HardwareParams

__all__ = ["pack_samples", "decode", "decode_counter", "decode_stats", "hardware_tree",
           "golden_tree", "route"]

_KINDS = {LEAF: "leaf", INACTIVE: "inactive", NUMERIC: "numeric", CATEGORICAL: "categorical"}


def decode(layout, word: int):
    """A Python value (dict / list / int) from the bits of ``layout``."""
    if isinstance(layout, data.StructLayout):
        return {name: decode(f.shape, (word >> f.offset) & ((1 << f.width) - 1))
                for name, f in layout}
    if isinstance(layout, data.ArrayLayout):
        w = Shape.cast(layout.elem_shape).width if not isinstance(
            layout.elem_shape, data.Layout) else layout.elem_shape.size
        return [decode(layout.elem_shape, (word >> (i * w)) & ((1 << w) - 1))
                for i in range(layout.length)]
    shape = Shape.cast(layout)
    if shape.signed and word >> (shape.width - 1):
        return word - (1 << shape.width)
    return word


def pack_samples(params: HardwareParams, xn, xc, y, learn) -> list[int]:
    """One integer per sample, the bits of ``params.sample_layout``."""
    lay = params.sample_layout
    w, vb = params.w, params.value_bits
    mask = (1 << w) - 1
    x_off, xc_off = lay["x"].offset, lay["xc"].offset
    y_off, l_off = lay["label"].offset, lay["learn"].offset
    xn = np.asarray(xn, dtype=np.int64)
    xc = np.asarray(xc, dtype=np.int64)
    out = []
    for s in range(len(y)):
        word = 0
        for i in range(params.n_num):
            word |= (int(xn[s, i]) & mask) << (x_off + i * w)
        for c in range(params.n_cat):
            word |= int(xc[s, c]) << (xc_off + c * vb)
        word |= int(y[s]) << y_off
        word |= int(bool(learn[s])) << l_off
        out.append(word)
    return out


def decode_counter(params: HardwareParams, word: int) -> dict:
    return decode(params.counter_layout, word)


def decode_stats(word: int) -> dict[str, int]:
    """The design's ``stats`` port, named as the golden model's counters."""
    from reference.kernels import STAT_NAMES

    return {name: (word >> (32 * i)) & 0xFFFFFFFF for i, name in enumerate(STAT_NAMES)}


def _leaf_record(kind: str, cls: int, counts=None, n=None, since=None, elem=None) -> dict:
    rec = {"kind": kind, "cls": int(cls)}
    if kind == "leaf":
        rec.update(elem=int(elem), counts=[int(c) for c in counts], n=int(n), since=int(since))
    return rec


async def hardware_tree(params: HardwareParams, read, read_counter=None) -> list[dict]:
    """Walk the hardware's node memories from the root; ``read(level, row)`` is awaited and
    returns ``(node row bits, counter row of element row)``, or with ``read_counter`` given
    the node row bits only, and ``read_counter(element)`` the decoded counter row."""
    pair = params.pair_layout
    out = []

    async def walk(level: int, addr: int, depth: int) -> None:
        bits = await read(level, addr >> 1)
        if read_counter is None:
            bits = bits[0]
        word = decode(pair, bits)[addr & 1]
        kind = _KINDS[word["kind"]]
        if kind in ("numeric", "categorical"):
            rec = {"kind": kind, "attr": word["attr"], "depth": depth}
            if kind == "numeric":
                rec["threshold"] = word["thr"]
            else:
                rec["value"] = word["thr"] & ((1 << params.value_bits) - 1)
            out.append(rec)
            await walk(level + 1, word["child"] << 1, depth + 1)
            await walk(level + 1, (word["child"] << 1) | 1, depth + 1)
            return
        if kind == "leaf":
            ctr = (await read(0, word["elem"]))[1] if read_counter is None else \
                await read_counter(word["elem"])
            rec = _leaf_record(kind, word["cls"], ctr["cnt"], ctr["n"], ctr["since"], word["elem"])
        else:
            rec = _leaf_record(kind, word["cls"])
        rec["depth"] = depth
        out.append(rec)

    await walk(0, 0, 0)
    return out


def golden_tree(model) -> list[dict]:
    """The golden model's tree in the form of :func:`hardware_tree`."""
    kind, attr, value, thr, elem, cls, left, right, depth, _top = model._tree
    cnt, n, since = model._elem[0], model._elem[1], model._elem[2]
    out = []

    def walk(i: int) -> None:
        k = _KINDS[int(kind[i])]
        if k in ("numeric", "categorical"):
            rec = {"kind": k, "attr": int(attr[i]), "depth": int(depth[i])}
            if k == "numeric":
                rec["threshold"] = int(thr[i])
            else:
                rec["value"] = int(value[i])
            out.append(rec)
            walk(int(left[i]))
            walk(int(right[i]))
            return
        e = int(elem[i])
        if k == "leaf":
            rec = _leaf_record(k, cls[i], cnt[e], n[e], since[e], e)
        else:
            rec = _leaf_record(k, cls[i])
        rec["depth"] = int(depth[i])
        out.append(rec)

    walk(0)
    return out


def route(tree: list[dict], x, xc) -> dict:
    """The leaf record a sample (encoded ``x``, categorical ``xc``) reaches in a canonical tree."""

    def end(k: int) -> int:  # index after the subtree starting at k
        if tree[k]["kind"] in ("numeric", "categorical"):
            return end(end(k + 1))
        return k + 1

    k = 0
    while tree[k]["kind"] in ("numeric", "categorical"):
        node = tree[k]
        if node["kind"] == "numeric":
            left = int(x[node["attr"]]) < node["threshold"]
        else:
            left = int(xc[node["attr"]]) == node["value"]
        k = k + 1 if left else end(k + 1)
    return tree[k]
