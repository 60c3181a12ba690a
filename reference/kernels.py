"""The learner's inner loop, compiled with numba: route, predict, learn, split.

One code path serves both number modes (see the helpers below): the value
arrays are float64 in float mode and int64 in fixed mode, the counts are int64
in both. State lives in flat arrays (the layout the hardware memories have),
grouped in three tuples:

``tree``: per node ``kind, attr, value, thr, elem, cls, left, right, depth``
  and ``top`` (``top[0]`` nodes used, ``top[1]`` leaves, ``top[2]`` elements
  handed out).
``elem``: per element ``cnt[E, L]``, ``n[E]``, ``since[E]``, ``quant[E, N, L, Q]``,
  ``lo[E, N]``, ``hi[E, N]``, ``hist[E, C, V, L]``, ``seen[E, L]``.
``k``: constants, named by ``CONSTANT_NAMES``.
``pending``: the split trial whose outcome is not applied yet (see ``run_stream``):
  ``info = [active, commit_at, node, attr, value, do_split]``, ``thr[1]``, and the
  chosen candidate's class counts ``left[L]``, ``right[L]``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["LEAF", "INACTIVE", "NUMERIC", "CATEGORICAL", "STAT_NAMES", "hoeffding_bound",
           "hoeffding_split", "run_stream"]

# -- the operations whose float and fixed-point forms differ ---------------------
# Every helper takes a *mode marker* first: 0.0 (float64) selects the float form,
# 0 (int64) the fixed-point form; numba compiles one specialisation per mode, so
# the two modes cannot drift apart in anything but these lines. They live in this
# file because numba's cache only notices changes to the file of the cached function.


def frac_mul(mode, a, c, fraction_bits):
    """``a * c`` for a coefficient ``c`` in [0, 1); fixed: ``(a * c) >> fraction_bits`` (floor)."""
    if isinstance(mode, (int, np.integer)):
        return (a * c) >> fraction_bits
    return a * c


def left_count(mode, n_j, below, q):
    """Left share of class ``j``: ``n_j * below / Q``; fixed: rounded down to an integer."""
    if isinstance(mode, (int, np.integer)):
        return (n_j * below) // q
    return np.floor(n_j * below / q)


def quality_term(mode, sum_sq, total, quality_fraction_bits):
    """``sum_sq / total``; fixed: ``floor(sum_sq * 2^G / total)`` with ``G`` fraction bits."""
    if isinstance(mode, (int, np.integer)):
        return (sum_sq << quality_fraction_bits) // total
    return sum_sq / total


def shift_down(mode, a, shift):
    """``a * 2^-shift``; fixed: ``a >> shift`` (floor)."""
    if isinstance(mode, (int, np.integer)):
        return a >> shift
    return a * 2.0**-shift


@overload(shift_down)
def _shift_down(mode, a, shift):
    if isinstance(mode, types.Integer):
        return lambda mode, a, shift: a >> shift
    return lambda mode, a, shift: a * 2.0**-shift


@overload(frac_mul)
def _frac_mul(mode, a, c, fraction_bits):
    if isinstance(mode, types.Integer):
        return lambda mode, a, c, fraction_bits: (a * c) >> fraction_bits
    return lambda mode, a, c, fraction_bits: a * c


@overload(left_count)
def _left_count(mode, n_j, below, q):
    if isinstance(mode, types.Integer):
        return lambda mode, n_j, below, q: (n_j * below) // q
    return lambda mode, n_j, below, q: np.floor(n_j * below / q)


@overload(quality_term)
def _quality_term(mode, sum_sq, total, quality_fraction_bits):
    if isinstance(mode, types.Integer):
        return lambda mode, sum_sq, total, quality_fraction_bits: (
            (sum_sq << quality_fraction_bits) // total)
    return lambda mode, sum_sq, total, quality_fraction_bits: sum_sq / total


# The constants tuple ``k``: its fields, in order (built by
# ``reference.tree.QuantileHoeffdingTree._constants``).
CONSTANT_NAMES = (
    "step_up",
    "step_down",
    "alpha",
    "split_position",
    "fraction_bits",
    "word_min",
    "word_max",
    "quality_fraction_bits",
    "hoeffding_k",
    "count_max",
    "grace_period",
    "initial_quantiles",
    "tie_samples",
    "quantiles",
    "categorical_values",
    "half",
    "max_depth",
    "max_leaves",
    "inherit_counts",
    "one",
    "step_schedule",
    "inherit_n",
    "split_delay",
)
(C_STEP_UP, C_STEP_DOWN, C_ALPHA, C_SPLIT_POSITION, C_FRACTION_BITS, C_WORD_MIN, C_WORD_MAX,
 C_QUALITY_FRACTION_BITS, C_HOEFFDING_K, C_COUNT_MAX, C_GRACE_PERIOD, C_INITIAL_QUANTILES,
 C_TIE_SAMPLES, C_QUANTILES, C_CATEGORICAL_VALUES, C_HALF, C_MAX_DEPTH, C_MAX_LEAVES,
 C_INHERIT_COUNTS, C_ONE, C_STEP_SCHEDULE, C_INHERIT_N, C_SPLIT_DELAY) = range(len(CONSTANT_NAMES))

# Node kinds.
LEAF, INACTIVE, NUMERIC, CATEGORICAL = 0, 1, 2, 3

# Step schedules (the order of config.STEP_SCHEDULES).
SCHEDULE_CONSTANT, SCHEDULE_DECREASING = 0, 1

# Initial-quantile rules (the order of config.INITIAL_QUANTILE_RULES).
RULE_RANGE, RULE_CENTRE, RULE_FIRST = 0, 1, 2

STAT_NAMES = (
    "samples",  # samples seen (predicted)
    "learned",  # samples learned (statistics updated)
    "frozen_samples",  # learn requests at a leaf whose count saturated (not learned)
    "inactive_samples",  # learn requests at an inactive leaf (no element: not learned)
    "split_trials",  # split evaluations run
    "splits",
    "trials_skipped_depth",  # trials due at a leaf at max_depth
    "trials_skipped_leaves",  # trials due when the tree had max_leaves leaves
    "trials_skipped_pure",  # trials due at a leaf that has seen one class only
    "inactive_leaves",  # children created without an element (pool empty)
    "trials_postponed",  # trials due while another trial's outcome was pending
)
(S_SAMPLES, S_LEARNED, S_FROZEN, S_INACTIVE, S_TRIALS, S_SPLITS, S_SKIP_DEPTH,
 S_SKIP_LEAVES, S_SKIP_PURE, S_INACTIVE_LEAVES, S_POSTPONED) = range(len(STAT_NAMES))

# Fields of ``pending[0]``.
P_ACTIVE, P_COMMIT_AT, P_NODE, P_ATTR, P_VALUE, P_DO_SPLIT = range(6)


@njit(cache=True, inline="always")
def _route(tree, x, xc):
    kind, attr, value, thr, _elem, _cls, left, right, _depth, _top = tree
    node = 0
    while kind[node] >= NUMERIC:
        a = attr[node]
        if kind[node] == NUMERIC:
            go_left = x[a] < thr[node]
        else:
            go_left = xc[a] == value[node]
        node = left[node] if go_left else right[node]
    return node


@njit(cache=True)
def _predict_leaf(tree, elem, node):
    kind, _attr, _value, _thr, node_elem, cls, _l, _r, _d, _top = tree
    if kind[node] == INACTIVE:
        return cls[node]
    e = node_elem[node]
    cnt = elem[0]
    best = 0
    for j in range(1, cnt.shape[1]):
        if cnt[e, j] > cnt[e, best]:
            best = j
    if cnt[e, best] == 0:  # nothing learned yet: the majority of the side at the split
        return cls[node]
    return best


@njit(cache=True)
def _init_element(mode, elem, k, e, range_lo, range_hi):
    """Empty the statistics of element ``e``; seed its quantiles from ``[range_lo, range_hi]``."""
    cnt, n, since, quant, lo, hi, hist, seen = elem
    alpha, rule, fbits = k[C_ALPHA], k[C_INITIAL_QUANTILES], k[C_FRACTION_BITS]
    word_min, word_max, half = k[C_WORD_MIN], k[C_WORD_MAX], k[C_HALF]
    cnt[e, :] = 0
    n[e] = 0
    since[e] = 0
    hist[e] = 0
    seen[e, :] = False
    for i in range(quant.shape[1]):
        lo[e, i] = word_max  # empty: lo > hi
        hi[e, i] = word_min
        span = range_hi[i] - range_lo[i]
        for j in range(quant.shape[2]):
            for q in range(quant.shape[3]):
                if rule == RULE_CENTRE:
                    quant[e, i, j, q] = range_lo[i] + frac_mul(mode, span, half, fbits)
                else:  # RULE_RANGE, and RULE_FIRST until a class's first sample
                    quant[e, i, j, q] = range_lo[i] + frac_mul(mode, span, alpha[q], fbits)


@njit(cache=True)
def _learn_leaf(mode, elem, k, stats, e, x, xc, y):
    """Update element ``e`` with one sample; return True when a split trial is due."""
    cnt, n, since, quant, lo, hi, hist, seen = elem
    step_up, step_down, rule = k[C_STEP_UP], k[C_STEP_DOWN], k[C_INITIAL_QUANTILES]
    word_min, word_max = k[C_WORD_MIN], k[C_WORD_MAX]
    count_max, grace = k[C_COUNT_MAX], k[C_GRACE_PERIOD]
    if n[e] >= count_max:
        stats[S_FROZEN] += 1
        return False
    stats[S_LEARNED] += 1
    cnt[e, y] += 1
    n[e] += 1
    since[e] += 1
    first = rule == RULE_FIRST and not seen[e, y]
    seen[e, y] = True
    # "decreasing" schedule: the step is max(lambda, 2^-floor(log2 n_y)) * alpha (or 1 - alpha).
    shift = -1
    if k[C_STEP_SCHEDULE] == SCHEDULE_DECREASING:
        shift = 0
        while (cnt[e, y] >> (shift + 1)) > 0:
            shift += 1
    alpha, one = k[C_ALPHA], k[C_ONE]
    for i in range(quant.shape[1]):
        v = x[i]
        if v < lo[e, i]:
            lo[e, i] = v
        if v > hi[e, i]:
            hi[e, i] = v
        for q in range(quant.shape[3]):
            cur = quant[e, i, y, q]
            if first:
                cur = v
            elif v > cur:  # q - x < 0: move up by lambda * alpha
                st = step_up[q]
                if shift >= 0:
                    big = shift_down(mode, alpha[q], shift)
                    if big > st:
                        st = big
                cur = cur + st
                if cur > word_max:
                    cur = word_max
            else:  # q - x >= 0: move down by lambda * (1 - alpha)
                st = step_down[q]
                if shift >= 0:
                    big = shift_down(mode, one - alpha[q], shift)
                    if big > st:
                        st = big
                cur = cur - st
                if cur < word_min:
                    cur = word_min
            quant[e, i, y, q] = cur
    for c in range(xc.shape[0]):
        hist[e, c, xc[c], y] += 1
    return since[e] >= grace


@njit(cache=True)
def _quality(mode, left, right, g):
    """``sum L_j^2/|L| + sum R_j^2/|R|``; -1 when one side is empty (not a candidate)."""
    sl = left[0] * 0
    sr = sl
    ql = sl
    qr = sl
    for j in range(left.shape[0]):
        sl += left[j]
        sr += right[j]
        ql += left[j] * left[j]
        qr += right[j] * right[j]
    if sl <= 0 or sr <= 0:
        return sl - 1 if sl <= 0 else sr - 1  # negative: no candidate
    return quality_term(mode, ql, sl, g) + quality_term(mode, qr, sr, g)


@njit(cache=True, inline="always")
def _count_below(quant, e, i, j, t):
    """How many of class ``j``'s quantiles of attribute ``i`` lie strictly below ``t``."""
    below = 0
    for q in range(quant.shape[3]):
        if quant[e, i, j, q] < t:
            below += 1
    return below


