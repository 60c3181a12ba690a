"""The board: its top level in Verilator driven through the UART pins by the driver itself
(hardodt.driver.Board, what `hardodt stream` runs), and the board builds up to the tools.

The stream cases check every prediction, the statistics and the tree read back over the
protocol against the golden model, clean and with corrupted and dropped bytes both ways at
the full baud rate; the conformance case sends each kind of bad frame and checks its answer
(sim/board_bench.py). Bitstream builds are benchmarks (benchmarks/boards.py).
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from hardodt import Config
from hardodt.boards import BOARDS, BoardError, board, build
from hardodt.cli import main
from hardodt.streams.generators import generate
from sim.board_sim import simulate_board
from sim.cosim import encode_stream


def _stream(cfg_overrides, samples, seed=3):
    stream = generate("sea", samples, seed=seed)
    cfg = stream.config(**cfg_overrides)
    xn, xc, y = encode_stream(cfg, stream)
    return cfg, xn, xc, y


SMALL = dict(quantiles=4, split_points=4, max_depth=7, max_leaves=6, elements=6, grace_period=40,
             split_delay=24, word_bits=14, fraction_bits=12, count_bits=10, tau=0.2)


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    """One Verilator build of the small design for the stream cases and the CLI."""
    return tmp_path_factory.mktemp("board_small")


@pytest.mark.sim
def test_stream_through_the_pins_with_faults(small_build):
    """Corrupted and dropped bytes both ways at the full baud rate: resends, no sample lost or
    applied twice, every prediction and the tree equal."""
    cfg, xn, xc, y = _stream(SMALL, 300)
    learn = np.random.default_rng(2).random(len(y)) < 0.9  # some predict-only samples
    faults = {"corrupt": 0.01, "drop": 0.004, "reply_corrupt": 0.01, "seed": 5}
    rough = simulate_board(cfg, xn, xc, y, learn, build_dir=small_build, divisor=6, faults=faults)
    assert rough["samples"] == 300 and rough["mismatches"] == 0 and rough["tree_agrees"]
    assert rough["stats_golden"]["splits"] >= 1  # the tree grew, and was read back
    wire = rough["wire"]
    assert wire["host_corrupted"] > 0 and wire["host_dropped"] > 0 and wire["device_corrupted"] > 0
    assert rough["resends"] > 0 and rough["stats_hardware"]["frames_rejected"] > 0
    assert rough["stats_hardware"]["samples"] == 300  # none applied twice, none lost


def _learned_with_a_split_pending(cfg, stream_seed: int, after: int):
    """A golden model that learned ``after`` samples of another stream and then on until a split
    trial's outcome (a split) waits for its sample: the hardest state to hand over."""
    from reference import QuantileHoeffdingTree
    from reference.kernels import P_ACTIVE, P_DO_SPLIT

    _cfg, xn, xc, y = _stream(SMALL, 3000, seed=stream_seed)
    model = QuantileHoeffdingTree(cfg)
    model._run(xn[:after], xc[:after], y[:after], np.ones(after, bool))
    for k in range(after, len(y)):
        if model._pending[0][P_ACTIVE] and model._pending[0][P_DO_SPLIT]:
            return model
        model._run(xn[k:k + 1], xc[k:k + 1], y[k:k + 1], np.ones(1, bool))
    raise AssertionError("no split trial pending in the stream")


