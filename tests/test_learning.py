"""Hand-computed cases of the learner's arithmetic, and its behaviour on whole streams."""

import math

import numpy as np
import pytest

from hardodt import Config, QuantileHoeffdingTree
from reference.kernels import _quality, _split_trial, hoeffding_split
from reference.units import GoldenQuantileStep

QUANT, LO, HI, CNT, N = 3, 4, 5, 0, 1


def one_attribute(number="fixed", **kw):
    base = dict(numeric_attributes=["a"], classes=[0, 1], quantiles=1, step=0.25,
                word_bits=10, fraction_bits=8, initial_quantiles="centre", grace_period=10**6,
                number=number, step_schedule="constant")
    base.update(kw)
    return QuantileHoeffdingTree(Config(**base))


@pytest.mark.parametrize("number", ["fixed", "float"])
def test_one_quantile_update(number):
    m = one_attribute(number)
    q = m._elem[QUANT]
    assert q[0, 0, 0, 0] == 0  # "centre" of [-1, 1]
    m.learn_one({"a": 0.5}, 0)  # above: up by lambda * alpha = 0.25 * 0.5
    assert q[0, 0, 0, 0] == (32 if number == "fixed" else 0.125)
    assert q[0, 0, 1, 0] == 0  # only the sample's class moves
    m.learn_one({"a": 0.125}, 0)  # at the estimate: down by lambda * (1 - alpha)
    assert q[0, 0, 0, 0] == 0
    m.learn_one({"a": -1.0}, 0)
    assert q[0, 0, 0, 0] == (-32 if number == "fixed" else -0.125)
    assert (m._elem[LO][0, 0], m._elem[HI][0, 0]) == ((-256, 128) if number == "fixed"
                                                      else (-1.0, 0.5))


@pytest.mark.parametrize("number", ["fixed", "float"])
def test_decreasing_steps_by_hand(number):
    # Q = 1 (alpha = 1/2), lambda = 0.25: the k-th sample of a class steps by
    # max(0.25, 2^-floor(log2 k)) * 0.5 = 0.5, 0.25, 0.25, 0.125, 0.125, 0.125 (k = 1..6);
    # the 4th sample equals the estimate (1.0), so it moves down.
    m = one_attribute(number, step_schedule="decreasing", step=0.25)
    one = 256 if number == "fixed" else 1.0
    q = m._elem[QUANT]
    seen = []
    for _ in range(5):
        m.learn_one({"a": 1.0}, 1)
        seen.append(q[0, 0, 1, 0] / one)
    assert seen == [0.5, 0.75, 1.0, 0.875, 1.0]
    m.learn_one({"a": -1.0}, 1)  # 6th sample: max(0.25, 2^-2) * 0.5 down
    assert q[0, 0, 1, 0] / one == 0.875
    for _ in range(10):  # 16th sample: 2^-4 < lambda, so lambda * alpha = 0.125 again
        m.learn_one({"a": -1.0}, 1)
    assert q[0, 0, 1, 0] / one == 0.875 - 10 * 0.125


def test_quantile_saturates_at_the_word_limit():
    # 8-bit words, 6 fraction bits: max 127 = 1.98; lambda * alpha = 0.5 * 0.5 * 64 = 16.
    # Encoded inputs reach 1.0 = 64 only, so the state and the value are set directly.
    step = GoldenQuantileStep(one_attribute(step=0.5, word_bits=8, fraction_bits=6).config)
    assert step([120], 127, 1, False) == [127]  # 120 + 16 saturates
    assert step([-120], -128, 1, False) == [-128]  # -120 - 16 saturates


@pytest.mark.parametrize("number", ["fixed", "float"])
@pytest.mark.parametrize("schedule", ["constant", "decreasing"])
def test_quantiles_converge_to_the_true_quantiles(number, schedule):
    cfg = Config(numeric_attributes=["a"], classes=[0, 1], quantiles=3, grace_period=10**6,
                 number=number, initial_quantiles="centre", step=0.01, step_schedule=schedule)
    m = QuantileHoeffdingTree(cfg)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(60_000, 1))
    m.partial_fit(x, np.zeros(60_000, int))
    q = m._elem[QUANT][0, 0, 0].astype(float)
    if number == "fixed":
        q /= cfg.fixed.one
    # alpha = 1/4, 1/2, 3/4 of U(-1, 1): -0.5, 0, 0.5; the noise of lambda = 0.01 is ~0.03.
    assert np.allclose(q, [-0.5, 0.0, 0.5], atol=0.06), q


