"""Bad input, end to end: every row of docs/errors.md, run through the CLI.

Each case writes its files into an empty folder, runs ``hardodt`` there, and
checks the exit status and the line the user sees; the table in
docs/errors.md must quote that same line, so the document cannot drift from
what the tool prints.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from hardodt.cli import main
from hardodt.config import Config

DOC = Path(__file__).parent.parent / "docs" / "errors.md"
TWO = 'numeric_attributes = ["a", "b"]\nnumeric_ranges = [[0, 10], [0, 10]]\nclasses = ["0", "1"]\n'
LEARN = ["learn", "s.csv", "--label", "y", "--no-progress"]
_KNOWN = str(sorted(f.name for f in dataclasses.fields(Config) if not f.name.startswith("_")))

#: id -> (files, argv, exit status, the line the user sees: stderr on failure, else stdout)
CASES: dict[str, tuple[dict[str, str], list[str], int, str]] = {
    "csv-missing-field": ({"s.csv": "a,b,y\n1,2,0\n3,4\n"}, LEARN, 2,
                          "hardodt: error: s.csv:3: 2 fields, the header has 3"),
    "csv-extra-field": ({"s.csv": "a,b,y\n1,2,0,9\n"}, LEARN, 2,
                        "hardodt: error: s.csv:2: 4 fields, the header has 3"),
    "csv-text-in-number": ({"s.csv": "a,b,y\n1,2,0\n3,x,1\n"}, LEARN, 2,
                           "hardodt: error: s.csv:3: column 'b': 'x' is not a number"),
    "csv-empty-field": ({"s.csv": "a,b,y\n1,,0\n"}, LEARN, 2,
                        "hardodt: error: s.csv:2: column 'b': '' is not a number"),
    "csv-nan": ({"s.csv": "a,b,y\n1,nan,0\n"}, LEARN, 2,
                "hardodt: error: s.csv:2: column 'b': 'nan' (NaN and infinities are not "
                "allowed)"),
    "csv-infinity": ({"s.csv": "a,b,y\n1,-inf,0\n"}, LEARN, 2,
                     "hardodt: error: s.csv:2: column 'b': '-inf' (NaN and infinities are not "
                     "allowed)"),
    "csv-empty-label": ({"s.csv": "a,b,y\n1,2,\n"}, LEARN, 2,
                        "hardodt: error: s.csv:2: the label 'y' is empty"),
    "csv-empty-line": ({"s.csv": "a,b,y\n1,2,0\n\n3,4,1\n"}, LEARN, 2,
                       "hardodt: error: s.csv:3: empty line"),
    "csv-header-only": ({"s.csv": "a,b,y\n"}, LEARN, 2,
                        "hardodt: error: s.csv: no samples after the header"),
    "csv-empty-file": ({"s.csv": ""}, LEARN, 2,
                       "hardodt: error: s.csv: empty file (no header line)"),
    "csv-no-label-column": ({"s.csv": "a,b,z\n1,2,0\n"}, LEARN, 2,
                            "hardodt: error: s.csv:1: no label column 'y'; columns are "
                            "['a', 'b', 'z']"),
    "csv-duplicate-column": ({"s.csv": "a,a,y\n1,2,0\n"}, LEARN, 2,
                             "hardodt: error: s.csv:1: duplicate column names ['a']"),
    "csv-missing-file": ({}, LEARN, 2, "hardodt: error: s.csv: no such file"),
    "csv-one-class": ({"s.csv": "a,b,y\n1,2,0\n3,4,0\n"}, LEARN, 2,
                      "hardodt: error: s.csv: the stream has 1 class(es) ['0']; a classifier "
                      "needs at least 2"),
    "label-not-declared": ({"s.csv": "a,b,y\n1,2,0\n3,4,2\n", "c.toml": TWO},
                           [*LEARN, "--config", "c.toml"], 2,
                           "hardodt: error: sample 1: label '2' is not a declared class "
                           "(classes = ['0', '1'])"),
    "out-of-range-saturate": ({"s.csv": "a,b,y\n1,2,0\n3,40,1\n", "c.toml": TWO},
                              [*LEARN, "--config", "c.toml"], 0,
                              "notes       1 saturated values (see docs/algorithm.md)"),
    "out-of-range-error": ({"s.csv": "a,b,y\n1,2,0\n3,40,1\n", "c.toml": TWO},
                           [*LEARN, "--config", "c.toml", "--out-of-range", "error"], 2,
                           "hardodt: error: row 1: attribute 'b' = 40.0 is outside its "
                           "declared range [0.0, 10.0] (out_of_range = 'error')"),
    "tree-full": ({}, ["learn", "--generator", "sea", "--samples", "5000", "-n", "50",
                       "--max-leaves", "3", "--no-progress"], 0,
                  "notes       64 trials skipped leaves (see docs/algorithm.md)"),
    "elements-exhausted": ({}, ["learn", "--generator", "sea", "--samples", "5000", "-n", "50",
                                "--max-depth", "1", "-E", "1", "--no-progress"], 0,
                           "notes       601 inactive samples, 1 inactive leaves, 56 trials "
                           "skipped depth (see docs/algorithm.md)"),
    "counter-saturation": ({}, ["learn", "--generator", "sea", "--samples", "3000", "-n", "50",
                                "--count-bits", "8", "--no-progress"], 0,
                           "notes       2745 frozen samples (see docs/algorithm.md)"),
    "config-unknown-key": ({"s.csv": "a,b,y\n1,2,0\n3,4,1\n", "c.toml": "quantile = 8\n"},
                           [*LEARN, "--config", "c.toml"], 2,
                           "hardodt: error: c.toml: unknown field(s) ['quantile'] ('quantile': "
                           "did you mean 'quantiles'?); known fields are " + _KNOWN),
    "config-wrong-type": ({"s.csv": "a,b,y\n1,2,0\n3,4,1\n", "c.toml": 'quantiles = "8"\n'},
                          [*LEARN, "--config", "c.toml"], 2,
                          "hardodt: error: quantiles: expected an integer, got '8'"),
    "config-out-of-range": ({"s.csv": "a,b,y\n1,2,0\n3,4,1\n", "c.toml": "quantiles = 0\n"},
                            [*LEARN, "--config", "c.toml"], 2,
                            "hardodt: error: quantiles: 0 is outside the allowed range 1..64"),
    "config-not-toml": ({"s.csv": "a,b,y\n1,2,0\n3,4,1\n", "c.toml": "quantiles = \n"},
                        [*LEARN, "--config", "c.toml"], 2,
                        "hardodt: error: c.toml: not valid TOML: Invalid value (at line 1, "
                        "column 13)"),
    "config-other-attributes": ({"s.csv": "a,y\n1,0\n2,1\n", "c.toml": TWO},
                                [*LEARN, "--config", "c.toml"], 2,
                                "hardodt: error: numeric_attributes: the configuration "
                                "declares ['a', 'b'] but the stream s.csv has ['a']"),
    "hardware-float": ({}, ["generate", "--number", "float", "-o", "out"], 2,
                       "hardodt: error: number: the hardware computes in fixed point; use "
                       "number = 'fixed'"),
    "hardware-split-delay": ({}, ["generate", "--split-delay", "5", "-o", "out"], 2,
                             "hardodt: error: split_delay: 5 is below 36, the pipeline slots "
                             "between the input and the split-trial stage at max_depth=15; a "
                             "split decided later cannot be applied before samples that have "
                             "already entered"),
    "hardware-too-large": ({"c.toml": "numeric_attributes = 64\nclasses = 64\nquantiles = 64\n"
                                      "elements = 65536\nmax_leaves = 65536\nsplit_delay = 200\n"},
                           ["generate", "--config", "c.toml", "-o", "out"], 2,
                           "hardodt: error: the design needs about 7,476,643 block RAMs and the "
                           "largest device hardodt knows (XCVU9P) has 2,160 (elements=32768, "
                           "quantiles=64, classes=64, numeric_attributes=64, "
                           "categorical_values=[], word_bits=32); a quantile row holds quantiles "
                           "x classes words per numeric attribute and each element a row: reduce "
                           "elements, quantiles, classes or attributes"),
    "preload-not-a-tree": ({"t.json": '{"x": 1}'}, ["generate", "--preload", "t.json", "-o",
                                                     "out"], 2,
                           "hardodt: error: t.json: not a hardodt tree (format = None)"),
    "preload-missing": ({}, ["generate", "--preload", "t.json", "-o", "out"], 2,
                        "hardodt: error: t.json: no such file"),
    "device-too-small": ({}, ["pnr", "--device", "LFE5U-25F", "--build-dir", "b"], 2,
                         "hardodt: error: LFE5U-25F: the design needs 141 block RAMs and the "
                         "device has 56 (elements=512, word_bits=32, quantiles=8); try fewer "
                         "elements (-E), a narrower word_bits or fewer quantiles, or a larger "
                         "device"),
    "board-baud": ({}, ["build", "--board", "icebreaker", "--baud", "700000", "-o", "out"], 2,
                   "hardodt: error: 700000 baud from a 3 MHz clock is off by +7.1 % with 4 cycles "
                   "per bit (a UART tolerates about 2 % and needs 4 cycles per bit): choose another "
                   "--baud or --clock-divide"),
    "board-clock-divide": ({}, ["build", "--board", "icebreaker", "--clock-divide", "3", "-o", "out"],
                           2, "hardodt: error: --clock-divide must be a power of two, not 3"),
    "board-router-patience": ({}, ["build", "--board", "icebreaker", "--router-patience", "-1",
                                   "-o", "out"], 2,
                              "hardodt: error: router patience must be 0 (never stop) or more, "
                              "not -1"),
    "board-too-small": ({}, ["build", "--board", "icebreaker", "-q", "4", "-o", "out"], 2,
                        "hardodt: error: icebreaker: iCE40UP5K: the design needs 9 DSP blocks and the "
                        "device has 8 (elements=4, word_bits=10, quantiles=4); try a narrower "
                        "count_bits or fewer classes, or a larger device"),
    "stream-no-transport": ({}, ["stream", "--generator", "sea"], 2,
                            "hardodt: error: give --port DEVICE (a board) or --sim (the board's top "
                            "level in Verilator)"),
    "power-unknown-kernel": ({}, ["power", "run", "fft"], 2,
                             "hardodt: error: no kernel 'fft'; known: matvec, fir, gemm, histogram, "
                             "learner"),
    "power-no-windows": ({}, ["power", "dataset", "fir", "--windows", "0"], 2,
                         "hardodt: error: a workload needs at least one window of at least one "
                         "cycle"),
    "power-fit-after-drift": ({}, ["power", "run", "fir", "--windows", "1000", "--fit-windows",
                                   "800"], 2,
                              "hardodt: error: --fit-windows 800 must be between 1 and the drift "
                              "at window 600 (--drift-at 0.6 of 1000 windows)"),
    "stream-no-port": ({}, ["stream", "--port", "/dev/does-not-exist", "--generator", "sea",
                            "--samples", "10"], 2,
                       "hardodt: error: cannot open /dev/does-not-exist: [Errno 2] could not open "
                       "port /dev/does-not-exist: [Errno 2] No such file or directory: "
                       "'/dev/does-not-exist'"),
    "stream-load-and-preload": ({}, ["stream", "--sim", "--generator", "sea", "--preload", "t.json",
                                     "--load", "t.json"], 2,
                                "hardodt: error: --preload (the board was built with the tree) or "
                                "--load (send the tree over the link), not both"),
    "stream-bad-fault": ({}, ["stream", "--sim", "--generator", "sea", "--samples", "10", "--faults",
                              "bogus=1"], 2,
                         "hardodt: error: --faults bogus=1: one of corrupt=P, drop=P, reply_corrupt=P, "
                         "seed=N"),
}


def _doc_rows() -> dict[str, str]:
    """id -> the quoted line of docs/errors.md's table."""
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*`([\w-]+)`\s*\|.*\|\s*(\d)\s*\|\s*`(.*)`\s*\|\s*$", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), m.group(3))
    return rows


def test_the_document_quotes_every_case():
    rows = _doc_rows()
    assert sorted(rows) == sorted(CASES)
    for key, (_files, _argv, status, line) in CASES.items():
        assert rows[key] == (status, line), key


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_user_sees_the_documented_line(key, tmp_path, monkeypatch, capsys):
    files, argv, status, line = CASES[key]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == status
    out = capsys.readouterr()
    assert line in (out.err if status else out.out).splitlines(), (out.out, out.err)
    if key == "device-too-small":
        assert not (tmp_path / "b").exists()  # refused before any tool or HDL
    if key.startswith(("hardware-", "preload-", "board-")):
        assert not (tmp_path / "out").exists()  # no HDL written
