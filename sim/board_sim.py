"""The board's top level in simulation: the driver against the pins (``sim.board_bench``).

``simulate_board`` builds :class:`rtl.board.LinkedLearner` for a simulated clock
of ``divisor`` cycles per UART bit, runs the stream through the protocol with
the faults asked for, and returns the bench's report; a disagreement raises
:class:`sim.cosim.CosimulationMismatch` with the report attached.
"""

from __future__ import annotations

import json
from pathlib import Path

from hardodt.config import Config
from rtl.board import LinkedLearner
from sim.cosim import run_stream_bench

__all__ = ["simulate_board", "SIM_CLOCK_HZ"]

#: The simulated clock (the bench's 10 ns period).
SIM_CLOCK_HZ = 100_000_000


def simulate_board(config: Config, xn, xc, y, learn=None, *, build_dir: Path, divisor: int = 8,
                   faults: dict | None = None, stage=None, progress=None, waves: bool = False,
                   test: str = "board_stream", stats: str = "all", preload=None,
                   load: bool = True, load_tree=None, load_at: int = 0) -> dict:
    """Run ``sim.board_bench``'s ``test`` (``board_stream``: the stream through the driver;
    ``protocol_conformance``: crafted frames) and return the report (``board_stream``).
    ``preload``: the tree the design is built with; ``load_tree``: a tree the driver loads
    over the link (LOAD) after the first ``load_at`` samples; ``load``: the link takes LOAD."""
    env = {"BOARD_DIVISOR": str(divisor), "BOARD_FAULTS": json.dumps(faults or {}),
           "COCOTB_TEST_FILTER": test}
    if load_tree is not None:
        build_dir = Path(build_dir)
        build_dir.mkdir(parents=True, exist_ok=True)
        load_tree.save(build_dir / "load.json")
        env.update(HARDODT_LOAD=str((build_dir / "load.json").resolve()), BOARD_LOAD_AT=str(load_at))
    top = LinkedLearner(config, clock_hz=SIM_CLOCK_HZ, baud=SIM_CLOCK_HZ // divisor, stats=stats,
                        preload=preload, load=load)
    return run_stream_bench(top, "board", "sim.board_bench", config, xn, xc, y, learn,
                            build_dir=build_dir, env=env, preload=preload, waves=waves, stage=stage,
                            progress=progress, report_required=test == "board_stream",
                            long_run=True)  # the UART: hundreds of cycles a sample, run in C++
