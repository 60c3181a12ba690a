"""Read a CSV stream with a schema; every bad row is reported with its file and line.

The first line is the header. One column is the label; the columns named as
categorical hold text levels (coded in sorted order, or in the order given);
every other column is numeric. A row with the wrong number of fields, a
number that does not parse, NaN, an infinity or an empty field is an error
naming ``file:line``; nothing is skipped silently. ``.gz`` files are read as gzip.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from hardodt.streams.table import Stream, _sort_labels

__all__ = ["CSVError", "read_csv", "bundled_electricity", "ELECTRICITY_LABEL"]

ELECTRICITY_LABEL = "class"


class CSVError(ValueError):
    """A CSV stream that cannot be read: the message names the file and the line."""


def _open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_csv(path: str | Path, label: str,
             categorical: Sequence[str] | Mapping[str, Sequence[str]] = (),
             *, name: str | None = None) -> Stream:
    """Read ``path`` into a :class:`Stream`.

    ``categorical`` names the categorical columns; as a mapping it also gives
    each column's levels in code order (a value not listed is an error).
    """
    path = Path(path)
    levels_given = dict(categorical) if isinstance(categorical, Mapping) else {}
    cat_cols = list(categorical.keys() if isinstance(categorical, Mapping) else categorical)
    try:
        fh = _open_text(path)
    except FileNotFoundError:
        raise CSVError(f"{path}: no such file") from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise CSVError(f"{path}: empty file (no header line)") from None
        except (UnicodeDecodeError, csv.Error, OSError) as exc:
            raise CSVError(f"{path}:1: cannot read the header: {exc}") from None
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            dup = sorted({h for h in header if header.count(h) > 1})
            raise CSVError(f"{path}:1: duplicate column names {dup}")
        if label not in header:
            raise CSVError(f"{path}:1: no label column {label!r}; columns are {header}")
        for c in cat_cols:
            if c not in header:
                raise CSVError(f"{path}:1: no categorical column {c!r}; columns are {header}")
            if c == label:
                raise CSVError(f"{path}:1: {c!r} is the label, not a categorical attribute")
        li = header.index(label)
        ci = [header.index(c) for c in cat_cols]
        ni = [i for i, h in enumerate(header) if i != li and i not in ci]
        width = len(header)
        numeric: list[list[float]] = []
        cat_text: list[list[str]] = []
        labels: list[str] = []
        line = 1
        try:
            for line, row in enumerate(reader, start=2):
                if not row or (len(row) == 1 and not row[0].strip()):
                    raise CSVError(f"{path}:{line}: empty line")
                if len(row) != width:
                    raise CSVError(f"{path}:{line}: {len(row)} fields, the header has {width}")
                vals = []
                for i in ni:
                    text = row[i].strip()
                    try:
                        v = float(text)
                    except ValueError:
                        raise CSVError(f"{path}:{line}: column {header[i]!r}: {text!r} is not a "
                                       f"number") from None
                    if not math.isfinite(v):
                        raise CSVError(f"{path}:{line}: column {header[i]!r}: {text!r} (NaN and "
                                       f"infinities are not allowed)")
                    vals.append(v)
                numeric.append(vals)
                cats = [row[i].strip() for i in ci]
                for c, v in zip(cat_cols, cats, strict=True):
                    if not v:
                        raise CSVError(f"{path}:{line}: column {c!r} is empty")
                cat_text.append(cats)
                lab = row[li].strip()
                if not lab:
                    raise CSVError(f"{path}:{line}: the label {label!r} is empty")
                labels.append(lab)
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            raise CSVError(f"{path}:{line}: cannot read: {exc}") from None
    if not labels:
        raise CSVError(f"{path}: no samples after the header")

    levels: list[list[str]] = []
    codes = np.zeros((len(labels), len(cat_cols)), dtype=np.int64)
    for k, c in enumerate(cat_cols):
        column = [r[k] for r in cat_text]
        lv = [str(v) for v in levels_given[c]] if c in levels_given else _sort_labels(set(column))
        index = {v: j for j, v in enumerate(lv)}
        for row_no, v in enumerate(column):
            if v not in index:
                raise CSVError(f"{path}:{row_no + 2}: column {c!r}: {v!r} is not one of its "
                               f"declared values {lv}")
            codes[row_no, k] = index[v]
        levels.append(lv)
    return Stream(
        name=name or path.name,
        numeric=np.array(numeric, dtype=np.float64).reshape(len(labels), len(ni)),
        categorical=codes,
        labels=np.array(labels),
        numeric_names=[header[i] for i in ni],
        categorical_names=list(cat_cols),
        categorical_levels=levels,
    )


def bundled_electricity() -> Stream:
    """The Electricity stream shipped with the package (see ``data/PROVENANCE.md``)."""
    ref = resources.files("hardodt") / "data" / "elec.csv.gz"
    with resources.as_file(ref) as p:
        return read_csv(p, ELECTRICITY_LABEL, name="electricity")
