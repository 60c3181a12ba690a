"""The golden model: a Hoeffding tree with quantile statistics (Hard-ODT).

:class:`QuantileHoeffdingTree` owns the state arrays and offers the APIs users
know (river's ``learn_one``/``predict_one``, scikit-learn's
``partial_fit``/``predict``); the arithmetic is in :mod:`reference.kernels`.
The algorithm and every choice the paper leaves open are in
``docs/algorithm.md``.

>>> from hardodt import Config, QuantileHoeffdingTree
>>> cfg = Config(numeric_attributes=["a"], classes=["lo", "hi"], grace_period=20)
>>> model = QuantileHoeffdingTree(cfg)
>>> for i in range(400):
...     v = (i * 37 % 100) / 50 - 1
...     _ = model.learn_one({"a": v}, "hi" if v > 0.2 else "lo")
>>> model.predict_one({"a": 0.9}), model.predict_one({"a": -0.5})
('hi', 'lo')
>>> model.n_leaves
2
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hardodt.config import INITIAL_QUANTILE_RULES, STEP_SCHEDULES, Config
from reference.encode import (
    InputError,
    SampleEncoder,
    decode_numeric,
    encode_categorical,
    encode_numeric,
)
from reference.kernels import (
    CATEGORICAL,
    CONSTANT_NAMES,
    INACTIVE,
    LEAF,
    NUMERIC,
    STAT_NAMES,
    run_stream,
)

__all__ = ["QuantileHoeffdingTree", "InputError"]

_KIND_NAMES = {LEAF: "leaf", INACTIVE: "inactive", NUMERIC: "numeric", CATEGORICAL: "categorical"}
_KIND_CODES = {v: k for k, v in _KIND_NAMES.items()}
JSON_FORMAT = "hardodt-tree"
_ONE_TRUE = np.ones(1, np.bool_)  # read-only use: learn flags of one sample
_ONE_FALSE = np.zeros(1, np.bool_)
_NO_LABEL = np.zeros(1, np.int64)
JSON_VERSION = 2  # 2: the pending split trial is in the state (version 1 files still load)


class QuantileHoeffdingTree:
    """Online decision tree with ``Q`` quantiles per leaf, attribute and class.

    Parameters
    ----------
    config:
        A :class:`hardodt.Config`; keyword arguments override its fields.
    """

    def __init__(self, config: Config | None = None, **overrides: Any) -> None:
        cfg = config if config is not None else Config()
        if overrides:
            cfg = cfg.replace(**overrides)
        self.config = cfg
        self._fixed = cfg.number == "fixed"
        self._vtype = np.int64 if self._fixed else np.float64
        self._mode = np.int64(0) if self._fixed else np.float64(0.0)
        self._labels = {}
        for i, c in enumerate(cfg.classes):
            self._labels[c] = i
            self._labels[str(c)] = i
        self._k = self._constants()
        self._sample_encoder = SampleEncoder(cfg)
        self._no_categorical = np.zeros((1, 0), np.int64)
        self._allocate()
        self.saturated_values = 0

    # -- state -----------------------------------------------------------------
    def _constants(self) -> tuple:
        cfg, fx = self.config, self.config.fixed
        q, p = cfg.quantiles, cfg.split_points
        if self._fixed:
            v = lambda seq: np.array(seq, dtype=np.int64)  # noqa: E731
            up, down, alpha, pos = v(fx.step_up), v(fx.step_down), v(fx.alpha), v(fx.split_position)
            word_min, word_max = np.int64(fx.word_min), np.int64(fx.word_max)
            hk, half = np.int64(fx.hoeffding_k), np.int64(fx.one >> 1)
        else:
            alpha = np.arange(1, q + 1, dtype=np.float64) / (q + 1)
            up, down = cfg.step * alpha, cfg.step * (1.0 - alpha)
            pos = np.arange(1, p + 1, dtype=np.float64) / (p + 1)
            word_min, word_max = np.float64(-np.inf), np.float64(np.inf)
            hk, half = np.float64(np.log(1.0 / cfg.delta) / 2.0), np.float64(0.5)
        values = {
            "step_up": up, "step_down": down, "alpha": alpha, "split_position": pos,
            "fraction_bits": np.int64(cfg.fraction_bits), "word_min": word_min,
            "word_max": word_max, "quality_fraction_bits": np.int64(fx.quality_fraction_bits),
            "hoeffding_k": hk, "count_max": np.int64(fx.count_max),
            "grace_period": np.int64(cfg.grace_period),
            "initial_quantiles": np.int64(INITIAL_QUANTILE_RULES.index(cfg.initial_quantiles)),
            "tie_samples": np.int64(fx.tie_samples), "quantiles": np.int64(q),
            "categorical_values": np.array(cfg.categorical_values, dtype=np.int64),
            "half": half, "max_depth": np.int64(cfg.max_depth),
            "max_leaves": np.int64(cfg.max_leaves), "inherit_counts": np.bool_(cfg.inherit_counts),
            "one": np.int64(fx.one) if self._fixed else np.float64(1.0),
            "step_schedule": np.int64(STEP_SCHEDULES.index(cfg.step_schedule)),
            "inherit_n": np.bool_(cfg.hoeffding_n == "inherited"),
            "split_delay": np.int64(cfg.split_delay),
        }
        return tuple(values[name] for name in CONSTANT_NAMES)

    def _allocate(self) -> None:
        cfg = self.config
        m = 2 * cfg.leaf_capacity - 1
        e, n, c = cfg.element_capacity, cfg.n_numeric, cfg.n_categorical
        cl, q = cfg.n_classes, cfg.quantiles
        vmax = max(cfg.categorical_values, default=1)
        self._tree = (
            np.zeros(m, np.int8),  # kind
            np.zeros(m, np.int32),  # attr
            np.zeros(m, np.int64),  # categorical value
            np.zeros(m, self._vtype),  # threshold
            np.full(m, -1, np.int32),  # element
            np.zeros(m, np.int64),  # class (inactive leaf, or empty leaf's prediction)
            np.full(m, -1, np.int32),  # left
            np.full(m, -1, np.int32),  # right
            np.zeros(m, np.int32),  # depth
            np.array([1, 1, 1], np.int64),  # nodes used, leaves, elements handed out
        )
        self._elem = (
            np.zeros((e, cl), np.int64),  # class counts
            np.zeros(e, np.int64),  # n
            np.zeros(e, np.int64),  # samples since the last split trial
            np.zeros((e, n, cl, q), self._vtype),  # quantiles
            np.zeros((e, n), self._vtype),  # min
            np.zeros((e, n), self._vtype),  # max
            np.zeros((e, c, vmax, cl), np.int64),  # categorical histograms
            np.zeros((e, cl), np.bool_),  # class seen ("first" rule)
        )
        self._stats = np.zeros(len(STAT_NAMES), np.int64)
        self._pending = (np.zeros(6, np.int64), np.zeros(1, self._vtype),
                         np.zeros(cl, self._vtype), np.zeros(cl, self._vtype))
        self._tree[4][0] = 0  # the root holds element 0
        self._reset_element(0, self._root_range())

    def _root_range(self) -> tuple[np.ndarray, np.ndarray]:
        one = self.config.fixed.one if self._fixed else 1.0
        n = self.config.n_numeric
        return np.full(n, -one, self._vtype), np.full(n, one, self._vtype)

    def _reset_element(self, e: int, rng: tuple[np.ndarray, np.ndarray]) -> None:
        from reference.kernels import _init_element

        _init_element(self._mode, self._elem, self._k, e, rng[0], rng[1])

    # -- running -------------------------------------------------------------------
    def _run(self, xn: np.ndarray, xc: np.ndarray, y: np.ndarray, learn: np.ndarray) -> np.ndarray:
        pred = np.zeros(xn.shape[0], np.int64)
        run_stream(self._mode, self._tree, self._elem, self._k, self._stats, self._pending,
                   xn, xc, y, learn, pred, True)
        return pred

    def _query(self, xn: np.ndarray, xc: np.ndarray) -> np.ndarray:
        """Class indices predicted without learning; queries are not stream samples."""
        before = self._stats.copy()
        n = xn.shape[0]
        pred = np.zeros(n, np.int64)
        run_stream(self._mode, self._tree, self._elem, self._k, self._stats, self._pending, xn, xc,
                   _NO_LABEL if n == 1 else np.zeros(n, np.int64),
                   _ONE_FALSE if n == 1 else np.zeros(n, np.bool_), pred, False)
        self._stats[:] = before
        return pred

    def _encode_rows(self, X, first_row: int = 0) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        arr = np.asarray(X)
        width = cfg.n_numeric + cfg.n_categorical
        if arr.ndim != 2 or arr.shape[1] != width:
            raise InputError(f"expected {width} attributes per sample "
                             f"({', '.join(cfg.attribute_names)}), got shape {arr.shape}")
        try:
            num = arr[:, :cfg.n_numeric].astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"numeric attributes must be numbers: {exc}") from None
        xn, n_out = encode_numeric(cfg, num, first_row=first_row)
        xc = encode_categorical(cfg, arr[:, cfg.n_numeric:], first_row=first_row)
        self.saturated_values += n_out
        return xn, xc

    def _encode_dict(self, x: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        names = cfg.attribute_names
        if len(x) != len(names) or any(a not in x for a in names):
            missing = [a for a in names if a not in x]
            extra = [a for a in x if a not in names]
            raise InputError(f"sample attributes do not match the configuration: missing "
                             f"{missing}, unknown {extra}")
        try:
            num = [float(x[a]) for a in cfg.numeric_attributes]
        except (TypeError, ValueError):
            raise InputError(f"attribute values must be numbers, got {dict(x)!r}") from None
        values, n_out = self._sample_encoder.numeric(num)
        self.saturated_values += n_out
        xn = np.array([values], dtype=self._vtype)
        if cfg.n_categorical:
            xc = encode_categorical(cfg, [[x[a] for a in cfg.categorical_names]])
        else:
            xc = self._no_categorical
        return xn, xc

    def label_index(self, label: Any) -> int:
        """Index of a declared class; an undeclared label raises :class:`InputError`."""
        key = label.item() if isinstance(label, np.generic) else label
        try:
            return self._labels[key]
        except (KeyError, TypeError):
            pass
        try:
            return self._labels[str(key)]
        except KeyError:
            raise InputError(f"label {key!r} is not a declared class "
                             f"(classes = {list(self.config.classes)})") from None

    def _label_indices(self, y: Iterable) -> np.ndarray:
        """Class indices of labels; each distinct label is looked up once."""
        arr = np.asarray(list(y) if not isinstance(y, np.ndarray) else y)
        if arr.size == 0:
            return np.zeros(0, np.int64)
        try:
            uniques, inverse = np.unique(arr, return_inverse=True)
        except TypeError:  # labels of mixed types: look each one up
            return np.array([self.label_index(v) for v in arr.tolist()], dtype=np.int64)
        table = np.array([self.label_index(u) for u in uniques], dtype=np.int64)
        return table[inverse.reshape(-1)]

    # -- river-style API -----------------------------------------------------------
    def learn_one(self, x: Mapping[str, Any], y: Any) -> QuantileHoeffdingTree:
        """Learn one sample (a dict keyed by attribute names) with label ``y``."""
        xn, xc = self._encode_dict(x)
        self._run(xn, xc, np.array([self.label_index(y)], np.int64), _ONE_TRUE)
        return self

    def predict_one(self, x: Mapping[str, Any]) -> Any:
        """The majority class of the leaf ``x`` reaches."""
        xn, xc = self._encode_dict(x)
        return self.config.classes[self._query(xn, xc)[0]]

    # -- scikit-learn-style API ----------------------------------------------------
    def partial_fit(self, X, y, classes: Sequence | None = None) -> QuantileHoeffdingTree:
        """Learn the rows of ``X`` (numeric columns, then categorical) in order."""
        if classes is not None and [str(c) for c in classes] != [str(c) for c in
                                                                  self.config.classes]:
            raise InputError(f"classes={list(classes)} differ from the configured classes "
                             f"{list(self.config.classes)}")
        xn, xc = self._encode_rows(X)
        yi = self._label_indices(y)
        if yi.shape[0] != xn.shape[0]:
            raise InputError(f"{xn.shape[0]} samples but {yi.shape[0]} labels")
        self._run(xn, xc, yi, np.ones(xn.shape[0], np.bool_))
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted labels for the rows of ``X``; the model does not change."""
        xn, xc = self._encode_rows(X)
        return np.array(self.config.classes, dtype=object)[self._query(xn, xc)]

    def prequential(self, X, y, *, first_row: int = 0) -> np.ndarray:
        """Test-then-train over a batch: class indices predicted before each sample is learned."""
        xn, xc = self._encode_rows(X, first_row=first_row)
        yi = self._label_indices(y)
        if yi.shape[0] != xn.shape[0]:
            raise InputError(f"{xn.shape[0]} samples but {yi.shape[0]} labels")
        return self._run(xn, xc, yi, np.ones(xn.shape[0], np.bool_))

    def prequential_encoded(self, xn: np.ndarray, xc: np.ndarray, yi: np.ndarray) -> np.ndarray:
        """Test-then-train on already encoded samples (see :mod:`reference.encode`).

        ``yi`` are class indices; they are checked, since the compiled kernel is not.
        """
        if yi.size and (yi.min() < 0 or yi.max() >= self.config.n_classes):
            raise InputError(f"class indices must be in 0..{self.config.n_classes - 1}")
        if not (xn.shape[0] == xc.shape[0] == yi.shape[0]):
            raise InputError(f"{xn.shape[0]} numeric rows, {xc.shape[0]} categorical rows and "
                             f"{yi.shape[0]} labels")
        return self._run(xn, xc, yi, np.ones(xn.shape[0], np.bool_))

    # -- inspection ----------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return int(self._tree[9][0])

    @property
    def n_leaves(self) -> int:
        return int(self._tree[9][1])

    @property
    def n_elements_used(self) -> int:
        return int(self._tree[9][2])

    @property
    def depth(self) -> int:
        """Depth of the deepest leaf (a lone root has depth 0)."""
        return int(self._tree[8][: self.n_nodes].max())

    @property
    def stats(self) -> dict[str, int]:
        out = {name: int(v) for name, v in zip(STAT_NAMES, self._stats, strict=True)}
        out["saturated_values"] = int(self.saturated_values)
        out["leaves"] = self.n_leaves
        out["nodes"] = self.n_nodes
        out["elements_used"] = self.n_elements_used
        out["depth"] = self.depth
        return out

    def nodes(self) -> list[dict[str, Any]]:
        """The tree as a list of node records (index = node id), in user units."""
        cfg = self.config
        kind, attr, value, thr, elem, cls, left, right, depth, _top = self._tree
        cnt = self._elem[0]
        out = []
        for i in range(self.n_nodes):
            rec: dict[str, Any] = {"id": i, "kind": _KIND_NAMES[int(kind[i])],
                                   "depth": int(depth[i])}
            if kind[i] == NUMERIC:
                a = int(attr[i])
                rec.update(attribute=cfg.numeric_attributes[a], attribute_index=a,
                           threshold=_scalar(thr[i]),
                           threshold_value=decode_numeric(cfg, a, thr[i]),
                           left=int(left[i]), right=int(right[i]))
            elif kind[i] == CATEGORICAL:
                a = int(attr[i])
                rec.update(attribute=cfg.categorical_names[a],
                           attribute_index=cfg.n_numeric + a, value=int(value[i]),
                           left=int(left[i]), right=int(right[i]))
            else:
                rec["class"] = int(cls[i])
                if kind[i] == LEAF:
                    e = int(elem[i])
                    rec["element"] = e
                    rec["counts"] = [int(c) for c in cnt[e]]
            out.append(rec)
        return out

    # -- export --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Everything needed to resume learning exactly (or to preload hardware)."""
        used = self.n_elements_used
        kind, attr, value, thr, elem, cls, left, right, depth, top = self._tree
        n = self.n_nodes
        cnt, nn, since, quant, lo, hi, hist, seen = self._elem
        empty = hi[:used] < lo[:used]
        return {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "config": self.config.to_dict(),
            "nodes": self.nodes(),
            "state": {
                "top": top.tolist(),
                "node_kind": kind[:n].tolist(), "node_attr": attr[:n].tolist(),
                "node_value": value[:n].tolist(), "node_threshold": thr[:n].tolist(),
                "node_element": elem[:n].tolist(), "node_class": cls[:n].tolist(),
                "node_left": left[:n].tolist(), "node_right": right[:n].tolist(),
                "node_depth": depth[:n].tolist(),
                "counts": cnt[:used].tolist(), "n": nn[:used].tolist(),
                "since_trial": since[:used].tolist(), "quantiles": quant[:used].tolist(),
                "min": np.where(empty, None, lo[:used]).tolist(),
                "max": np.where(empty, None, hi[:used]).tolist(),
                "histograms": hist[:used].tolist(), "class_seen": seen[:used].tolist(),
                "stats": self._stats.tolist(), "saturated_values": self.saturated_values,
                "pending": {"info": self._pending[0].tolist(),
                            "threshold": self._pending[1].tolist(),
                            "left": self._pending[2].tolist(),
                            "right": self._pending[3].tolist()},
            },
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuantileHoeffdingTree:
        if data.get("format") != JSON_FORMAT:
            raise InputError(f"not a hardodt tree (format = {data.get('format')!r})")
        if data.get("version") not in (1, JSON_VERSION):
            raise InputError(f"tree format version {data.get('version')!r} is not supported "
                             f"(this is version {JSON_VERSION})")
        model = cls(Config.from_dict(data["config"], source="tree file"))
        st = data["state"]
        kind, attr, value, thr, elem, ccls, left, right, depth, top = model._tree
        n = len(st["node_kind"])
        try:
            top[:] = st["top"]
            for arr, key in ((kind, "node_kind"), (attr, "node_attr"), (value, "node_value"),
                             (thr, "node_threshold"), (elem, "node_element"),
                             (ccls, "node_class"), (left, "node_left"), (right, "node_right"),
                             (depth, "node_depth")):
                arr[:n] = st[key]
            used = int(top[2])
            cnt, nn, since, quant, lo, hi, hist, seen = model._elem
            cnt[:used] = st["counts"]
            nn[:used] = st["n"]
            since[:used] = st["since_trial"]
            quant[:used] = np.array(st["quantiles"], dtype=model._vtype).reshape(
                quant[:used].shape)
            k = model._k
            for dst, key, empty in ((lo, "min", k[6]), (hi, "max", k[5])):
                dst[:used] = [[empty if v is None else v for v in row] for row in st[key]]
            hist[:used] = np.array(st["histograms"], dtype=np.int64).reshape(hist[:used].shape)
            seen[:used] = st["class_seen"]
            model._stats[:] = st["stats"]
            if data["version"] >= 2:  # version 1 had no pending trial: none is pending
                for arr, key in zip(model._pending, ("info", "threshold", "left", "right"),
                                    strict=True):
                    arr[:] = st["pending"][key]
            model.saturated_values = int(st["saturated_values"])
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"tree file state does not fit its configuration: {exc}") from None
        return model

    @classmethod
    def load(cls, path: str | Path) -> QuantileHoeffdingTree:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not JSON: {exc}") from None
        try:
            return cls.from_json(data)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None

    def to_text(self) -> str:
        """An indented rendering: one line per node."""
        recs = self.nodes()
        names = self.config.classes
        lines: list[str] = []

        def walk(i: int, prefix: str) -> None:
            r = recs[i]
            if r["kind"] == "numeric":
                lines.append(f"{prefix}{r['attribute']} < {r['threshold_value']:.6g}")
                walk(r["left"], prefix + "|   ")
                lines.append(f"{prefix}{r['attribute']} >= {r['threshold_value']:.6g}")
                walk(r["right"], prefix + "|   ")
            elif r["kind"] == "categorical":
                lines.append(f"{prefix}{r['attribute']} == {r['value']}")
                walk(r["left"], prefix + "|   ")
                lines.append(f"{prefix}{r['attribute']} != {r['value']}")
                walk(r["right"], prefix + "|   ")
            elif r["kind"] == "leaf":
                lines.append(f"{prefix}-> {names[self._predict_node(i)]} (counts {r['counts']})")
            else:
                lines.append(f"{prefix}-> {names[r['class']]} (inactive: no element)")

        walk(0, "")
        return "\n".join(lines)

    def to_dot(self) -> str:
        """A Graphviz rendering (``dot -Tpng``)."""
        names = self.config.classes
        out = ["digraph hardodt {", "  node [shape=box, fontname=Helvetica];"]
        for r in self.nodes():
            i = r["id"]
            if r["kind"] == "numeric":
                out.append(f'  n{i} [label="{r["attribute"]} < {r["threshold_value"]:.6g}"];')
            elif r["kind"] == "categorical":
                out.append(f'  n{i} [label="{r["attribute"]} == {r["value"]}"];')
            elif r["kind"] == "leaf":
                out.append(f'  n{i} [shape=ellipse, label="{names[self._predict_node(i)]}\\n'
                           f'{r["counts"]}"];')
            else:
                out.append(f'  n{i} [shape=ellipse, style=dashed, label="{names[r["class"]]}"];')
            if "left" in r:
                out.append(f'  n{i} -> n{r["left"]} [label="yes"];')
                out.append(f'  n{i} -> n{r["right"]} [label="no"];')
        out.append("}")
        return "\n".join(out)

    def _predict_node(self, node: int) -> int:
        from reference.kernels import _predict_leaf

        return int(_predict_leaf(self._tree, self._elem, node))


def _scalar(v: np.generic) -> int | float:
    return v.item()
