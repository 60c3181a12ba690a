"""A unit of the learner alone behind a few pins (``rtl.unit_shell``), for ``hardodt pnr
--unit``: every port kept, the learner's constant inputs tied, bad names refused."""

import re
from pathlib import Path

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from hardodt import Config
from hardodt.cli import main
from rtl import HardwareParams
from rtl.unit_shell import UNITS, UnitShell, unit

DATA = Path(__file__).parent / "data"

# a design with every unit: numeric and categorical attributes, more than one lane
EVERY_UNIT = dict(numeric_attributes=2, lanes=2, categorical_values=[3], classes=3,
                  elements=16, max_leaves=16, max_depth=4)


class Mixer(wiring.Component):
    """A stand-in unit: three outputs of two inputs, one input tied by the shell."""

    def __init__(self):
        super().__init__({"a": In(4), "b": In(3), "load_en": In(1),
                          "sum": Out(5), "both": Out(7), "en": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.sum.eq(self.a + self.b), self.both.eq(self.a | (self.b << 4)),
                     self.en.eq(self.load_en)]
        return m


@pytest.mark.parametrize("chain_bits", [512, 4])
def test_the_shell_shifts_every_input_in_and_every_output_out(chain_bits):
    bare = Mixer()
    assert UnitShell.port_bits(bare) == (8, 13)
    bare._MustUse__silence = True  # (counted, not built)
    left_out = UnitShell(Mixer(), tied={"load_en": 1}, unused=("both",))
    assert UnitShell.port_bits(left_out.unit, ("load_en", "both")) == (7, 6)
    # no output register takes it
    assert re.search(r"wire width 6 \\shift_out0\n", rtlil.convert(left_out))
    dut = UnitShell(Mixer(), tied={"load_en": 1}, chain_bits=chain_bits)
    assert UnitShell.port_bits(dut.unit, dut.tied) == (7, 13)
    # cut into chains of at most chain_bits, a pin each
    assert (len(dut.sin), len(dut.sout)) == ((1, 1) if chain_bits == 512 else (2, 4))
    a, b = 0b1011, 0b110
    bits = [(a >> i) & 1 for i in range(4)] + [(b >> i) & 1 for i in range(3)]
    chains_in = [bits[k:k + chain_bits] for k in range(0, len(bits), chain_bits)]
    longest = max(map(len, chains_in))
    seen = [[] for _ in range(len(dut.sout))]

    async def bench(ctx):
        # the last bit shifted into a chain ends at its bottom: its first bit last
        for t in range(longest):
            for k, chain in enumerate(chains_in):
                j = longest - 1 - t
                ctx.set(dut.sin[k], chain[j] if j < len(chain) else 0)
            await ctx.tick()
        ctx.set(dut.load, 1)
        await ctx.tick()
        ctx.set(dut.load, 0)
        for _ in range(min(13, chain_bits)):
            for k in range(len(dut.sout)):
                seen[k].append(ctx.get(dut.sout[k]))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    flat = [bit for k in range(len(seen)) for bit in seen[k][:min(chain_bits, 13 - k * chain_bits)]]
    out = sum(bit << i for i, bit in enumerate(flat))
    assert out & 0b11111 == a + b
    assert (out >> 5) & 0x7F == a | (b << 4)
    assert out >> 12 == 1  # the tied input's constant reaches the unit


def test_every_unit_builds_in_its_shell_with_the_learners_constants_tied():
    p = HardwareParams(Config(**EVERY_UNIT))
    for name in UNITS:
        built = unit(p, name)
        shell = UnitShell(built)
        ins, outs = UnitShell.port_bits(built, (*shell.tied, *shell.unused))
        assert ins > 0 and outs > 0, name
        if "load_en" in built.signature.members:  # no run-time loads, as in `hardodt pnr`
            assert shell.tied["load_en"] == 0 and shell.tied["load_data"] == 0, name
        assert name != "trial" or shell.tied == {"preset": 0, "preset_state": 0}
        # a registered lane's row after the update is read by nothing but its snapshot
        assert shell.unused == (("updated",) if name == "lane" else ()), name
        text = rtlil.convert(shell)
        assert "shift_in0" in text and "shift_out0" in text, name


def test_a_unit_the_design_lacks_or_does_not_know_is_refused(tmp_path, capsys):
    p = HardwareParams(Config())  # Electricity: numeric attributes only
    with pytest.raises(ValueError, match="no categorical attribute, so no histogram"):
        unit(p, "histogram")
    with pytest.raises(ValueError, match="unit must be one of lane, trial"):
        unit(p, "lanes")
    with pytest.raises(ValueError, match="'x' is not an input port of the unit"):
        UnitShell(Mixer(), tied={"x": 0})
    with pytest.raises(ValueError, match="'sum' is not an input port"):
        UnitShell(Mixer(), tied={"sum": 0})
    with pytest.raises(ValueError, match="'a' is not an output port"):
        UnitShell(Mixer(), unused=("a",))
    # before any tool runs: the build folder stays empty
    build = tmp_path / "b"
    assert main(["pnr", "--unit", "histogram", "--build-dir", str(build)]) == 2
    assert "no categorical attribute" in capsys.readouterr().err
    assert not build.exists()
    with pytest.raises(SystemExit):
        main(["pnr", "--unit", "lanes"])
    assert "invalid choice: 'lanes'" in capsys.readouterr().err


def test_a_unit_alone_is_placed_on_a_device_the_whole_learner_does_not_fit(tmp_path, monkeypatch):
    """The device check is the whole learner's; a unit alone skips it and says what it is."""
    import types

    import hardodt.pnr as pnr

    monkeypatch.setenv("HARDODT_CACHE", str(tmp_path / "cache"))
    tops = []

    def synthesis(cfg, family, build_dir, **kw):
        tops.append(kw["top"])  # a stored small netlist, stand-in counts
        build_dir.mkdir(parents=True, exist_ok=True)
        (build_dir / "netlist.json").write_text((DATA / "yosys_netlist_ecp5_small_path.json").read_text())
        return types.SimpleNamespace(tool="yosys (stub)", lut=1, ff=1, bram=0, dsp=0, lutram=0)

    def fake_run_tool(command, build_dir, log, step_of, progress, poll=1.0, stop=None):
        log.write_text("Info: Program finished normally.\n")
        (build_dir / "report.json").write_text((DATA / "nextpnr_report_ecp5_small.json").read_text())
        return 0, ""

    monkeypatch.setattr(pnr, "synthesize", synthesis)
    monkeypatch.setattr(pnr, "run_tool", fake_run_tool)
    monkeypatch.setattr(pnr, "tool_command", lambda name: ["nextpnr"])
    with pytest.raises(pnr.PnrError, match="LFE5U-25F: the design needs"):
        pnr.place_and_route(Config(), "LFE5U-25F", tmp_path / "whole")
    res = pnr.place_and_route(Config(), "LFE5U-25F", tmp_path / "lane", unit="lane")
    rtlil.convert(tops[-1])  # (the stand-in synthesis does not build it)
    assert res.unit == "lane" and isinstance(tops[-1], UnitShell)
    assert type(tops[-1].unit).__name__ == "QuantileLane"
    assert pnr.place_and_route(Config(), "LFE5U-25F", tmp_path / "lane", unit="lane").cached
    rtlil.convert(tops[-1])  # (built for the netlist's key, which the stand-in skips)
    with pytest.raises(pnr.PnrError, match="not both"):
        pnr.place_and_route(Config(), "LFE5U-25F", tmp_path / "x", unit="lane", top=tops[-1])