@njit(cache=True, inline="always")
def _rank(merit, attr, best_q, best_a, second_q):
    """Fold one attribute's merit into (best, its attribute, second best); ties keep the first."""
    if merit > best_q:
        if best_q > second_q:
            second_q = best_q
        return merit, attr, second_q, True
    if merit > second_q:
        second_q = merit
    return best_q, best_a, second_q, False


@njit(cache=True)
def _split_trial(mode, elem, k, e, best_left, best_right):
    """Evaluate every candidate of element ``e``; return ``(attr, thr, value, do_split)``.

    ``attr`` indexes numeric attributes first, then categorical ones; ``best_left``
    and ``best_right`` receive the class counts of the chosen candidate's sides.
    """
    cnt, n, since, quant, lo, hi, hist, seen = elem
    split_pos, fbits, q_count = k[C_SPLIT_POSITION], k[C_FRACTION_BITS], k[C_QUANTILES]
    g, hk, tie_n = k[C_QUALITY_FRACTION_BITS], k[C_HOEFFDING_K], k[C_TIE_SAMPLES]
    n_num = quant.shape[1]
    n_cls = cnt.shape[1]
    vals = k[C_CATEGORICAL_VALUES]
    zero = mode * 0  # a value of the mode's type
    left = np.zeros_like(best_left)
    right = np.zeros_like(best_left)

    nn = n[e]
    ssq = 0
    learned = 0  # the samples behind the statistics (n may include inherited ones)
    for j in range(n_cls):
        ssq += cnt[e, j] * cnt[e, j]
        learned += cnt[e, j]
    null_q = quality_term(mode, ssq + zero, learned + zero, g)  # the "no split" candidate

    best_a = -1
    best_q = zero - 1
    second_q = null_q
    best_thr = zero
    best_v = 0
    for i in range(n_num):
        if hi[e, i] <= lo[e, i]:
            continue
        span = hi[e, i] - lo[e, i]
        a_q = zero - 1
        a_thr = zero
        for p in range(split_pos.shape[0]):
            t = lo[e, i] + frac_mul(mode, span, split_pos[p], fbits)
            for j in range(n_cls):
                below = _count_below(quant, e, i, j, t)
                left[j] = left_count(mode, cnt[e, j] + zero, below, q_count)
                right[j] = cnt[e, j] - left[j]
            qual = _quality(mode, left, right, g)
            if qual > a_q:
                a_q = qual
                a_thr = t
        if a_q >= 0:
            best_q, best_a, second_q, won = _rank(a_q, i, best_q, best_a, second_q)
            if won:
                best_thr = a_thr
    for c in range(hist.shape[1]):
        a_q = zero - 1
        a_v = 0
        for v in range(vals[c]):
            for j in range(n_cls):
                left[j] = hist[e, c, v, j]
                right[j] = cnt[e, j] - left[j]
            qual = _quality(mode, left, right, g)
            if qual > a_q:
                a_q = qual
                a_v = v
        if a_q >= 0:
            best_q, best_a, second_q, won = _rank(a_q, n_num + c, best_q, best_a, second_q)
            if won:
                best_v = a_v
    if best_a < 0 or best_q <= null_q:
        return -1, best_thr, 0, False
    # Recompute the winner's sides (cheaper than keeping them for every candidate).
    for j in range(n_cls):
        if best_a < n_num:
            below = _count_below(quant, e, best_a, j, best_thr)
            best_left[j] = left_count(mode, cnt[e, j] + zero, below, q_count)
        else:
            best_left[j] = hist[e, best_a - n_num, best_v, j]
        best_right[j] = cnt[e, j] - best_left[j]
    gain = quality_term(mode, best_q - second_q, learned + zero, g)  # Gini difference
    return best_a, best_thr, best_v, hoeffding_split(gain, nn, hk, tie_n)


