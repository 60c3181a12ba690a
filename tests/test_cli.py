import json

import pytest

from hardodt.cli import main


def test_learn_json_on_the_bundled_stream(capsys, tmp_path):
    tree = tmp_path / "t.json"
    plot = tmp_path / "c.png"
    assert main(["learn", "--json", "--tree", str(tree), "--plot", str(plot)]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("samples", "accuracy", "kappa", "leaves", "depth", "samples_per_s"):
        assert key in out
    assert out["samples"] == 45312 and 0.7 < out["accuracy"] < 0.85
    assert tree.exists() and plot.stat().st_size > 1000
    assert main(["show", str(tree)]) == 0
    assert "->" in capsys.readouterr().out


def test_learn_human_output(capsys):
    assert main(["learn", "-q", "4", "--number", "float", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "float, Q=4" in out and "accuracy" in out and "samples/s" in out


def test_config_file_and_overrides(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("quantiles = 4\nnumber = 'float'\n")
    assert main(["learn", "--config", str(cfg), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["quantiles"] == 4 and out["config"]["number"] == "float"
    assert main(["learn", "--config", str(cfg), "-q", "16", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["quantiles"] == 16


def test_csv_stream(capsys, tmp_path):
    p = tmp_path / "s.csv"
    rows = ["a,b,y"] + [f"{i % 17},{(i * 7) % 13},{int(i % 17 > 8)}" for i in range(3000)]
    p.write_text("\n".join(rows) + "\n")
    assert main(["learn", str(p), "--label", "y", "--json", "-n", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 3000 and out["accuracy"] > 0.9


def test_generator(capsys):
    assert main(["learn", "--generator", "sea", "--samples", "3000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 3000


@pytest.mark.parametrize(("argv", "message"), [
    (["learn", "-q", "0"], "quantiles: 0 is outside"),
    (["learn", "nonexistent.csv", "--label", "y"], "no such file"),
    (["learn", "x.csv"], "--label COL is required"),
    (["config", "--config", "missing.toml"], "no such configuration file"),
    (["show", "missing.json"], "no such file"),
])
def test_errors_are_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hardodt: error:") and message in err


def test_unknown_key_in_config_file(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("quantile = 4\n")
    assert main(["learn", "--config", str(cfg)]) == 2
    assert "unknown field(s) ['quantile']" in capsys.readouterr().err


def test_config_example_round_trips(capsys, tmp_path):
    assert main(["config", "--example"]) == 0
    p = tmp_path / "c.toml"
    p.write_text(capsys.readouterr().out)
    assert main(["config", "--config", str(p), "-q", "4"]) == 0
    assert "quantiles = 4" in capsys.readouterr().out


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("learn", "config", "show"):
        assert cmd in out


def test_generate_writes_verilog_config_and_report(capsys, tmp_path):
    out = tmp_path / "gen"
    assert main(["generate", "--generator", "agrawal", "--max-depth", "5", "--split-delay", "20",
                 "--lanes", "2", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "quantiles_lane1" in text and "histogram_" in text and "2 quantile lanes" in text
    assert "module hardodt" in (out / "hardodt.v").read_text()
    report = json.loads((out / "report.json").read_text())
    # the input's slot, 6 tree levels of two stages and the counters' read and fetch (two
    # lanes), the counters
    assert report["cycles_per_sample_min"] == 3
    assert report["split_delay_min"] == 1 + 2 * 6 + 2 + 1
    assert json.loads((out / "config.json").read_text())["lanes"] == 2
    assert "lanes = 2" in (out / "config.toml").read_text()


def test_generate_preloads_a_tree_learned_in_software(capsys, tmp_path):
    tree = tmp_path / "t.json"
    learn = ["learn", "--generator", "sea", "--samples", "3000", "-n", "50", "--max-depth", "4",
             "--max-leaves", "8", "-E", "8", "--split-delay", "20", "--no-progress"]
    assert main([*learn, "--tree", str(tree)]) == 0
    capsys.readouterr()
    assert main(["generate", "--preload", str(tree), "--lanes", "1", "-o",
                 str(tmp_path / "pre")]) == 0
    text = capsys.readouterr().out
    assert "preloaded" in text and "3,000 samples seen" in text
    cfg = json.loads((tmp_path / "pre" / "config.json").read_text())
    assert cfg["lanes"] == 1 and cfg["grace_period"] == 50  # the tree's, and the flag's
    # the same design without the tree differs only in initial values
    plain = tmp_path / "plain"
    assert main(["generate", "--config", str(tmp_path / "pre" / "config.toml"), "-o",
                 str(plain)]) == 0
    a = (tmp_path / "pre" / "hardodt.v").read_text()
    b = (plain / "hardodt.v").read_text()
    assert a != b and len(a.splitlines()) >= len(b.splitlines())


@pytest.mark.parametrize("args,message", [
    (["--split-delay", "3"], "split_delay: 3 is below 36"),
    (["--number", "float"], "number"),
    (["--lanes", "9"], "lanes: 9 is outside"),
])
def test_hardware_commands_refuse_what_cannot_be_built(capsys, tmp_path, args, message):
    for command in (["generate", "-o", str(tmp_path / "g")], ["simulate", "--build-dir",
                                                                str(tmp_path / "s")]):
        assert main(command + args) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "g" / "hardodt.v").exists()
    assert not (tmp_path / "s").exists()


@pytest.mark.sim
def test_simulate_json(capsys, tmp_path):
    code = main(["simulate", "--generator", "sea", "--samples", "1500", "--max-depth", "4",
                 "--split-delay", "24", "--gap", "0.1", "--stall", "0.1", "--json",
                 "--build-dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["agree"]
    for key in ("samples", "mismatches", "cycles_per_sample", "latency_cycles", "accuracy"):
        assert key in out
    assert out["samples"] == 1500 and out["mismatches"] == 0
    assert (tmp_path / "sim.log").is_file() and (tmp_path / "build.log").is_file()
