"""The board's top level in simulation: the driver against the pins (``sim.board_bench``).

``simulate_board`` builds :class:`rtl.board.LinkedLearner` for a simulated clock
of ``divisor`` cycles per UART bit, runs the stream through the protocol with
the faults asked for, and returns the bench's report; a disagreement raises
:class:`sim.cosim.CosimulationMismatch` with the report attached.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hardodt.config import Config
from rtl.board import LinkedLearner
from sim.cosim import CosimulationMismatch
from sim.runner import SimulationError, run_bench

__all__ = ["simulate_board", "SIM_CLOCK_HZ"]

#: The simulated clock (the bench's 10 ns period).
SIM_CLOCK_HZ = 100_000_000


def simulate_board(config: Config, xn, xc, y, learn=None, *, build_dir: Path, divisor: int = 8,
                   faults: dict | None = None, stage=None, progress=None, waves: bool = False,
                   test: str = "board_stream", stats: str = "all", preload=None) -> dict:
    """Run ``sim.board_bench``'s ``test`` (``board_stream``: the stream through the driver;
    ``protocol_conformance``: crafted frames) and return the report (``board_stream``)."""
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
           "BOARD_DIVISOR": str(divisor), "BOARD_FAULTS": json.dumps(faults or {}),
           "COCOTB_TEST_FILTER": test}
    if preload is not None:  # the board starts from it; the bench's golden model too
        preload.save(build_dir / "preload.json")
        env["HARDODT_PRELOAD"] = str(build_dir / "preload.json")
    top = LinkedLearner(config, clock_hz=SIM_CLOCK_HZ, baud=SIM_CLOCK_HZ // divisor, stats=stats,
                        preload=preload)
    try:
        run_bench(top, "board", config, "sim.board_bench", build_dir, extra_env=env, waves=waves,
                  stage=stage, progress=progress)
    except SimulationError as exc:
        if report_path.is_file():
            raise CosimulationMismatch(str(exc), json.loads(report_path.read_text())) from None
        raise
    return json.loads(report_path.read_text()) if report_path.is_file() else {}
