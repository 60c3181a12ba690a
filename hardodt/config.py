"""One configuration for the golden model and, later, the hardware.

A frozen dataclass validated in ``__post_init__``: an impossible configuration
raises :class:`ConfigError` naming the field, the value and the allowed range,
before anything is learned or generated. It reads and writes TOML with the
field names below (scripts rely on them).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

__all__ = ["Config", "ConfigError", "EXAMPLE_TOML", "HOEFFDING_N", "INITIAL_QUANTILE_RULES",
           "JUDGES", "NUMBER_MODES", "STEP_SCHEDULES", "read_toml_fields"]

NUMBER_MODES = ("float", "fixed")
INITIAL_QUANTILE_RULES = ("range", "centre", "first")
STEP_SCHEDULES = ("constant", "decreasing")
HOEFFDING_N = ("learned", "inherited")
OUT_OF_RANGE_POLICIES = ("saturate", "error")
# The Hoeffding test's multipliers, once (hardware only). Since the test became a
# comparison with a bound worked out without a multiplier (rtl.hoeffding), both build
# the same design; the field is still read so that older configuration files load.
JUDGES = ("parallel", "serial")

#: Hard limits of the design. Each one names what would break past it.
LIMITS = {
    "numeric_attributes": (0, 64),  # attribute index fits the node word's 6-bit field
    "categorical_attributes": (0, 64),
    "categorical_value": (2, 256),  # a value is one byte on the input stream
    "classes": (2, 64),  # class index fits 6 bits
    "quantiles": (1, 64),
    "split_points": (1, 64),
    "max_depth": (0, 15),  # the paper's limit; one node memory per level
    "max_leaves": (1, 65536),  # node addresses are at most 16 bits
    "word_bits": (8, 32),
    "count_bits": (8, 23),  # (quality difference)^2 stays below 2^63, see reference.fixedpoint
}


class ConfigError(ValueError):
    """An impossible configuration: the message names the field and the allowed range."""


def _names(value: Any, prefix: str, field_name: str) -> tuple[str, ...]:
    if isinstance(value, bool):
        raise ConfigError(f"{field_name}: expected a count or a list of names, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{field_name}: a count must be >= 0, got {value}")
        return tuple(f"{prefix}{i}" for i in range(value))
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        if len(set(value)) != len(value):
            raise ConfigError(f"{field_name}: names must be unique, got {list(value)}")
        return tuple(value)
    raise ConfigError(f"{field_name}: expected a count or a list of names, got {value!r}")


def _check_int(name: str, value: Any, lo: int, hi: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        extra = f" ({why})" if why else ""
        raise ConfigError(f"{name}: {value} is outside the allowed range {lo}..{hi}{extra}")


def _check_real(name: str, value: Any, lo: float, hi: float, *, lo_open: bool, hi_open: bool):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    ok = math.isfinite(value)
    ok = ok and (value > lo if lo_open else value >= lo)
    ok = ok and (value < hi if hi_open else value <= hi)
    if not ok:
        lb = "(" if lo_open else "["
        hb = ")" if hi_open else "]"
        raise ConfigError(f"{name}: {value!r} is outside the allowed range {lb}{lo}, {hi}{hb}")


@dataclass(frozen=True)
class Config:
    """Everything that fixes what the learner computes.

    ``numeric_attributes`` and ``categorical_names`` accept a count or a list of
    names; ``classes`` a count (labels 0..k-1) or a list of labels. Numeric values
    are mapped from their declared ``numeric_ranges`` onto [-1, 1] before learning.
    """

    numeric_attributes: tuple[str, ...] = ("x0", "x1")
    numeric_ranges: tuple[tuple[float, float], ...] | None = None
    categorical_values: tuple[int, ...] = ()
    categorical_names: tuple[str, ...] | None = None
    classes: tuple[str | int, ...] = (0, 1)
    quantiles: int = 8
    split_points: int = 10
    grace_period: int = 200
    delta: float = 1e-3
    tau: float = 0.05
    step: float = 0.01
    step_schedule: str = "decreasing"
    max_depth: int = 15
    max_leaves: int = 1024
    elements: int = 512  # the default design fits an ECP5-85F (ULX3S): docs/model.md
    number: str = "fixed"
    word_bits: int = 32
    fraction_bits: int = 30
    count_bits: int = 20
    initial_quantiles: str = "first"
    inherit_counts: bool = False
    hoeffding_n: str = "inherited"
    out_of_range: str = "saturate"
    split_delay: int = 128
    lanes: int = 0
    divider_stage_bits: int = 2
    retimed_rows: int = 64
    judge: str = "parallel"  # no effect (JUDGES); read so that older files load
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- validation -------------------------------------------------------
    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        set_("numeric_attributes", _names(self.numeric_attributes, "x", "numeric_attributes"))
        n_num = len(self.numeric_attributes)
        _check_int("numeric_attributes", n_num, *LIMITS["numeric_attributes"],
                   "the attribute index is a 6-bit field")

        if not isinstance(self.categorical_values, (list, tuple)):
            raise ConfigError(
                f"categorical_values: expected a list of value counts, got {self.categorical_values!r}")
        set_("categorical_values", tuple(self.categorical_values))
        for i, v in enumerate(self.categorical_values):
            _check_int(f"categorical_values[{i}]", v, *LIMITS["categorical_value"],
                       "a categorical value is one byte on the input stream")
        n_cat = len(self.categorical_values)
        _check_int("categorical_values", n_cat, *LIMITS["categorical_attributes"],
                   "the attribute index is a 6-bit field")
        names = self.categorical_names if self.categorical_names is not None else n_cat
        set_("categorical_names", _names(names, "c", "categorical_names"))
        if len(self.categorical_names) != n_cat:
            raise ConfigError(f"categorical_names: {len(self.categorical_names)} names for "
                              f"{n_cat} categorical attributes (categorical_values)")
        if set(self.categorical_names) & set(self.numeric_attributes):
            raise ConfigError("categorical_names: a name is also a numeric attribute: "
                              f"{sorted(set(self.categorical_names) & set(self.numeric_attributes))}")
        if n_num + n_cat == 0:
            raise ConfigError("numeric_attributes, categorical_values: the learner needs at least "
                              "one attribute")

        ranges = self.numeric_ranges
        if ranges is None:
            ranges = [(-1.0, 1.0)] * n_num
        if not isinstance(ranges, (list, tuple)) or len(ranges) != n_num:
            raise ConfigError(f"numeric_ranges: expected {n_num} pairs [low, high] (one per numeric "
                              f"attribute), got {ranges!r}")
        checked = []
        for i, pair in enumerate(ranges):
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)):
                raise ConfigError(f"numeric_ranges[{i}]: expected [low, high], got {pair!r}")
            lo, hi = float(pair[0]), float(pair[1])
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ConfigError(f"numeric_ranges[{i}]: need finite low < high, got [{lo}, {hi}]")
            checked.append((lo, hi))
        set_("numeric_ranges", tuple(checked))

        classes = self.classes
        if isinstance(classes, bool):
            raise ConfigError(f"classes: expected a count or a list of labels, got {classes!r}")
        if isinstance(classes, int):
            _check_int("classes", classes, *LIMITS["classes"])
            classes = tuple(range(classes))
        if not isinstance(classes, (list, tuple)) or not all(
                isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes):
            raise ConfigError(f"classes: expected a count or a list of labels, got {classes!r}")
        _check_int("classes", len(classes), *LIMITS["classes"], "the class index is a 6-bit field")
        if len({str(c) for c in classes}) != len(classes):
            raise ConfigError(f"classes: labels must be unique (as text too), got {list(classes)}")
        set_("classes", tuple(classes))

        _check_int("quantiles", self.quantiles, *LIMITS["quantiles"])
        _check_int("split_points", self.split_points, *LIMITS["split_points"])
        _check_int("word_bits", self.word_bits, *LIMITS["word_bits"])
        _check_int("fraction_bits", self.fraction_bits, 1, self.word_bits - 2,
                   f"a sign bit and one integer bit are needed to hold [-1, 1] in "
                   f"word_bits={self.word_bits}")
        _check_int("count_bits", self.count_bits, *LIMITS["count_bits"],
                   "the squared quality difference must fit 63 bits")
        _check_int("grace_period", self.grace_period, 1, 2**self.count_bits - 1,
                   f"a leaf counts at most 2^count_bits - 1 samples (count_bits={self.count_bits})")
        _check_real("delta", self.delta, 0.0, 1.0, lo_open=True, hi_open=True)
        _check_real("tau", self.tau, 0.0, 1.0, lo_open=False, hi_open=True)
        _check_real("step", self.step, 0.0, 1.0, lo_open=True, hi_open=True)
        set_("delta", float(self.delta))
        set_("tau", float(self.tau))
        set_("step", float(self.step))
        _check_int("max_depth", self.max_depth, *LIMITS["max_depth"],
                   "one node memory per level; the paper's limit")
        _check_int("max_leaves", self.max_leaves, *LIMITS["max_leaves"],
                   "node addresses are at most 16 bits")
        _check_int("split_delay", self.split_delay, 0, 2**20,
                   "samples between a split trial and its outcome")
        _check_int("lanes", self.lanes, 0, max(n_num, 0),
                   f"quantile update lanes: 0 for one per numeric attribute, at most "
                   f"numeric_attributes={n_num}")
        _check_int("divider_stage_bits", self.divider_stage_bits, 1,
                   self.count_bits + 10,
                   "quotient bits per stage of the split trial's dividers, at most their "
                   "count_bits + 10 quotient bits")
        _check_int("retimed_rows", self.retimed_rows, 1, 2**16,
                   "a tree level of at least this many rows compares one level down, in "
                   "a design of one lane (1: every level; more rows than any level has: "
                   "none)")
        _check_int("elements", self.elements, 1, LIMITS["max_leaves"][1],
                   "at most one element per leaf")
        if not isinstance(self.inherit_counts, bool):
            raise ConfigError(f"inherit_counts: expected true or false, got {self.inherit_counts!r}")
        for name, allowed in (("number", NUMBER_MODES),
                              ("initial_quantiles", INITIAL_QUANTILE_RULES),
                              ("step_schedule", STEP_SCHEDULES),
                              ("hoeffding_n", HOEFFDING_N),
                              ("out_of_range", OUT_OF_RANGE_POLICIES),
                              ("judge", JUDGES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}: {getattr(self, name)!r} is not one of {list(allowed)}")

        # Fixed-point constants: a quantile step that rounds to zero never moves.
        from reference.fixedpoint import FixedPointError, fixed_constants

        try:
            self._derived["fixed"] = fixed_constants(self)
        except FixedPointError as exc:
            raise ConfigError(str(exc)) from None

    # -- derived views ---------------------------------------------------
    @property
    def n_numeric(self) -> int:
        return len(self.numeric_attributes)

    @property
    def n_categorical(self) -> int:
        return len(self.categorical_values)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return self.numeric_attributes + self.categorical_names

    @property
    def leaf_capacity(self) -> int:
        """Leaves the tree can reach: ``max_leaves``, or fewer when ``max_depth`` binds."""
        return min(self.max_leaves, 2**self.max_depth)

    @property
    def element_capacity(self) -> int:
        """Elements that can ever be in use: one per leaf, at most ``elements``."""
        return min(self.elements, self.leaf_capacity)

    @property
    def fixed(self):
        """Integer constants of the fixed-point mode (see :mod:`reference.fixedpoint`)."""
        return self._derived["fixed"]

    # -- I/O ----------------------------------------------------------------
    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed, validated again."""
        unknown = set(changes) - _FIELD_NAMES
        if unknown:
            raise ConfigError(f"unknown configuration field(s): {sorted(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = [list(p) if isinstance(p, tuple) else p for p in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "configuration") -> Config:
        _refuse_unknown(data, source)
        return cls(**dict(data))

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        return cls.from_dict(read_toml_fields(path), source=str(path))


def read_toml_fields(path: str | Path) -> dict[str, Any]:
    """The fields a TOML configuration file sets, unvalidated but with no unknown key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _refuse_unknown(data, str(path))
    return data


def _refuse_unknown(data: Mapping[str, Any], source: str) -> None:
    """A field the configuration does not have: name it, and the likely one meant."""
    unknown = sorted(set(data) - _FIELD_NAMES)
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(_FIELD_NAMES), n=1)
        if close:
            hints.append(f"{name!r}: did you mean {close[0]!r}?")
    hint = f" ({'; '.join(hints)})" if hints else ""
    raise ConfigError(f"{source}: unknown field(s) {unknown}{hint}; known fields are "
                      f"{sorted(_FIELD_NAMES)}")


_FIELD_NAMES = {f.name for f in fields(Config) if not f.name.startswith("_")}

EXAMPLE_TOML = """\
# hardodt configuration: one file for the golden model and the hardware.
# Every field may be left out; the value shown is the default.

# Numeric attributes: a count, or a list of names (names are the dict keys of learn_one).
numeric_attributes = ["x0", "x1"]
# Declared range of each numeric attribute, mapped onto [-1, 1] before learning.
# Leave out for [-1, 1] each.
numeric_ranges = [[-1.0, 1.0], [-1.0, 1.0]]
# Categorical attributes: the number of values of each (values are 0..V-1).
categorical_values = []
# categorical_names = ["c0"]   # optional names, one per categorical attribute
# Classes: a count (labels 0..k-1) or a list of labels.
classes = [0, 1]

quantiles = 8          # Q: quantile estimates per leaf, attribute and class
split_points = 10      # P: candidate thresholds per numeric attribute
grace_period = 200     # n_min: samples at a leaf between split trials
delta = 0.001          # Hoeffding confidence
tau = 0.05             # tie threshold (0 turns the tie rule off)
step = 0.01            # lambda: quantile step size
# "constant": every step is lambda (the paper); "decreasing": a class's first
# samples take larger steps, max(lambda, 2^-floor(log2 n_j)). See docs/algorithm.md.
step_schedule = "decreasing"
max_depth = 15         # root is depth 0
max_leaves = 1024      # node memories hold at most this many leaves
elements = 512         # E: leaves that keep statistics (the rest predict a fixed class);
                       # 512 lets the default design fit an ECP5-85F

number = "fixed"       # "fixed" (bit-exact hardware arithmetic) or "float"
word_bits = 32         # fixed point: word width, 8..32
fraction_bits = 30     # fixed point: fraction bits, 1..word_bits-2
count_bits = 20        # width of the per-leaf sample counters (saturate, see docs)

# Initial quantiles of a new leaf: "range" (spread over the range the leaf
# inherits), "centre" (all at the range's middle) or "first" (the first sample
# of each class). See docs/algorithm.md.
initial_quantiles = "first"
# New leaves start with the class counts their side had at the split (true), or
# with none (false). See docs/algorithm.md.
inherit_counts = false
# The n of the Hoeffding bound and the tie rule: "inherited" starts a new leaf's
# n at the samples its side had at the split (MOA, river); "learned" counts only
# the samples the leaf has learned. See docs/algorithm.md.
hoeffding_n = "inherited"
# Samples between a split trial and its outcome: a trial due at sample s sees the
# leaf as it is after s, and its split is applied before sample s + split_delay + 1
# (0: at once, the textbook order). The hardware evaluates trials while samples
# keep flowing, so it needs at least its pipeline depth here. See docs/algorithm.md.
split_delay = 128
# Hardware only (results do not depend on it): quantile update lanes, 0 = one per
# numeric attribute (one sample per cycle); fewer lanes share their units over
# ceil(attributes / lanes) cycles per sample.
lanes = 0
# Hardware only, area against clock and trial length (results do not depend on
# them). Quotient bits per stage of the split trial's two pipelined dividers:
# more bits, fewer registers and a shorter trial, but a longer path.
divider_stage_bits = 2
# Hardware only, with one lane (tree levels of one stage; with more lanes every
# level takes two stages and this has no effect): a tree level of at least this
# many rows compares its node one level down, so its memory's output meets no
# comparison on its way to the next stage, for more LUTs. 64: the levels that
# are block RAMs on an ECP5; 1: every level (on the 85F no faster: docs/model.md).
retimed_rows = 64
# A numeric value outside its declared range: "saturate" (clamp and count) or "error".
out_of_range = "saturate"
"""
