"""Copies of a register, kept apart so that each can sit next to its own loads.

A register read by loads spread over the device reaches them through one long net,
and that wire adds to the logic after it. Copies loaded with the same value, one
per group of loads, move the long wire in front of the copies (a register to a
register) and leave each group a short one. Synthesis would merge registers with
the same input again (yosys ``opt_merge``): their names carry :data:`COPY_MARK`,
and the synthesis script (``hardodt.synthesis.yosys_script``) marks the
flip-flops behind such names ``keep`` (also when a copy drives a port or a memory's
address directly and the Verilog names the register after that: ``%a``).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal

__all__ = ["COPY_MARK", "registered_copies"]

COPY_MARK = "__copy"


def registered_copies(m: Module, value, n: int, name: str) -> list[Signal]:
    """``n`` registers loaded with ``value`` every cycle (what a register of ``value``
    holds, ``n`` times), named ``{name}__copy{k}`` so synthesis keeps them apart."""
    copies = [Signal.like(value, name=f"{name}{COPY_MARK}{k}") for k in range(n)]
    m.d.sync += [c.eq(value) for c in copies]
    return copies
