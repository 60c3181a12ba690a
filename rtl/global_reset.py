"""``global_reset``: a reset that reaches thousands of flip-flops, on a global network.

The learner's reset reaches every flip-flop that has one (13,311 on the ULX3S-85F
board's default design, each slice's ``LSR``). nextpnr promotes only clocks to the
ECP5's global networks, so without a global buffer that one net is routed through
general routing into every slice, where the placement is densest. A ``DCCA`` in
front of it puts it on a global; nextpnr routes the few users that are not an
``LSR`` (LUT inputs) from there too. Other families are left alone (simulation has no
platform; nextpnr-ice40 promotes resets itself). Used by the boards that ask for it
(``hardodt.boards.BoardSpec.global_reset``: the ULX3S-85F; on the 25F nextpnr could not
route a net into the buffer), not by ``hardodt pnr``'s pin shell: there it made router2
worse.
"""

from __future__ import annotations

from amaranth.hdl import Instance, Module, Signal

__all__ = ["global_reset"]


def global_reset(m: Module, family: str | None, reset, name: str = "rst") -> Signal:
    """``reset`` through a global buffer where ``family`` has one for it (``"ecp5"``),
    else ``reset`` itself."""
    if family != "ecp5":
        return reset
    buffered = Signal(name=f"{name}_global")
    m.submodules[f"{name}_dcc"] = Instance("DCCA", i_CLKI=reset, i_CE=1, o_CLKO=buffered)
    return buffered