def test_quality_term_by_hand():
    # L = [3, 1], R = [1, 3]: 10/4 + 10/4 = 5; fixed with 8 fraction bits: 640 + 640.
    assert _quality(0.0, np.array([3.0, 1.0]), np.array([1.0, 3.0]), 8) == 5.0
    assert _quality(0, np.array([3, 1]), np.array([1, 3]), 8) == 1280
    # floor: 1/3 -> (1 << 8) // 3 = 85 on the right side; left 4/2 -> 512
    assert _quality(0, np.array([2, 0]), np.array([0, 1]), 8) == 512 + 256
    assert _quality(0, np.array([1, 1]), np.array([0, 1]), 8) == (2 << 8) // 2 + (1 << 8) // 1
    assert _quality(0, np.array([0, 0]), np.array([2, 1]), 8) < 0  # empty side: no candidate


def _elem_with_two_clean_classes(number):
    m = one_attribute(number, quantiles=4, split_points=1, step=0.01, word_bits=32,
                      fraction_bits=30)
    one = m.config.fixed.one if number == "fixed" else 1.0
    e = m._elem
    e[QUANT][0, 0, 0] = np.array([-0.8, -0.6, -0.4, -0.2]) * one
    e[QUANT][0, 0, 1] = np.array([0.2, 0.4, 0.6, 0.8]) * one
    e[CNT][0] = [100, 100]
    e[N][0] = 200
    e[LO][0, 0], e[HI][0, 0] = -one, one
    return m


@pytest.mark.parametrize("number", ["fixed", "float"])
def test_left_right_counts_and_split_choice(number):
    m = _elem_with_two_clean_classes(number)
    side_l = np.zeros(2, m._elem[QUANT].dtype)
    side_r = np.zeros(2, m._elem[QUANT].dtype)
    attr, thr, _v, do_split = _split_trial(m._mode, m._elem, m._k, 0, side_l, side_r)
    # one candidate, t = 0: class 0 has 4/4 quantiles below, class 1 has 0/4
    assert (attr, thr) == (0, 0)
    assert list(side_l) == [100, 0] and list(side_r) == [0, 100]
    assert do_split  # quality 200 vs null 100: dq^2 = 10^4 > K * 200 = 691


def test_left_count_rounds_down_to_a_quantile():
    m = _elem_with_two_clean_classes("fixed")
    e = m._elem
    one = m.config.fixed.one
    e[QUANT][0, 0, 1] = np.array([-0.5, 0.4, 0.6, 0.8]) * one  # 1 of 4 class-1 quantiles below 0
    e[CNT][0] = [100, 103]
    e[N][0] = 203
    side_l = np.zeros(2, np.int64)
    side_r = np.zeros(2, np.int64)
    _split_trial(m._mode, e, m._k, 0, side_l, side_r)
    assert list(side_l) == [100, 25]  # floor(103 * 1 / 4) = 25
    assert list(side_r) == [0, 78]


