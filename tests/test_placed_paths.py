"""The placed-path estimate (``hardodt.placed_paths``) on a hand-made placed netlist."""

import json

import pytest

from hardodt.placed_paths import analyse, main, trace, wire_delay


def _cell(kind, bel, ports, params=None, src=""):
    return {"type": kind, "attributes": {"NEXTPNR_BEL": bel, "src": src},
            "parameters": params or {},
            "port_directions": {p: d for p, (d, _b) in ports.items()},
            "connections": {p: [b] for p, (_d, b) in ports.items()}}


def _netlist():
    # a flip-flop through two LUTs (the second far away) into a flip-flop, then a
    # neighbouring flip-flop, and a long wire back to the first
    cells = {
        "ff_a": _cell("TRELLIS_FF", "X1/Y1/SLICEA.FF0", {"Q": ("output", 1), "DI": ("input", 9)},
                      src="/x/rtl/a.py:10"),
        "lut1": _cell("TRELLIS_COMB", "X2/Y1/SLICEA.K0", {"A": ("input", 1), "F": ("output", 2)},
                      {"MODE": "LOGIC"}, "/x/rtl/b.py:20"),
        "lut2": _cell("TRELLIS_COMB", "X30/Y1/SLICEA.K0", {"B": ("input", 2), "F": ("output", 3)},
                      {"MODE": "LOGIC"}),
        "ff_b": _cell("TRELLIS_FF", "X30/Y1/SLICEA.FF0", {"DI": ("input", 3), "Q": ("output", 4)},
                      src="/x/rtl/c.py:30"),
        "ff_c": _cell("TRELLIS_FF", "X30/Y2/SLICEA.FF0", {"DI": ("input", 4), "Q": ("output", 9)}),
    }
    return {"modules": {"top": {"attributes": {"top": "1"}, "cells": cells}}}


def test_the_slowest_endpoint_is_traced_through_its_cells():
    ends, ctx = analyse(_netlist())
    slowest = ends[0]
    assert slowest[1:3] == ("ff_b", "DI")
    # clock to output, a wire of one tile, a LUT, a wire of 28 tiles, a LUT, the slice's
    # own path into the flip-flop
    want = 0.52 + wire_delay((1, 1, "SLICEA"), (2, 1, "SLICEA"), "Q", "A") + 0.24 \
        + wire_delay((2, 1, "SLICEA"), (30, 1, "SLICEA"), "F", "B") + 0.24 + 0.0
    assert slowest[0] == pytest.approx(want)
    assert [step[0] for step in trace(slowest, ctx)] == ["ff_a", "lut1", "lut2", "ff_b"]
    # then the long wire back (ff_c to ff_a), last the neighbours (ff_b to ff_c)
    assert [e[1] for e in ends] == ["ff_b", "ff_a", "ff_c"]


def test_long_wires_cost_less_per_tile_than_short_ones():
    near = wire_delay((0, 0, "SLICEA"), (2, 0, "SLICEA"), "F", "A")
    far = wire_delay((0, 0, "SLICEA"), (40, 0, "SLICEA"), "F", "A")
    assert near < far < 20 * near
    assert wire_delay((0, 0, "SLICEA"), (0, 0, "SLICEA"), "FCO", "FCI") == 0.0


def test_an_unplaced_netlist_is_refused_with_a_message(tmp_path, capsys):
    net = _netlist()
    for cell in net["modules"]["top"]["cells"].values():
        del cell["attributes"]["NEXTPNR_BEL"]
    path = tmp_path / "synth.json"
    path.write_text(json.dumps(net))
    assert main([str(path)]) == 2
    assert "not a placed netlist" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.json")]) == 2