@pytest.mark.sim
def test_a_tree_loaded_over_the_link_mid_stream_is_continued_exactly(small_build, tmp_path):
    """The board learns 150 samples; then the driver loads (LOAD) a tree learned in software on
    another stream, with a split pending, under corrupted and dropped bytes; from there on the
    board continues that tree: every prediction, the counters, the split when it is due, the tree
    read back. The loaded tree's own counters go on from its 500-odd samples."""
    cfg, xn, xc, y = _stream(SMALL, 300)
    model = _learned_with_a_split_pending(cfg, stream_seed=11, after=400)
    splits_before, samples_before = model.stats["splits"], model.stats["samples"]
    faults = {"corrupt": 0.005, "drop": 0.002, "reply_corrupt": 0.005, "seed": 8}
    r = simulate_board(cfg, xn, xc, y, build_dir=small_build, divisor=6, faults=faults,
                       load_tree=model, load_at=150)
    assert r["samples"] == 300 and r["mismatches"] == 0 and r["tree_agrees"]
    assert r["loaded"]["at"] == 150 and r["loaded"]["frames"] > 10
    assert r["stats_hardware"]["samples"] == r["stats_golden"]["samples"] == samples_before + 150
    assert r["stats_golden"]["splits"] > splits_before  # the pending split went in on the board
    assert r["resends"] > 0  # LOAD frames went through the faults too


