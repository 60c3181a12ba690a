"""``benchmarks/lane_hazard.py``: how often two samples in a row update the same estimates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from hardodt.streams import Stream


def _script():
    spec = importlib.util.spec_from_file_location(
        "lane_hazard", Path(__file__).parent.parent / "benchmarks" / "lane_hazard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stream(labels, values=None):
    n = len(labels)
    values = np.linspace(0.0, 1.0, n) if values is None else np.asarray(values, float)
    return Stream(name="t", numeric=values.reshape(n, 1), categorical=np.zeros((n, 0), np.int64),
                  labels=np.array(labels), numeric_names=["x"], classes=["a", "b"])


def test_one_leaf_counts_class_repeats_only():
    """No split before the grace period: every pair shares the root; the class decides."""
    same = _script().same_update_fraction
    labels = ["a", "a", "b", "b", "a", "b", "b", "b", "a"]  # 4 of 8 pairs repeat a class
    s = _stream(labels)
    assert same(s, s.config()) == (1.0, 0.5)
    alternating = _stream(["a", "b"] * 20)
    assert same(alternating, alternating.config()) == (1.0, 0.0)


def test_a_split_separates_leaves():
    """Classes alternate with sides of 0.5: pairs share the root until it splits there, then
    never a leaf; never a class."""
    same = _script().same_update_fraction
    n = 4000
    values = np.where(np.arange(n) % 2 == 0, 0.1, 0.9) + np.random.default_rng(1).uniform(
        -0.05, 0.05, n)
    s = _stream(["a" if v < 0.5 else "b" for v in values], values)
    cfg = s.config(grace_period=50, split_delay=0, tau=0.5)
    leaf, both = same(s, cfg)
    assert both == 0.0
    assert 0.0 < leaf < 0.1  # the root's samples, until the split (a few hundred in)


def test_too_short_a_stream_is_refused():
    s = _stream(["a"])
    with pytest.raises(ValueError, match="at least two samples"):
        _script().same_update_fraction(s, s.config())
