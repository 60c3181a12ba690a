"""Fuzzed agreement: random valid configurations and streams, bit-exact or a failure.

A few examples with a fixed seed (``sim.fuzz.cases``: attributes, classes, Q, P,
E, depth, lanes, word and counter widths, n_min, the trial options, random
input gaps and back-pressure); ``benchmarks/fuzz.py`` runs hundreds. A failure
found there becomes a fixed case below.
"""

import tempfile
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, seed  # noqa: E402

from sim.fuzz import cases, fuzz_settings, run_case  # noqa: E402

pytestmark = pytest.mark.sim


@seed(20261129)
@fuzz_settings(2)
@given(case=cases(max_samples=1500))
def test_random_configurations_agree_with_the_golden_model(case):
    with tempfile.TemporaryDirectory(prefix="hardodt-fuzz-") as tmp:
        report = run_case(case, Path(tmp))
    assert report["samples"] == len(case.stream) - case.preload_at
    assert report["mismatches"] == 0 and report["tree_agrees"]
    assert report["stats_hardware"] == report["stats_golden"]