@pytest.mark.sim
def test_cli_stream_sim_clean_at_the_full_baud_rate(small_build, tmp_path, capsys):
    import tomli_w

    conf = tmp_path / "small.toml"
    conf.write_text(tomli_w.dumps(SMALL))
    code = main(["stream", "--sim", "--generator", "sea", "--samples", "300", "--seed", "3",
                 "--config", str(conf), "--sim-divisor", "6", "--build-dir", str(small_build),
                 "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["samples"] == 300 and report["mismatches"] == 0
    assert report["tree_agrees"] and report["stats_golden"]["splits"] >= 1
    assert report["resends"] <= 1 and report["stats_hardware"]["rx_overruns"] == 0
    assert report["link_efficiency"] > 0.8  # bytes back to back: the UART's rate
    model = _learned_with_a_split_pending(generate("sea", 10, seed=3).config(**SMALL), 11, 400)
    model.save(tmp_path / "t.json")  # `--load`: sent over the link first, then continued
    code = main(["stream", "--sim", "--generator", "sea", "--samples", "200", "--seed", "3",
                 "--load", str(tmp_path / "t.json"), "--sim-divisor", "6", "--build-dir",
                 str(small_build), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["mismatches"] == 0 and report["tree_agrees"]
    assert report["loaded"]["frames"] > 10
    assert report["stats_hardware"]["samples"] == model.stats["samples"] + 200
    assert main(["stream", "--generator", "sea", "--config", str(conf)]) == 2  # neither --port nor --sim
    assert "--port DEVICE" in capsys.readouterr().err


@pytest.mark.sim
def test_icebreaker_design_continues_a_learned_tree_and_answers_every_bad_frame(tmp_path):
    """The iCEBreaker's default design (one-stage dividers, the basic STATS) built with a tree
    learned in software as its initial state (`hardodt build --preload`): streamed on without a
    RESET through the pins, it continues exactly as the golden model (every prediction, the
    counters, the tree); then each kind of bad frame gets its answer (one Verilator build)."""
    from hardodt.boards import board_config
    from reference import QuantileHoeffdingTree

    spec = board("icebreaker")
    cfg = board_config(spec)
    rng = np.random.default_rng(4)
    x = rng.random(900)
    y = ((x > 0.35) ^ (rng.random(900) < 0.1)).astype(np.int64)
    xn, xc = QuantileHoeffdingTree(cfg)._encode_rows(x.reshape(-1, 1))
    model = QuantileHoeffdingTree(cfg)
    model._run(xn[:300], xc[:300], y[:300], np.ones(300, bool))
    assert model.stats["splits"] >= 1
    r = simulate_board(cfg, xn[300:], xc[300:], y[300:], build_dir=tmp_path, divisor=8,
                       stats=spec.stats, preload=model, load=spec.load)
    assert r["samples"] == 600 and r["mismatches"] == 0 and r["tree_agrees"]
    assert set(r["stats_hardware"]) == {"samples", "splits", "leaves", "mistakes", "frames_rejected",
                                        "rx_framing_errors", "rx_overruns"}
    assert r["stats_hardware"]["samples"] == r["stats_golden"]["samples"] == 900  # 300 preloaded
    assert r["stats_hardware"]["splits"] == r["stats_golden"]["splits"]
    simulate_board(cfg, xn[:1], xc[:1], y[:1], build_dir=tmp_path, divisor=8, stats=spec.stats,
                   preload=model, load=spec.load, test="protocol_conformance")  # LOAD: NAK_COMMAND


def test_boards_lists_every_board_and_flow(capsys):
    assert main(["boards", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["board"] for r in rows} == set(BOARDS)
    assert {r["board"]: r["output"] for r in rows}["icebreaker"] == "bitstream"
    assert {r["board"]: r["output"] for r in rows}["arty-a7-35"] == "Verilog + constraints"
    # what the placer minimises, for the open flows only (Vivado places by its own rules)
    assert {r["board"]: r["placement"] for r in rows} == {
        name: spec.placement if spec.open_flow else None for name, spec in BOARDS.items()}
    assert all(r["placement"] in ("timing", "wirelength") for r in rows if r["flow"] != "vivado")
    assert {r["board"]: r["router"] for r in rows} == {
        name: spec.router if spec.open_flow else None for name, spec in BOARDS.items()}
    assert [r["board"] for r in rows if r["global_reset"]] == ["ulx3s-85f"]


@pytest.mark.parametrize("name,constraints", [("icebreaker", "top.pcf"), ("ulx3s-25f", "top.lpf"),
                                               ("arty-a7-35", "top.xdc")])
def test_no_bitstream_writes_the_platform_files(tmp_path, name, constraints):
    spec = board(name)
    cfg = Config.from_toml("benchmarks/configs/up5k.toml")
    report = build(cfg, spec, tmp_path, bitstream=False)
    assert constraints in report["files"] and (tmp_path / constraints).is_file()
    text = (tmp_path / constraints).read_text()
    assert "uart" in text.lower()  # the UART pins are constrained
    assert (tmp_path / "config.toml").read_text() == cfg.to_toml()
    if spec.open_flow:
        assert "without --no-bitstream" in report["next"]
    else:
        assert "Vivado" in report["next"] and "build_top.sh" in report["next"]


def test_build_refuses_a_baud_rate_the_clock_cannot_make(tmp_path):
    cfg = Config.from_toml("benchmarks/configs/tiny.toml")
    # three classes need 10 DSP blocks, the UP5K has 8: the model refuses before the tools run
    with pytest.raises(BoardError, match="DSP blocks"):
        build(cfg.replace(classes=3), board("icebreaker"), tmp_path)
    with pytest.raises(BoardError, match="tolerates about 2 %"):
        build(cfg, board("icebreaker"), tmp_path, baud=700_000, bitstream=False)
    with pytest.raises(BoardError, match="power of two"):
        build(cfg, board("icebreaker"), tmp_path, clock_divide=3, bitstream=False)
    with pytest.raises(BoardError, match="unknown board 'zedboard'"):
        board("zedboard")


def test_stream_over_a_serial_port_to_an_emulated_board(tmp_path, capsys):
    """`hardodt stream --port`: pyserial, the session, live output and the checks, against a
    software board (tests/board_emulator.py) on a pseudo-terminal."""
    import tomli_w
    from board_emulator import EmulatedBoard

    conf = tmp_path / "small.toml"
    conf.write_text(tomli_w.dumps(SMALL))
    cfg = generate("sea", 300, seed=3).config(**SMALL)
    argv = ["stream", "--generator", "sea", "--samples", "300", "--seed", "3", "--config", str(conf),
            "--tree"]

    def stream_to(board, *more):  # `hardodt stream --port` to a software board; its exit status
        try:
            return main([*argv, "--port", board.port, *more])
        finally:
            board.close()

    assert stream_to(EmulatedBoard(cfg)) == 0
    out = capsys.readouterr()
    assert "agreement   every prediction, the statistics and the tree read back equal" in out.out
    assert "300/300 samples" in out.err  # the live line
    assert stream_to(EmulatedBoard(cfg, wrong_at=120)) == 1
    out = capsys.readouterr()
    assert "MISMATCH at sample 120: board predicted" in out.err
    assert "agreement   MISMATCH: 1 predictions differ" in out.out
    other = generate("sea", 300, seed=3).config(**{**SMALL, "quantiles": 2})
    assert stream_to(EmulatedBoard(other)) == 2
    assert "the board runs another design" in capsys.readouterr().err
    from reference import QuantileHoeffdingTree

    QuantileHoeffdingTree(cfg).save(tmp_path / "t.json")
    assert stream_to(EmulatedBoard(cfg), "--load", str(tmp_path / "t.json")) == 2  # no LOAD
    assert "does not take LOAD" in capsys.readouterr().err


def test_build_preload_takes_the_trees_configuration(tmp_path, capsys):
    import tomli_w

    conf = tmp_path / "small.toml"
    conf.write_text(tomli_w.dumps(SMALL))
    tree = tmp_path / "t.json"
    assert main(["learn", "--generator", "sea", "--samples", "400", "--config", str(conf), "--tree",
                 str(tree), "--no-progress"]) == 0
    capsys.readouterr()
    import warnings

    with warnings.catch_warnings():  # no initial value truncated (a full level's pair count)
        warnings.filterwarnings("error", message="Initial value")  # (amaranth's own class)
        assert main(["build", "--board", "ulx3s-25f", "--preload", str(tree), "--no-bitstream",
                     "-o", str(tmp_path / "out"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    from reference import QuantileHoeffdingTree

    model = QuantileHoeffdingTree.load(tree)
    assert report["preloaded"] == {"leaves": model.n_leaves, "samples": 400,
                                   "splits": model.stats["splits"]}
    assert report["design"] == str(tree)
    assert Config.from_toml(tmp_path / "out" / "config.toml") == model.config


@pytest.mark.parametrize("flag", ["--load", "--preload"])
def test_stream_refuses_a_tree_of_another_configuration_before_anything_runs(tmp_path, capsys, flag):
    import tomli_w

    from reference import QuantileHoeffdingTree

    conf = tmp_path / "small.toml"
    conf.write_text(tomli_w.dumps(SMALL))
    other = generate("sea", 10, seed=3).config(**{**SMALL, "quantiles": 2})
    QuantileHoeffdingTree(other).save(tmp_path / "t.json")
    assert main(["stream", "--sim", "--generator", "sea", "--samples", "10", "--config", str(conf),
                 flag, str(tmp_path / "t.json"), "--build-dir", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "learned with another configuration (differs in" in err and "quantiles" in err
    assert not (tmp_path / "b").exists()


def _stand_in_tools(monkeypatch, nextpnr, dsps=None):
    """The tools of a board build stand in (a real build is a benchmark): synthesis writes
    the stored ECP5 statistics and netlist; ``nextpnr(command, log, stop)`` sees each
    place-and-route run and returns its exit status and stderr to fail it, or None for a
    run that routes (the stored report). ``dsps``: the DSP cells synthesis lists (none)."""
    import hardodt.synthesis as synthesis

    data = Path(__file__).parent / "data"

    def fake_run_tool(command, build_dir, log, step_of, progress, poll=1.0, stop=None):
        if "top.ys" in command:  # synthesis
            (build_dir / "stat.json").write_text((data / "yosys_stat_ecp5.json").read_text())
            (build_dir / "top.json").write_text((data / "yosys_netlist_ecp5_small_path.json").read_text())
            (build_dir / "dsp.json").write_text(json.dumps(
                {"modules": {"top": {"cells": dsps}} if dsps else {}}))
        elif "--placer" in command:
            failed = nextpnr(command, log, stop)
            if failed is not None:
                return failed
            (build_dir / "report.json").write_text((data / "nextpnr_report_ecp5_small.json").read_text())
        log.write_text("Info: done\n")
        return 0, ""

    monkeypatch.setattr(synthesis, "run_tool", fake_run_tool)
    monkeypatch.setattr(synthesis, "tool_command", lambda name: [name])


def test_a_board_placement_router2_stalls_on_is_placed_again_whatever_the_placer(tmp_path,
                                                                               monkeypatch):
    """HeAP asked for by name is not replaced after a failure, but a stall is placement luck:
    the next seeds (an iCEBreaker design stalled with seeds 1 and 2, routed with 3)."""
    import hardodt.synthesis as synthesis

    data = Path(__file__).parent / "data"
    stall = (data / "nextpnr_router2_stall_up5k.log").read_text()
    seeds, stalls, commands = [], [4], []  # the runs to come that stall

    def nextpnr(command, log, stop):
        seeds.append(int(command[command.index("--seed") + 1]))
        commands.append(command)
        if stalls[0]:  # stalls, as the watch sees it in the log
            stalls[0] -= 1
            log.write_text(stall)
            raise synthesis.ToolStopped(stop())
        return None

    _stand_in_tools(monkeypatch, nextpnr)
    cfg = Config.from_toml("benchmarks/configs/small.toml")
    # the next seeds stall too: the build stops with the reason after three more, not never
    with pytest.raises(BoardError, match="place and route failed: router2 stopped converging: "
                                         "its fewest overused wires, 3, at iteration 96"):
        build(cfg, board("ulx3s-25f"), tmp_path / "a", placer="heap")
    assert seeds == [1, 2, 3, 4]
    assert "iter=197 " in (tmp_path / "a" / "top-seed3.tim").read_text()
    assert not any("--no-tmdriv" in c for c in commands)  # timing-driven unless asked
    seeds.clear()
    commands.clear()
    stalls[0] = 1  # the next build's first run stalls, its second routes
    report = build(cfg, board("ulx3s-25f"), tmp_path / "b", placer="heap", placement="wirelength")
    assert seeds == [1, 2] and report["nextpnr"] == {"placer": "heap", "placement": "wirelength",
                                                     "router": "router2", "seed": 2}
    assert all("--no-tmdriv" in c for c in commands)  # the placement kept for the next seed
    assert any("seed 1, failed (router2 stopped converging" in n and "placed again with seed 2" in n
               for n in report["notes"])
    assert report["fmax_mhz"] > 0
    with pytest.raises(BoardError, match="router patience"):
        build(cfg, board("ulx3s-25f"), tmp_path / "c", router_patience=-1)
    assert not (tmp_path / "c").exists()


def test_a_failed_placement_of_a_board_is_placed_again_with_the_next_seed(tmp_path, monkeypatch):
    """The tools stand in (a real build is a benchmark): the flow around them is checked."""
    seeds = []

    def nextpnr(command, log, stop):
        seeds.append(int(command[command.index("--seed") + 1]))
        assert command[command.index("--placer") + 1] == "static"
        if len(seeds) == 1:
            log.write_text("ERROR: Failed to route arc 0.0 of net 'clk$TRELLIS_IO_IN'\n")
            return 1, ""
        return None

    _stand_in_tools(monkeypatch, nextpnr)
    report = build(Config.from_toml("benchmarks/configs/small.toml"), board("ulx3s-25f"), tmp_path)
    assert seeds == [1, 2] and report["nextpnr"] == {"placer": "static", "placement": "timing",
                                                     "router": "router2", "seed": 2}
    assert any("seed 1, failed" in n and "placed again with seed 2" in n for n in report["notes"])
    assert "Failed to route arc" in (tmp_path / "top-seed1.tim").read_text()
    assert report["fmax_mhz"] > 0 and report["critical_path"]["from_source"] == ["rtl/divider.py:70"]


def test_a_board_is_not_placed_from_a_dsp_with_an_operand_tied_to_zero(tmp_path, monkeypatch):
    """The synthesis script's DSP check (``hardodt.synthesis.check_dsp_operands``) stops a
    board build too, before place and route."""
    placed = []
    tied = {"m0": {"type": "MULT18X18D",
                   "connections": {"A0": [5], "A1": [6], "B0": ["0"], "B1": ["0"]}}}
    _stand_in_tools(monkeypatch, lambda command, log, stop: placed.append(1), dsps=tied)
    with pytest.raises(BoardError, match=r"synthesis failed: yosys mapped MULT18X18D m0 with "
                                         r"its B operand tied to zero"):
        build(Config.from_toml("benchmarks/configs/small.toml"), board("ulx3s-25f"), tmp_path)
    assert placed == []


@pytest.mark.parametrize("name,router,expected", [("ulx3s-85f", None, "router1"),
                                                  ("ulx3s-85f", "router2", "router2"),
                                                  ("ulx3s-25f", None, "router2")])
def test_a_board_is_routed_with_its_own_router_unless_told(tmp_path, monkeypatch, name, router,
                                                         expected):
    """The ULX3S-85F's default is router1 (router2 stalls on its default design); the tools
    stand in, as above, and the router nextpnr is given is checked."""
    routers = []

    def nextpnr(command, log, stop):
        routers.append(command[command.index("--router") + 1])  # and it routes

    _stand_in_tools(monkeypatch, nextpnr)
    cfg = Config.from_toml("benchmarks/configs/up5k.toml")
    report = build(cfg, board(name), tmp_path, router=router)
    assert routers == [expected] and report["nextpnr"]["router"] == expected
    assert board(name).router == ("router1" if name == "ulx3s-85f" else "router2")


def test_a_board_default_with_overrides_is_reported_with_them(tmp_path, capsys):
    """`hardodt build --board B --max-depth 4` builds the board's design with one field
    changed: the report's design names the change, not just "B default"."""
    assert main(["build", "--board", "arty-a7-35", "--max-depth", "4", "--no-bitstream",
                 "-o", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["design"] == "arty-a7-35 default with max_depth = 4"
    assert Config.from_toml(tmp_path / "config.toml").max_depth == 4


def _learner_reset_source(rtlil: str, module: str) -> str | None:
    """In ``module`` of ``rtlil``, the cell that drives the learner's ``learner_rst`` port:
    the type of the cell whose output wire it is (``DCCA``), else None."""
    body = rtlil.split(f"module {module}\n", 1)[1].split("\nend\n", 1)[0]
    learner = re.search(r"cell \\[^ ]+\.learner \\learner\n((?:    connect .*\n)+)", body)
    wire = re.search(r"connect \\learner_rst (\S+)", learner.group(1)).group(1).split(" [")[0]
    for kind, outputs in re.findall(r"cell \\(\w+) \\\S+\n((?:    connect .*\n)+)", body):
        if re.search(rf"connect \\CLKO {re.escape(wire)}\b", outputs):
            return kind
    return None


@pytest.mark.parametrize("name,buffer", [("ulx3s-85f", "DCCA"), ("ulx3s-25f", None),
                                         ("icebreaker", None)])
def test_a_board_puts_the_learners_reset_on_a_global_buffer_where_it_asks(tmp_path, name, buffer):
    """The ULX3S-85F's learner reset goes through a DCCA; the 25F's does not (nextpnr
    could not route into it there), nor the iCE40's (nextpnr-ice40 promotes resets)."""
    build(Config.from_toml("benchmarks/configs/up5k.toml"), board(name), tmp_path, bitstream=False)
    text = (tmp_path / "top.il").read_text()
    assert text.count("cell \\DCCA ") == (buffer is not None)
    if buffer:
        assert _learner_reset_source(text, "\\top.core") == buffer
