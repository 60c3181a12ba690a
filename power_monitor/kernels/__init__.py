"""The monitored designs: open kernels of different character, and the learner itself.

Each kernel is a ``wiring.Component`` with the same three ports, so one workload
generator drives them all: ``valid`` (a new input this cycle), ``data`` (the
input word, ``lanes`` lanes of ``lane_bits`` bits, then ``extra_bits`` flags, then a
``mode`` bit for kernels that have one) and ``result``. Every
register reaches ``result`` (directly or through a read-out multiplexer): logic
whose value goes nowhere would be removed by synthesis and draw no power.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amaranth.lib import wiring

__all__ = ["KERNELS", "KernelInfo", "kernel"]


@dataclass(frozen=True)
class KernelInfo:
    name: str
    make: Callable[[], wiring.Component]
    lanes: int  # the data word is `lanes` lanes of `lane_bits` bits (plus `extra_bits` flags)
    lane_bits: int
    extra_bits: int
    character: str
    mode: str = ""  # what the mode bit (the top data bit) switches; "" for no mode bit


def _registry() -> dict[str, KernelInfo]:
    from power_monitor.kernels.fir import FIR
    from power_monitor.kernels.gemm import SystolicGemm
    from power_monitor.kernels.histogram import Histogram
    from power_monitor.kernels.learner import MonitoredLearner
    from power_monitor.kernels.matvec import MatVec

    infos = [
        KernelInfo("matvec", MatVec, 4, 8, 0, "DSP-heavy: 4 multipliers, weights in block RAM",
                   mode="the weight address held: a dot product against one fixed row"),
        KernelInfo("fir", FIR, 1, 16, 0, "logic-heavy: 8-tap FIR, shift-and-add coefficients"),
        KernelInfo("gemm", SystolicGemm, 6, 8, 0, "3x3 systolic multiply-accumulate array",
                   mode="B held: a product with a constant matrix"),
        KernelInfo("histogram", Histogram, 2, 8, 0,
                   "memory-heavy: 256-bin histogram and a 512-deep delay line in block RAM",
                   mode="the delay line's pointer held: one slot overwritten"),
        KernelInfo("learner", MonitoredLearner, 4, 12, 1, "the hardodt learner itself"),
    ]
    return {k.name: k for k in infos}


KERNELS = _registry()


def kernel(name: str) -> KernelInfo:
    try:
        return KERNELS[name]
    except KeyError:
        raise ValueError(f"no kernel {name!r}; known: {', '.join(KERNELS)}") from None
