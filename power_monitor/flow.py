"""The paper's flow on one kernel's data set, then online learning.

1. The first ``fit_windows`` windows fix the architecture: recursive feature
   elimination with a CART regression tree's importances keeps at most
   ``max_signals`` registers; k-means on the power, with k (2..``max_clusters``)
   chosen by silhouette score, turns power into classes (the centre of each
   cluster is the power the monitor reports for it).
2. The online learner (the golden model, and optionally the RTL in co-simulation,
   which must agree with it exactly) sees the windows test-then-train. By default it
   also learns from the fitting windows (they are labelled once the clusters are
   fixed), and is scored on the windows after them; ``warm=False`` starts it empty
   at the first window after the fitting ones (the cold-start figure is reported
   either way).
3. Offline baselines (scikit-learn CART of the same depth): trained on a random
   80 % of all windows and tested on the other 20 % (the paper's protocol), and
   trained only on the fitting windows, tested on the windows after the
   workload's drift. The online learner and the 80/20 tree are scored on the
   same windows: the test windows from the first one the online learner is
   scored on (its predictions there were made before it learned them). The
   accuracy of the true classes on those windows (``ceiling_acc``) is how far
   the clustering alone lets any classifier go.

Accuracy = 100 % minus the mean relative error between the predicted cluster's
centre power and the window's true power.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardodt.config import Config
from power_monitor.dataset import Dataset

__all__ = ["FlowResult", "accuracy", "choose_clusters", "learner_config", "run_flow",
           "select_signals"]


def accuracy(centres: np.ndarray, predicted: np.ndarray, power: np.ndarray) -> float:
    """100 minus the mean relative error (%) of the predicted clusters' centre powers."""
    power = np.asarray(power, dtype=np.float64)
    if len(power) == 0:
        raise ValueError("accuracy of no windows")
    if np.any(power <= 0):
        raise ValueError("power must be positive to take a relative error")
    return float(100.0 * (1.0 - np.mean(np.abs(centres[predicted] - power) / power)))


def select_signals(features: np.ndarray, power: np.ndarray, max_signals: int = 8,
                   *, seed: int = 0) -> list[int]:
    """Indices of at most ``max_signals`` features kept by recursive elimination with a CART
    regression tree's importances (features that never change are dropped first)."""
    from sklearn.feature_selection import RFE
    from sklearn.tree import DecisionTreeRegressor

    features = np.asarray(features, dtype=np.float64)
    live = np.flatnonzero(features.std(axis=0) > 0)
    if len(live) == 0:
        raise ValueError("no register toggles in the fitting windows: nothing to select")
    if len(live) <= max_signals:
        return [int(i) for i in live]
    rfe = RFE(DecisionTreeRegressor(max_depth=8, random_state=seed),
              n_features_to_select=max_signals, step=1)
    rfe.fit(features[:, live], power)
    return [int(i) for i in live[rfe.support_]]


