"""The monitor in hardware: activity counters on the chosen registers feeding a learner.

:class:`MonitoredKernel` wraps a kernel with, per chosen register, a toggle
counter (popcount of the register XOR its last value, summed over a window).
At each window's end the counts become one sample for a hardodt learner,
encoded exactly as the golden model encodes them (each count's range is a
power of two, so the encoding is a shift and a subtraction), with the power
class supplied on ``label`` (from a sensor or a host: the monitor learns
online from it when ``label_valid`` is high) and the predicted class out on
``power_class``. A window whose sample the learner cannot take (it is busy
for a whole window, which a split trial shorter than a window never is) is
counted on ``missed``, not lost silently.

``overhead`` synthesises the kernel alone and with the monitor (``synth_ecp5``:
multipliers in DSP blocks, memories in block RAM) and places and routes both on
an ECP5-85F for the Fmax change.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from amaranth import Cat, Fragment, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hardodt.config import Config

__all__ = ["MonitorError", "MonitoredKernel", "find_registers", "monitorable", "overhead"]


class MonitorError(ValueError):
    """A register cannot be found or counted, or the learner cannot encode its counts."""


def find_registers(fragment: Fragment, names: list[str] | None) -> dict[str, Signal]:
    """The signals a kernel drives, by their netlist name (``a.b.reg``: the submodule path,
    then the signal's name). The netlist may name a flip-flop after a signal that only copies
    the register (``wr.en = valid_1``): the same net, so the same toggles. A name that is not
    there, or is there twice, is refused; ``names=None`` returns every name found once."""
    found: dict[str, list[Signal]] = {}

    def walk(frag: Fragment, path: str) -> None:
        regs: dict[int, Signal] = {}  # Signals are not hashable: keyed by identity
        for stmts in getattr(frag, "statements", {}).values():
            for s in stmts:
                regs.update((id(sig), sig) for sig in s._lhs_signals())
        for sig in regs.values():
            found.setdefault(path + sig.name, []).append(sig)
        for sub, name, *_ in getattr(frag, "subfragments", []):
            walk(sub, f"{path}{name}." if name else path)

    walk(fragment, "")
    if names is None:  # every name the monitor can find
        return {n: hits[0] for n, hits in found.items() if len(hits) == 1}
    out = {}
    for name in names:
        hits = found.get(name, [])
        if len(hits) != 1:
            why = "not a register of the kernel" if not hits else "the name is not unique"
            raise MonitorError(f"register {name!r}: {why}")
        out[name] = hits[0]
    return out


def monitorable(kernel_name: str, registers: list[str]) -> list[str]:
    """The registers of a kernel the monitor can find by name (a name two signals of one
    module share is left out: the netlist's name says not which of them it is)."""
    from power_monitor.kernels import kernel

    found = find_registers(Fragment.get(kernel(kernel_name).make(), None), None)
    return [r for r in registers if r in found]


class MonitoredKernel(wiring.Component):
    """A kernel (``kernel.make()``) with the activity monitor on ``registers``."""

    def __init__(self, make, registers: list[str], config: Config, *, window: int = 256,
                 positions: list[list[int]] | None = None):
        if window < 2 or window & (window - 1):
            raise MonitorError(f"the window must be a power of two cycles, got {window}")
        if len(registers) != config.n_numeric or config.n_categorical:
            raise MonitorError("the learner needs one numeric attribute per monitored register")
        from rtl.hardodt import HardODT

        self.kernel = make()
        self.learner = HardODT(config)
        self.monitored: dict[str, Signal] = {}  # the kernel's registers, once elaborated
        self.registers = list(registers)
        if positions is not None and len(positions) != len(self.registers):
            raise MonitorError("one list of bit positions per register, or none")
        self.positions = positions  # the bits counted (those the netlist keeps as flip-flops)
        self.config = config
        self.window = window
        sig = self.kernel.signature.members
        cls_bits = max(1, (config.n_classes - 1).bit_length())
        super().__init__({
            "valid": In(sig["valid"].shape), "data": In(sig["data"].shape),
            "result": Out(sig["result"].shape),
            "label": In(cls_bits), "label_valid": In(1),
            "power_class": Out(cls_bits), "class_valid": Out(1), "missed": Out(16),
        })

    def elaborate(self, platform):
        m = Module()
        frag = Fragment.get(self.kernel, platform)
        regs = self.monitored = find_registers(frag, self.registers)
        m.submodules.kernel = frag
        m.d.comb += [self.kernel.valid.eq(self.valid), self.kernel.data.eq(self.data),
                     self.result.eq(self.kernel.result)]
        cfg = self.config
        frac = cfg.fraction_bits
        m.submodules.learner = learner = self.learner
        tick = Signal(range(self.window))
        m.d.sync += tick.eq(tick + 1)
        end = tick == self.window - 1
        words = []
        for i, name in enumerate(self.registers):
            reg = regs[name]
            bits = list(range(len(reg))) if self.positions is None else self.positions[i]
            if not bits or max(bits) >= len(reg):
                raise MonitorError(f"register {name!r} ({len(reg)} bits) has no bits {bits}")
            width = len(bits)
            lo, hi = cfg.numeric_ranges[i]
            span = hi - lo
            log_span = int(round(math.log2(span))) if span > 0 else -1
            if lo != 0 or 2 ** log_span != span or span < width * self.window:
                raise MonitorError(f"attribute {i} must range over [0, 2^k] with 2^k >= "
                                   f"{width * self.window} toggles, got [{lo}, {hi}]")
            shift = frac + 1 - log_span
            if shift < 0:
                raise MonitorError(f"register {name!r}: {width} bits x {self.window} cycles need "
                                   f"more than {frac} fraction bits to encode exactly")
            safe = re.sub(r"\W", "_", name)
            prev = Signal(len(reg), name=f"prev_{safe}")
            count = Signal(range(width * self.window + 1), name=f"count_{safe}")
            changed = reg ^ prev
            toggles = sum(changed[b] for b in bits)
            m.d.sync += prev.eq(reg)
            total = Signal.like(count, name=f"total_{safe}")  # this window's toggles so far
            m.d.comb += total.eq(count + toggles)
            with m.If(end):
                m.d.sync += count.eq(0)
            with m.Else():
                m.d.sync += count.eq(total)
            word = Signal(cfg.word_bits, name=f"word_{safe}")
            with m.If(end):
                m.d.sync += word.eq((total << shift) - (1 << frac))
            words.append(word)
        pending, missed = Signal(), Signal(16)
        label, learn = Signal.like(self.label), Signal()
        with m.If(end):
            m.d.sync += [pending.eq(1), label.eq(self.label), learn.eq(self.label_valid)]
            with m.If(pending & ~learner.samples.ready):
                m.d.sync += missed.eq(missed + 1)
        with m.Elif(learner.samples.ready):
            m.d.sync += pending.eq(0)
        p = learner.samples.payload
        m.d.comb += [learner.samples.valid.eq(pending), p.x.eq(Cat(*words)), p.label.eq(label),
                     p.learn.eq(learn), learner.predictions.ready.eq(1), self.missed.eq(missed)]
        m.d.sync += self.class_valid.eq(learner.predictions.valid)
        with m.If(learner.predictions.valid):
            m.d.sync += self.power_class.eq(learner.predictions.payload.label)
        return m


def overhead(kernel_name: str, registers: list[str], config: Config, build_dir: Path, *,
             window: int = 256, positions: list[list[int]] | None = None, pnr: bool = True,
             router: str | None = None, placer: str | None = None, placement: str | None = None,
             progress=None, router_patience: int | None = None) -> dict:
    """Resources (``synth_ecp5``) and, with ``pnr``, Fmax on an LFE5U-85F of the kernel alone
    and with the monitor; the overhead in percent of the kernel alone. ``router``,
    ``placer``, ``placement``: :func:`hardodt.pnr.place_and_route`'s, its defaults unless given."""
    from hardodt.pnr import place_and_route
    from hardodt.synthesis import synthesize
    from power_monitor.kernels import kernel

    info = kernel(kernel_name)
    build_dir = Path(build_dir)
    # a fresh design for each tool run (each elaborates it)
    designs = {"kernel": info.make,
               "monitored": lambda: MonitoredKernel(info.make, registers, config, window=window,
                                                    positions=positions)}
    out: dict = {}
    for label, make in designs.items():
        if progress:
            progress(f"{kernel_name}: synthesising the {label} design")
        syn = synthesize(config, "ecp5", build_dir / label, top=make(), progress=progress)
        row = {k: getattr(syn, k) for k in ("lut", "ff", "bram", "dsp")}
        if pnr:
            if progress:
                progress(f"{kernel_name}: placing and routing the {label} design")
            res = place_and_route(config, "lfe5u-85f", build_dir / f"{label}-pnr",
                                  top=make(), progress=progress, router=router,
                                  placer=placer, placement=placement,
                                  **({} if router_patience is None else
                                                    {"router_patience": router_patience}))
            row["fmax_mhz"] = res.fmax_mhz
        out[label] = row
    base, mon = out["kernel"], out["monitored"]
    out["overhead_pct"] = {k: (round(100.0 * (mon[k] - base[k]) / base[k], 2) if base[k] else None)
                           for k in ("lut", "ff", "bram", "dsp")}
    out["added"] = {k: mon[k] - base[k] for k in ("lut", "ff", "bram", "dsp")}
    if pnr:
        out["fmax_change_pct"] = round(100.0 * (mon["fmax_mhz"] - base["fmax_mhz"])
                                       / base["fmax_mhz"], 2)
    return out
