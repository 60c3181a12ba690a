import os

import pytest

from hardodt.streams import bundled_electricity

# The test run builds some twenty-five simulators for short streams: compiling them without
# C++ optimisation (Verilator's default is -Os) saves more time than the slower simulation
# costs (a 2,500-sample co-simulation: 28 s instead of 39 s here). Benchmarks keep -Os.
if "OPT_FAST" not in os.environ.get("MAKEFLAGS", ""):
    os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "")
                               + " OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0").strip()


@pytest.fixture(scope="session")
def elec():
    return bundled_electricity()