@njit(cache=True)
def hoeffding_split(gain, n, hk, tie_n):
    """The square-root-free Hoeffding test: ``gain^2 n > K``, or a tie once ``n > tie_n``.

    ``gain`` is the Gini difference of the best and second-best candidates (fixed:
    with ``GAIN_FRACTION_BITS``), ``hk`` is ``K = R^2 ln(1/delta) / 2`` (fixed:
    with twice those fraction bits), ``tie_n`` is ``floor(K / tau^2)`` or -1 for
    no tie rule. ``gain > sqrt(K / n)`` squared is ``gain^2 n > K``.
    """
    return gain * gain * n > hk or (tie_n >= 0 and n > tie_n)


def hoeffding_bound(n: int, hk: int) -> int | None:
    """The least gain that passes the fixed-point test for a leaf of ``n`` samples:
    ``T = isqrt(floor(K / n)) + 1``; None for ``n = 0`` (no gain passes).

    Every term is an integer, so ``gain^2 n > K`` iff ``gain^2 > floor(K / n)`` iff
    ``gain >= T``; and with ``gain = floor(x / learned)`` (``x`` the margin with its
    fraction bits, ``quality_term``), iff ``x >= T * learned``. ``T`` depends on the
    leaf's count alone, so the hardware works it out while the candidates are still
    being evaluated and ends its trial with that one comparison
    (``rtl.hoeffding.HoeffdingJudge``).
    """
    if n <= 0:
        return None
    return math.isqrt(hk // n) + 1


@njit(cache=True)
def _argmax(v):
    b = 0
    for j in range(1, v.shape[0]):
        if v[j] > v[b]:
            b = j
    return b


@njit(cache=True)
def _split(mode, tree, elem, k, stats, node, attr, thr, value, side_l, side_r):
    """Turn leaf ``node`` into an internal node with two fresh leaves one level down."""
    kind, n_attr, n_value, n_thr, n_elem, n_cls, left, right, depth, top = tree
    lo, hi = elem[4], elem[5]
    e = n_elem[node]
    n_num = lo.shape[1]
    # Ranges the children inherit, read before the parent's element is reused.
    cnt, n = elem[0], elem[1]
    lo_l = lo[e].copy()
    hi_l = hi[e].copy()
    lo_r = lo_l.copy()
    hi_r = hi_l.copy()
    if attr < n_num:
        hi_l[attr] = thr
        lo_r[attr] = thr
    c_l, c_r = top[0], top[0] + 1
    top[0] += 2
    top[1] += 1
    stats[S_SPLITS] += 1
    kind[c_l] = LEAF
    kind[c_r] = LEAF
    depth[c_l] = depth[node] + 1
    depth[c_r] = depth[node] + 1
    n_cls[c_l] = _argmax(side_l)  # predicted until the leaf has learned a sample
    n_cls[c_r] = _argmax(side_r)
    # The larger side (ties: left) keeps the parent's element; the other takes a free one.
    sum_l = side_l.sum()
    sum_r = side_r.sum()
    keep, other = (c_l, c_r) if sum_l >= sum_r else (c_r, c_l)
    n_elem[keep] = e
    if top[2] < elem[0].shape[0]:
        n_elem[other] = top[2]
        top[2] += 1
    else:
        n_elem[other] = -1
        kind[other] = INACTIVE
        stats[S_INACTIVE_LEAVES] += 1
    inherit, inherit_n = k[C_INHERIT_COUNTS], k[C_INHERIT_N]
    for child, side, c_lo, c_hi in ((c_l, side_l, lo_l, hi_l), (c_r, side_r, lo_r, hi_r)):
        if kind[child] != LEAF:
            continue
        ce = n_elem[child]
        _init_element(mode, elem, k, ce, c_lo, c_hi)
        if inherit or inherit_n:  # the side's estimated class counts (MOA, StreamDM, river)
            total = 0
            for j in range(side.shape[0]):
                c = int(side[j])
                if inherit:
                    cnt[ce, j] = c
                total += c
            n[ce] = total
    if attr < n_num:
        kind[node] = NUMERIC
        n_attr[node] = attr
        n_thr[node] = thr
    else:
        kind[node] = CATEGORICAL
        n_attr[node] = attr - n_num
        n_value[node] = value
    n_elem[node] = -1
    left[node] = c_l
    right[node] = c_r


@njit(cache=True)
def run_stream(mode, tree, elem, k, stats, pending, x, xc, y, learn, pred, apply_pending):
    """Prequential loop: for each sample predict into ``pred``, then learn if ``learn``.

    Split timing (the hardware's, in samples): a trial due at sample ``s`` sees
    the leaf's statistics right after ``s`` is learned; its outcome is applied
    just before sample ``s + split_delay + 1`` is routed. Until then the leaf
    keeps predicting and learning. One trial is pending at a time: a trial that
    falls due meanwhile is postponed (its counter is not reset, so the leaf tries
    again at its next learned sample). ``split_delay = 0`` is the textbook order.
    ``apply_pending`` is False for side queries, which are not stream samples.
    """
    kind, depth, top = tree[0], tree[8], tree[9]
    max_depth, max_leaves, delay = k[C_MAX_DEPTH], k[C_MAX_LEAVES], k[C_SPLIT_DELAY]
    n_cls = elem[0].shape[1]
    info, p_thr, p_left, p_right = pending
    cnt, since = elem[0], elem[2]
    for s in range(x.shape[0]):
        if apply_pending and info[P_ACTIVE] != 0 and stats[S_SAMPLES] >= info[P_COMMIT_AT]:
            info[P_ACTIVE] = 0
            if info[P_DO_SPLIT] != 0:
                _split(mode, tree, elem, k, stats, info[P_NODE], info[P_ATTR], p_thr[0],
                       info[P_VALUE], p_left, p_right)
        xs = x[s]
        xcs = xc[s]
        node = _route(tree, xs, xcs)
        pred[s] = _predict_leaf(tree, elem, node)
        clock = stats[S_SAMPLES]
        stats[S_SAMPLES] += 1
        if not learn[s]:
            continue
        if kind[node] == INACTIVE:
            stats[S_INACTIVE] += 1
            continue
        e = tree[4][node]
        if not _learn_leaf(mode, elem, k, stats, e, xs, xcs, y[s]):
            continue
        if info[P_ACTIVE] != 0:
            stats[S_POSTPONED] += 1
            continue
        since[e] = 0
        if depth[node] >= max_depth:
            stats[S_SKIP_DEPTH] += 1
            continue
        if top[1] >= max_leaves:
            stats[S_SKIP_LEAVES] += 1
            continue
        classes_seen = 0
        for j in range(n_cls):
            if cnt[e, j] > 0:
                classes_seen += 1
        if classes_seen < 2:
            stats[S_SKIP_PURE] += 1
            continue
        stats[S_TRIALS] += 1
        attr, thr, value, do_split = _split_trial(mode, elem, k, e, p_left, p_right)
        info[P_ACTIVE] = 1
        info[P_COMMIT_AT] = clock + delay + 1
        info[P_NODE] = node
        info[P_ATTR] = attr
        info[P_VALUE] = value
        info[P_DO_SPLIT] = 1 if do_split else 0
        p_thr[0] = thr
        if not apply_pending:  # a query cannot start a trial it will never apply
            info[P_ACTIVE] = 0
    if apply_pending and info[P_ACTIVE] != 0 and stats[S_SAMPLES] >= info[P_COMMIT_AT]:
        info[P_ACTIVE] = 0  # due before the next sample: apply now, so the state is current
        if info[P_DO_SPLIT] != 0:
            _split(mode, tree, elem, k, stats, info[P_NODE], info[P_ATTR], p_thr[0],
                   info[P_VALUE], p_left, p_right)
