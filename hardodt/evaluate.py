"""Prequential (test-then-train) evaluation: each sample is predicted, then learned."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from hardodt.streams.table import Stream
from reference.encode import InputError, encode_categorical, encode_numeric
from reference.tree import QuantileHoeffdingTree

__all__ = ["PrequentialResult", "prequential", "kappa", "warm_up"]


def kappa(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Cohen's kappa of the predictions against the labels (0 when chance is perfect)."""
    s = y_true.shape[0]
    if s == 0:
        return 0.0
    p0 = float(np.mean(y_true == y_pred))
    pt = np.bincount(y_true, minlength=n_classes) / s
    pp = np.bincount(y_pred, minlength=n_classes) / s
    pe = float(pt @ pp)
    return 0.0 if pe >= 1.0 else (p0 - pe) / (1.0 - pe)


@dataclass
class PrequentialResult:
    samples: int
    accuracy: float
    kappa: float
    leaves: int
    depth: int
    samples_per_s: float
    seconds: float
    stats: dict = field(default_factory=dict)
    curve: list = field(default_factory=list)  # (samples, windowed accuracy) pairs

    def to_dict(self) -> dict:
        return asdict(self)


def warm_up(config) -> None:
    """Compile (or load from numba's cache) the kernels for this mode, outside any timing."""
    cfg = config.replace(grace_period=2)
    model = QuantileHoeffdingTree(cfg)
    rng = np.random.default_rng(0)
    n = 64
    # inside each declared range, so that out_of_range = "error" holds too
    lo = np.array([r[0] for r in cfg.numeric_ranges]).reshape(1, cfg.n_numeric)
    hi = np.array([r[1] for r in cfg.numeric_ranges]).reshape(1, cfg.n_numeric)
    xn = lo + (hi - lo) * rng.uniform(0, 1, size=(n, cfg.n_numeric))
    xc = np.zeros((n, cfg.n_categorical))
    labels = [cfg.classes[i % cfg.n_classes] for i in range(n)]
    model.prequential(np.hstack([xn, xc]), labels)


def prequential(model: QuantileHoeffdingTree, stream: Stream, *, chunk: int = 8192,
                window: int = 1000,
                progress: Callable[[int, int], None] | None = None) -> PrequentialResult:
    """Run ``stream`` through ``model`` test-then-train; time everything from raw values on."""
    cfg = model.config
    s = len(stream)
    preds = np.empty(s, dtype=np.int64)
    t0 = time.perf_counter()
    codes = []
    for label in stream.classes:
        try:
            codes.append(model.label_index(label))
        except InputError as exc:  # say where the stream first has it
            first = int(np.flatnonzero(stream.labels == label)[0])
            raise InputError(f"sample {first}: {exc}") from None
    y = np.array(codes, dtype=np.int64)
    index = {c: i for i, c in enumerate(stream.classes)}
    yi = y[np.array([index[v] for v in stream.labels.tolist()], dtype=np.int64)]
    for start in range(0, s, chunk):
        stop = min(s, start + chunk)
        xn, n_out = encode_numeric(cfg, stream.numeric[start:stop], first_row=start)
        xc = encode_categorical(cfg, stream.categorical[start:stop], first_row=start)
        model.saturated_values += n_out
        preds[start:stop] = model.prequential_encoded(xn, xc, yi[start:stop])
        if progress is not None:
            progress(stop, s)
    seconds = time.perf_counter() - t0
    hits = preds == yi
    curve = [(min(s, i + window), float(hits[i:i + window].mean())) for i in range(0, s, window)]
    return PrequentialResult(
        samples=s,
        accuracy=float(hits.mean()),
        kappa=kappa(yi, preds, cfg.n_classes),
        leaves=model.n_leaves,
        depth=model.depth,
        samples_per_s=s / seconds if seconds > 0 else float("inf"),
        seconds=seconds,
        stats=model.stats,
        curve=curve,
    )
