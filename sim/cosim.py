"""Co-simulation of the whole learner against the golden model (Verilator + cocotb).

``cosimulate`` writes the encoded stream next to the generated Verilog, runs
``sim.hardodt_bench`` on it and returns the bench's report (agreement, cycles
per sample, latency, simulation speed). A mismatch raises
:class:`~sim.runner.SimulationError` after the report is written, so callers can
still show the first disagreement.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hardodt.config import Config
from rtl.hardodt import HardODT
from sim.runner import SimulationError, run_bench

__all__ = ["cosimulate", "CosimulationMismatch", "encode_stream", "run_stream_bench"]


def encode_stream(config: Config, stream):
    """``(xn, xc, y)``: a stream's samples as the hardware takes them (the golden model's encoder,
    which refuses bad values before anything is built)."""
    from reference import QuantileHoeffdingTree

    model = QuantileHoeffdingTree(config)
    xn, xc = model._encode_rows(stream.features)
    return xn, xc, model._label_indices(stream.labels)


class CosimulationMismatch(SimulationError):
    """The hardware and the golden model disagree; ``report`` says where."""

    def __init__(self, message: str, report: dict) -> None:
        super().__init__(message)
        self.report = report


#: Samples beyond which the model is built optimised (``sim.runner``). The break-even on the
#: ten-class design measured there is about 50,000 (118 s more to compile, 2.3 ms less per
#: sample); below it, so that whole streams (`hardodt simulate` on Electricity's 45,312
#: samples) keep the build they were timed with, and the test cases (at most 4,000) do not.
LONG_STREAM = 20_000
#: Cycles of a pause (the model alone runs them, without the bench) that want it optimised too.
LONG_PAUSE = 100_000


def cosimulate(config: Config, xn, xc, y, learn=None, *, build_dir: Path, gap: float = 0.0,
               stall: float = 0.0, seed: int = 1, waves: bool = False, stage=None,
               progress=None, resets=(), pause: tuple[int, int] | None = None,
               preload=None) -> dict:
    """Run the stream through the generated design and the golden model; return the report.

    ``resets``: sample indices where the design is reset, as soon as the sample before
    is taken (whatever is in flight): from there on it must agree with a fresh golden
    model, and the predictions in flight are counted as ``dropped``. ``pause``:
    ``(k, n)`` holds the input for ``n`` cycles before sample ``k``. ``preload``: a golden
    model the design starts from (``rtl.preload``); the stream continues it.
    """
    env = {"BENCH_GAP": str(gap), "BENCH_STALL": str(stall), "BENCH_SEED": str(seed),
           "BENCH_RESETS": ",".join(str(int(k)) for k in resets),
           "BENCH_PAUSE": "{}:{}".format(*(pause or (0, 0)))}
    long_pause = pause is not None and pause[1] > LONG_PAUSE
    return run_stream_bench(HardODT(config, preload=preload), "hardodt", "sim.hardodt_bench", config,
                            xn, xc, y, learn, build_dir=build_dir, env=env, preload=preload,
                            waves=waves, stage=stage, progress=progress, long_run=long_pause)


def run_stream_bench(top, name: str, bench: str, config: Config, xn, xc, y, learn, *,
                     build_dir: Path, env: dict[str, str], preload=None, waves: bool = False,
                     stage=None, progress=None, report_required: bool = True,
                     long_run: bool = False) -> dict:
    """Write the encoded stream (and a preloaded model) beside the design, run ``bench`` on
    ``top`` and return its report (``{}`` when none is required and none was written); a
    failure with a report raises :class:`CosimulationMismatch` carrying it. ``long_run``:
    build an optimised model (``sim.runner.run_bench``), as for any stream longer than
    :data:`LONG_STREAM`."""
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    n = len(y)
    if learn is None:
        learn = np.ones(n, dtype=bool)
    xc = np.asarray(xc, dtype=np.int64).reshape(n, config.n_categorical)
    np.savez(build_dir / "stream.npz", xn=np.asarray(xn, dtype=np.int64), xc=xc,
             y=np.asarray(y, dtype=np.int64), learn=np.asarray(learn, dtype=bool))
    report_path = build_dir / "report.json"
    report_path.unlink(missing_ok=True)
    env = {"HARDODT_STREAM": str(build_dir / "stream.npz"), "HARDODT_REPORT": str(report_path),
           **env}
    if preload is not None:  # the design starts from it; the bench's golden model too
        preload.save(build_dir / "preload.json")
        env["HARDODT_PRELOAD"] = str(build_dir / "preload.json")
    try:
        run_bench(top, name, config, bench, build_dir, extra_env=env, waves=waves, stage=stage,
                  progress=progress, long_run=long_run or n > LONG_STREAM)
    except SimulationError as exc:
        if report_path.is_file():
            raise CosimulationMismatch(str(exc), json.loads(report_path.read_text())) from None
        raise
    if not report_required and not report_path.is_file():
        return {}
    return json.loads(report_path.read_text())