def test_hoeffding_test_on_both_sides_of_the_bound():
    # n = 200: the bound is sqrt(K / n) = sqrt(3.45388 / 200) = 0.131413 (dq = 26.2826)
    k = math.log(1000) / 2
    assert not hoeffding_split(26.28 / 200, 200, k, -1)
    assert hoeffding_split(26.29 / 200, 200, k, -1)
    # tie rule: n > floor(K / tau^2) = 1381
    assert not hoeffding_split(0.0, 1381, k, 1381)
    assert hoeffding_split(0.0, 1382, k, 1381)
    # fixed: dq with 8 fraction bits, gain = (dq << 8) // n with 16, K with 32 (14834291506)
    # dq = 26.28 -> 6727 -> gain 8610: 8610^2 * 200 = 14,826,420,000 < K
    # dq = 26.293 -> 6731 -> gain 8615: 8615^2 * 200 = 14,843,645,000 > K
    assert not hoeffding_split((6727 << 8) // 200, 200, 14834291506, -1)
    assert hoeffding_split((6731 << 8) // 200, 200, 14834291506, -1)


def threshold_stream(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (x[:, 0] > 0.3).astype(int)
    return x, y


@pytest.mark.parametrize("number", ["fixed", "float"])
@pytest.mark.parametrize("rule", ["range", "centre", "first"])
@pytest.mark.parametrize("hoeffding_n", ["inherited", "learned"])
def test_a_split_and_the_childrens_reset(number, rule, hoeffding_n):
    cfg = Config(numeric_attributes=2, classes=[0, 1], grace_period=100, number=number,
                 initial_quantiles=rule, max_depth=1, hoeffding_n=hoeffding_n, split_delay=0)
    m = QuantileHoeffdingTree(cfg)
    x, y = threshold_stream()
    # learn until the first split, one sample at a time
    for i in range(len(y)):
        parent_n = m._elem[N][0] + 1
        m.partial_fit(x[i:i + 1], y[i:i + 1])
        if m.n_leaves == 2:
            break
    assert m.n_leaves == 2
    root = m.nodes()[0]
    children_n = [m._elem[N][m._tree[4][root[s]]] for s in ("left", "right")]
    if hoeffding_n == "learned":
        assert children_n == [0, 0]
    else:  # the sides' estimated counts, which add up to the parent's
        assert sum(children_n) == parent_n and min(children_n) > 0
    assert root["kind"] == "numeric" and root["attribute"] == "x0"
    assert abs(root["threshold_value"] - 0.3) < 0.25
    one = cfg.fixed.one if number == "fixed" else 1.0
    thr = m._tree[3][0]
    for child in (root["left"], root["right"]):
        e = m._tree[4][child]
        assert m._elem[CNT][e].sum() == 0
        assert (m._elem[HI][e] < m._elem[LO][e]).all()  # min/max empty
        q = m._elem[QUANT][e, 0]  # quantiles of the split attribute
        if rule != "centre":
            lo, hi = (-one, thr) if child == root["left"] else (thr, one)
            assert (q >= lo - 0.02 * one).all() and (q <= hi).all()
            assert (np.diff(q[0]) > 0).all()  # spread out
        else:
            assert (q == q[0, 0]).all()
    # the children predict the side's majority before learning anything
    assert m.predict_one({"x0": -0.9, "x1": 0}) == 0
    assert m.predict_one({"x0": 0.9, "x1": 0}) == 1


def test_depth_limit():
    x, y = threshold_stream(20_000)
    y = ((x[:, 0] > 0.3) ^ (x[:, 1] > -0.2)).astype(int)
    m = QuantileHoeffdingTree(Config(numeric_attributes=2, grace_period=50, max_depth=1))
    m.partial_fit(x, y)
    assert m.depth == 1 and m.n_leaves == 2
    assert m.stats["trials_skipped_depth"] > 0


def test_leaf_limit():
    x, y = threshold_stream(20_000)
    y = (np.floor((x[:, 0] + 1) * 4) % 2).astype(int)  # stripes: needs many leaves
    m = QuantileHoeffdingTree(Config(numeric_attributes=2, grace_period=50, max_leaves=3,
                                     elements=3))
    m.partial_fit(x, y)
    assert m.n_leaves == 3
    assert m.stats["trials_skipped_leaves"] > 0


def test_element_pool_exhausted_makes_inactive_leaves():
    x, y = threshold_stream(40_000)
    y = (np.floor((x[:, 0] + 1) * 4) % 2).astype(int)
    m = QuantileHoeffdingTree(Config(numeric_attributes=2, grace_period=50, max_leaves=16,
                                     elements=2))
    m.partial_fit(x, y)
    st = m.stats
    assert st["elements_used"] == 2
    assert st["inactive_leaves"] >= 1 and st["inactive_samples"] > 0
    kinds = [r["kind"] for r in m.nodes()]
    assert kinds.count("leaf") == 2 and kinds.count("inactive") == m.n_leaves - 2
    # inactive leaves do not learn: learned + inactive = all samples
    assert st["learned"] + st["inactive_samples"] == len(y)


def test_count_saturation_freezes_a_leaf():
    m = QuantileHoeffdingTree(Config(numeric_attributes=1, numeric_ranges=[[0, 1]],
                                     count_bits=8, grace_period=255, max_depth=0,
                                     max_leaves=1, elements=1))
    x = np.linspace(0, 1, 300).reshape(-1, 1)
    m.partial_fit(x, (x[:, 0] > 0.5).astype(int))
    st = m.stats
    assert st["learned"] == 255 and st["frozen_samples"] == 45
    assert m._elem[N][0] == 255


def test_pure_leaf_does_not_try():
    m = QuantileHoeffdingTree(Config(numeric_attributes=1, grace_period=10))
    m.partial_fit(np.zeros((100, 1)), np.zeros(100, int))
    assert m.stats["trials_skipped_pure"] == 10 and m.stats["split_trials"] == 0


@pytest.mark.parametrize("number", ["fixed", "float"])
def test_categorical_split(number):
    rng = np.random.default_rng(1)
    c = rng.integers(0, 4, size=3000)
    x = np.column_stack([rng.uniform(-1, 1, 3000), c])
    y = (c == 2).astype(int)
    m = QuantileHoeffdingTree(Config(numeric_attributes=1, categorical_values=[4],
                                     grace_period=100, number=number))
    m.partial_fit(x, y)
    root = m.nodes()[0]
    assert root["kind"] == "categorical" and root["value"] == 2
    assert (m.predict(x[:200]) == y[:200]).all()


def test_determinism(elec):
    a = QuantileHoeffdingTree(elec.config())
    b = QuantileHoeffdingTree(elec.config())
    pa = a.prequential(elec.features, elec.labels)
    pb = b.prequential(elec.features, elec.labels)
    assert (pa == pb).all()
    assert a.to_json() == b.to_json()


@pytest.mark.parametrize("rule", ["range", "centre", "first"])
def test_float_and_fixed_agree_on_electricity(elec, rule):
    acc = {}
    for number in ("float", "fixed"):
        m = QuantileHoeffdingTree(elec.config(number=number, initial_quantiles=rule))
        p = m.prequential(elec.features, elec.labels)
        acc[number] = 100 * np.mean(p == np.array([m.label_index(v) for v in elec.labels]))
    assert abs(acc["float"] - acc["fixed"]) <= 0.3, acc


def test_predict_does_not_learn(elec):
    m = QuantileHoeffdingTree(elec.config())
    m.partial_fit(elec.features[:5000], elec.labels[:5000])
    before = m.to_json()
    m.predict(elec.features[5000:6000])
    m.predict_one(dict(zip(elec.numeric_names, elec.numeric[0], strict=True)))
    assert m.to_json() == before


@pytest.mark.parametrize("number", ["fixed", "float"])
def test_inherited_counts_are_the_sides_of_the_split(number):
    cfg = Config(numeric_attributes=2, classes=[0, 1], grace_period=100, number=number,
                 inherit_counts=True, max_depth=1, split_delay=0)
    m = QuantileHoeffdingTree(cfg)
    x, y = threshold_stream()
    for i in range(len(y)):
        before = m._elem[CNT][0].copy()
        m.partial_fit(x[i:i + 1], y[i:i + 1])
        if m.n_leaves == 2:
            break
    root = m.nodes()[0]
    left, right = (m._tree[4][root[s]] for s in ("left", "right"))
    parent = before + np.bincount(y[i:i + 1], minlength=2)
    got_l, got_r = m._elem[CNT][left], m._elem[CNT][right]
    assert (got_l + got_r == parent).all()
    assert got_l[0] > got_l[1] and got_r[1] > got_r[0]
    assert m._elem[N][left] == got_l.sum()


@pytest.mark.parametrize("delay", [1, 37])
def test_a_split_is_applied_split_delay_samples_after_its_trial(delay):
    cfg = Config(numeric_attributes=2, classes=[0, 1], grace_period=100, max_depth=1,
                 split_delay=delay)
    m = QuantileHoeffdingTree(cfg)
    x, y = threshold_stream()
    trial_at = None
    for i in range(len(y)):
        parent_n = m._elem[N][0] + 1
        m.partial_fit(x[i:i + 1], y[i:i + 1])
        if trial_at is None and m._pending[0][0]:
            trial_at, n_at_trial = i, parent_n
            assert m._pending[0][1] == i + delay + 1  # commit before sample i + delay + 1
        if m.n_leaves == 2:
            break
    # the split went in after sample trial_at + delay, the last one the old leaf learned
    assert i == trial_at + delay
    root = m.nodes()[0]
    children_n = [m._elem[N][m._tree[4][root[s]]] for s in ("left", "right")]
    assert sum(children_n) == n_at_trial  # the trial's snapshot, not the later samples
    assert m.stats["splits"] == 1


def test_a_trial_due_while_another_is_pending_is_postponed():
    cfg = Config(numeric_attributes=2, classes=[0, 1], grace_period=20, split_delay=100)
    m = QuantileHoeffdingTree(cfg)
    x, y = threshold_stream(3000)
    m.partial_fit(x, y)
    st = m.stats
    assert st["trials_postponed"] > 0
    assert st["split_trials"] < st["learned"] // cfg.grace_period
    immediate = QuantileHoeffdingTree(cfg.replace(split_delay=0))
    immediate.partial_fit(x, y)
    assert immediate.stats["trials_postponed"] == 0


def test_a_query_does_not_apply_a_pending_split():
    cfg = Config(numeric_attributes=2, classes=[0, 1], grace_period=100, max_depth=1,
                 split_delay=500)
    m = QuantileHoeffdingTree(cfg)
    x, y = threshold_stream()
    for i in range(len(y)):
        m.partial_fit(x[i:i + 1], y[i:i + 1])
        if m._pending[0][0] and m._pending[0][5]:
            break
    before = m.to_json()
    m.predict(x[:1000])  # queries are not stream samples: the split stays pending
    assert m.to_json() == before and m.n_leaves == 1