def choose_clusters(power: np.ndarray, max_clusters: int = 5, *, seed: int = 0
                    ) -> tuple[np.ndarray, dict[int, float]]:
    """k-means of the power for k = 2..max_clusters; the k with the best silhouette score.
    Returns the centres in ascending order and the score of each k."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if max_clusters < 2:
        raise ValueError("at least two clusters are needed to classify power")
    x = np.asarray(power, dtype=np.float64).reshape(-1, 1)
    if len(np.unique(x)) < 2:
        raise ValueError("the power never changes in the fitting windows: nothing to cluster")
    scores, fits = {}, {}
    sample = min(len(x), 5000)
    for k in range(2, min(max_clusters, len(np.unique(x))) + 1):
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
        scores[k] = float(silhouette_score(x, km.labels_, sample_size=sample, random_state=seed))
        fits[k] = np.sort(km.cluster_centers_.ravel())
    best = max(scores, key=lambda k: scores[k])
    return fits[best], scores


def nearest(centres: np.ndarray, power: np.ndarray) -> np.ndarray:
    """The class of each window: the index of the nearest centre."""
    return np.abs(np.asarray(power)[:, None] - centres[None, :]).argmin(axis=1)


def _attribute_name(register: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", register)


def learner_config(registers: list[str], widths: list[int], window: int, classes: int) -> Config:
    """The monitor's learner: one numeric attribute per selected register, its range a power
    of two at or above the most toggles a window can hold (so the hardware encodes a count
    with a shift), depth 7, E = 64, Q = 8 as in the paper, 16-bit words, delta = 0.01.
    A grace period of 20 windows and a tie threshold of 0.3: a window stream is short
    (15,000 windows, not millions) and drifts, so a leaf must split within a few hundred
    windows of new activity (with the paper-like 50 and 0.05 the histogram's monitor took
    some 3,000 windows to recover from its drift, docs/power.md). One quantile lane: a
    sample comes once per window (hundreds of cycles), so the resource model's smallest
    design is the one to build (8 attributes, 5 classes on ECP5: about
    18.6k LUTs against 47k with a lane per attribute)."""
    names, ranges = [], []
    for reg, width in zip(registers, widths, strict=True):
        names.append(_attribute_name(reg))
        ranges.append((0.0, float(2 ** math.ceil(math.log2(max(2, width * window))))))
    return Config(numeric_attributes=tuple(names), numeric_ranges=tuple(ranges),
                  classes=classes, quantiles=8, split_points=8, grace_period=20, delta=0.01,
                  tau=0.3,
                  max_depth=7, max_leaves=64, elements=64, word_bits=16, fraction_bits=14,
                  count_bits=16, split_delay=64, lanes=1)


@dataclass
class FlowResult:
    kernel: str
    signals: list[str]
    centres: list[float]
    silhouette: dict[int, float]
    config: Config
    online_acc: float  # test-then-train, on the offline tree's test windows after the fitting ones
    offline_acc: float  # CART trained on a random 80 %, on the same windows
    online_after_drift: float
    offline_early_after_drift: float  # CART trained on the fitting windows only
    online_pred: np.ndarray  # class per window from fit_windows on
    offline_pred: np.ndarray  # the early CART's class per window from fit_windows on
    fit_windows: int
    positions: list[list[int]] = field(default_factory=list)  # counted bits of each signal
    cosim: dict | None = None
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"kernel": self.kernel, "signals": self.signals,
                "clusters": len(self.centres), "centres_mW": [round(c * 1e3, 4) for c in self.centres],
                "online_acc": round(self.online_acc, 2), "offline_acc": round(self.offline_acc, 2),
                "online_after_drift": round(self.online_after_drift, 2),
                "offline_early_after_drift": round(self.offline_early_after_drift, 2),
                "cosim": self.cosim, **self.extra}


def run_flow(ds: Dataset, *, fit_windows: int = 5000, max_signals: int = 8, max_clusters: int = 5,
             seed: int = 0, warm: bool = True, cosim_dir: Path | None = None,
             progress=None) -> FlowResult:
    """The whole flow on ``ds``; with ``cosim_dir`` the RTL learner runs the online part too
    (Verilator) and must agree with the golden model on every window."""
    from sklearn.tree import DecisionTreeClassifier

    from reference import QuantileHoeffdingTree

    say = progress or (lambda text: None)
    n = ds.windows
    if not 0 < fit_windows < n:
        raise ValueError(f"fit_windows must be between 1 and {n - 1} (the data set has {n} windows)")
    if not fit_windows < ds.drift_window <= n:
        raise ValueError(f"the workload drifts at window {ds.drift_window}, which must come after "
                         f"the {fit_windows} fitting windows")
    X = ds.toggles.astype(np.float64)
    P = ds.power
    say(f"{ds.kernel}: selecting signals")
    from power_monitor.kernels import KERNELS

    usable = np.arange(len(ds.registers))
    if ds.kernel in KERNELS:  # only registers the monitor in hardware can find by name
        from power_monitor.monitor import monitorable

        keep = set(monitorable(ds.kernel, ds.registers))
        usable = np.array([i for i, r in enumerate(ds.registers) if r in keep], dtype=np.int64)
        if len(usable) == 0:
            raise ValueError(f"no register of {ds.kernel} can be found by name for the monitor")
    chosen = [int(usable[i]) for i in
              select_signals(X[:fit_windows, usable], P[:fit_windows], max_signals, seed=seed)]
    say(f"{ds.kernel}: clustering power")
    centres, scores = choose_clusters(P[:fit_windows], max_clusters, seed=seed)
    y = nearest(centres, P)
    regs = [ds.registers[i] for i in chosen]
    cfg = learner_config(regs, [ds.widths[i] for i in chosen], ds.window, len(centres))
    Xs = X[:, chosen]
    say(f"{ds.kernel}: online learning ({n - fit_windows} windows)")
    model = QuantileHoeffdingTree(cfg)
    xn, xc = model._encode_rows(Xs)
    yi = model._label_indices(y)
    start = 0 if warm else fit_windows
    stream = model.prequential_encoded(xn[start:], xc[start:], yi[start:])
    online = np.asarray(stream, dtype=np.int64)[fit_windows - start:]
    cold = QuantileHoeffdingTree(cfg).prequential_encoded(xn[fit_windows:], xc[fit_windows:],
                                                          yi[fit_windows:])
    after = np.arange(fit_windows, n) >= ds.drift_window
    # offline: the paper's random 80/20 split, same depth as the online tree; both are scored
    # on the same windows: the test windows from the first one the online learner is scored on
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    train, test = order[: int(0.8 * n)], order[int(0.8 * n):]
    cart = DecisionTreeClassifier(max_depth=cfg.max_depth, random_state=seed).fit(Xs[train], y[train])
    scored = np.sort(test[test >= fit_windows])
    offline_acc = accuracy(centres, cart.predict(Xs[scored]), P[scored])
    early = DecisionTreeClassifier(max_depth=cfg.max_depth, random_state=seed).fit(
        Xs[:fit_windows], y[:fit_windows])
    early_pred = early.predict(Xs[fit_windows:])
    rest = P[fit_windows:]
    result = FlowResult(
        kernel=ds.kernel, signals=regs, centres=[float(c) for c in centres], silhouette=scores,
        config=cfg, online_acc=accuracy(centres, online[scored - fit_windows], P[scored]),
        offline_acc=offline_acc,
        online_after_drift=accuracy(centres, online[after], rest[after]),
        offline_early_after_drift=accuracy(centres, early_pred[after], rest[after]),
        online_pred=online, offline_pred=early_pred, fit_windows=fit_windows,
        positions=[ds.positions[i] for i in chosen] if ds.positions else [],
        extra={"leaves": model.n_leaves, "depth": model.depth,
               "warm": warm, "scored_windows": len(scored),
               "ceiling_acc": round(accuracy(centres, y[scored], P[scored]), 2),
               # the true classes after the drift: no classifier scores above it there
               "ceiling_after_drift": round(accuracy(centres, y[fit_windows:][after],
                                                     rest[after]), 2),
               "online_all_acc": round(accuracy(centres, online, rest), 2),
               "online_cold_acc": round(accuracy(centres, np.asarray(cold), rest), 2),
               "label_acc_online": round(100.0 * float(np.mean(online == yi[fit_windows:])), 2)})
    from hardodt.estimate import estimate

    est = estimate(cfg, "ecp5").to_dict()
    result.extra["learner_estimate_ecp5"] = {k: est[k] for k in ("lut", "ff", "bram", "dsp")}
    if cosim_dir is not None:
        from sim.cosim import cosimulate

        say(f"{ds.kernel}: co-simulating the RTL learner on {n - start} windows")
        report = cosimulate(cfg, xn[start:], xc[start:], yi[start:], build_dir=Path(cosim_dir))
        agree = (report["mismatches"] == 0 and report["tree_agrees"]
                 and report["stats_hardware"] == report["stats_golden"])
        result.cosim = {"agree": bool(agree), "samples": report["samples"],
                        "mismatches": report["mismatches"], "tree_agrees": report["tree_agrees"],
                        "cycles_per_sample": round(report["cycles_per_sample"], 3)}
    return result
