"""The JSON export resumes learning exactly; the renderings show the tree."""

import doctest
import json

import numpy as np
import pytest

import reference.tree
from hardodt import InputError, QuantileHoeffdingTree
from hardodt.streams import generate


@pytest.mark.parametrize("number", ["fixed", "float"])
@pytest.mark.parametrize("rule", ["range", "first"])
def test_a_reloaded_model_continues_exactly(elec, tmp_path, number, rule):
    cfg = elec.config(number=number, initial_quantiles=rule, elements=8)
    half = 20_000
    a = QuantileHoeffdingTree(cfg)
    a.prequential(elec.features[:half], elec.labels[:half])
    path = tmp_path / "tree.json"
    a.save(path)
    b = QuantileHoeffdingTree.load(path)
    assert b.to_json() == a.to_json()
    pa = a.prequential(elec.features[half:], elec.labels[half:])
    pb = b.prequential(elec.features[half:], elec.labels[half:])
    assert (pa == pb).all()
    assert a.to_json() == b.to_json()
    assert a.n_leaves > 8  # some leaves are inactive: the export covers them too


def test_categorical_round_trip(tmp_path):
    s = generate("agrawal", 6000, seed=2)
    a = QuantileHoeffdingTree(s.config())
    a.prequential(s.features[:3000], s.labels[:3000])
    b = QuantileHoeffdingTree.from_json(json.loads(json.dumps(a.to_json())))
    assert (a.prequential(s.features[3000:], s.labels[3000:])
            == b.prequential(s.features[3000:], s.labels[3000:])).all()


def test_bad_tree_files(tmp_path):
    p = tmp_path / "t.json"
    p.write_text("{")
    with pytest.raises(InputError, match="not JSON"):
        QuantileHoeffdingTree.load(p)
    p.write_text('{"format": "other"}')
    with pytest.raises(InputError, match="not a hardodt tree"):
        QuantileHoeffdingTree.load(p)
    good = QuantileHoeffdingTree().to_json()
    good["state"]["quantiles"] = [[1, 2]]
    with pytest.raises(InputError, match="does not fit its configuration"):
        QuantileHoeffdingTree.from_json(good)


def test_text_and_dot(elec):
    m = QuantileHoeffdingTree(elec.config())
    m.prequential(elec.features[:5000], elec.labels[:5000])
    text = m.to_text()
    leaves = [r for r in m.nodes() if r["kind"] in ("leaf", "inactive")]
    assert text.count("->") == len(leaves) == m.n_leaves
    dot = m.to_dot()
    assert dot.startswith("digraph") and dot.count("->") == 2 * (m.n_nodes - m.n_leaves)


def test_thresholds_are_shown_in_user_units(elec):
    m = QuantileHoeffdingTree(elec.config())
    m.prequential(elec.features[:5000], elec.labels[:5000])
    root = m.nodes()[0]
    lo, hi = m.config.numeric_ranges[root["attribute_index"]]
    assert lo < root["threshold_value"] < hi
    one = m.config.fixed.one
    assert np.isclose(root["threshold_value"], lo + (root["threshold"] / one + 1) * (hi - lo) / 2)


def test_docstring_examples():
    assert doctest.testmod(reference.tree).failed == 0


def test_a_version_1_file_loads_with_no_pending_trial(tmp_path):
    from hardodt import Config, QuantileHoeffdingTree

    m = QuantileHoeffdingTree(Config(grace_period=20, split_delay=0))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (500, 2))
    m.partial_fit(x, (x[:, 0] > 0.1).astype(int))
    data = m.to_json()
    data["version"] = 1
    del data["state"]["pending"]
    old = QuantileHoeffdingTree.from_json(data)
    assert old.nodes() == m.nodes() and not old._pending[0][0]


def test_a_pending_split_survives_save_and_load(tmp_path):
    from hardodt import Config, QuantileHoeffdingTree

    cfg = Config(grace_period=20, split_delay=50)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (3000, 2))
    y = (x[:, 0] > 0.1).astype(int)
    a = QuantileHoeffdingTree(cfg)
    for i in range(len(y)):
        a.partial_fit(x[i:i + 1], y[i:i + 1])
        if a._pending[0][0] and a._pending[0][5]:
            break
    path = tmp_path / "t.json"
    a.save(path)
    b = QuantileHoeffdingTree.load(path)
    rest = slice(i + 1, None)
    assert (a.prequential(x[rest], y[rest]) == b.prequential(x[rest], y[rest])).all()
    assert a.to_json() == b.to_json() and a.stats["splits"] >= 1
