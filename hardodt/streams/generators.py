"""Seeded synthetic streams from river's generators: SEA, Hyperplane, RandomRBF, Agrawal, LED.

Each is drawn into a :class:`Stream` (numeric attributes keep river's values;
Agrawal's ``elevel``, ``car`` and ``zipcode`` and LED's segments are
categorical), so the same samples feed hardodt and the baselines.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hardodt.streams.table import Stream, _sort_labels

__all__ = ["GENERATORS", "generate"]


def _sea(seed: int):
    from river.datasets import synth

    return synth.SEA(variant=0, noise=0.1, seed=seed), ()


def _hyperplane(seed: int):
    from river.datasets import synth

    return synth.Hyperplane(seed=seed, n_features=10, mag_change=0.001), ()


def _rbf(seed: int):
    from river.datasets import synth

    return synth.RandomRBF(seed_model=seed, seed_sample=seed + 1, n_classes=4, n_features=10,
                           n_centroids=50), ()


def _agrawal(seed: int):
    from river.datasets import synth

    return synth.Agrawal(classification_function=2, seed=seed, perturbation=0.05), (
        "elevel", "car", "zipcode")


def _led(seed: int):
    from river.datasets import synth

    gen = synth.LED(seed=seed, noise_percentage=0.1, irrelevant_features=True)
    return gen, tuple(range(24))


#: name -> (factory, description)
GENERATORS: dict[str, tuple[Callable, str]] = {
    "sea": (_sea, "SEA concept 0, 3 numeric attributes, 10% label noise, 2 classes"),
    "hyperplane": (_hyperplane, "rotating hyperplane, 10 numeric attributes, 5% noise, 2 classes"),
    "rbf": (_rbf, "RandomRBF, 10 numeric attributes, 50 centroids, 4 classes"),
    "agrawal": (_agrawal, "Agrawal function 2, 6 numeric + 3 categorical, 5% perturbation"),
    "led": (_led, "LED, 24 binary (categorical) attributes, 10% noise, 10 classes"),
}


def generate(name: str, samples: int, seed: int = 1) -> Stream:
    """Draw ``samples`` samples of generator ``name`` with ``seed``."""
    if name not in GENERATORS:
        raise ValueError(f"unknown generator {name!r}; known: {sorted(GENERATORS)}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    gen, cat_keys = GENERATORS[name][0](seed)
    rows, labels = [], []
    for x, y in gen.take(samples):
        rows.append(x)
        labels.append(str(int(y)) if isinstance(y, (bool, np.bool_)) else str(y))
    keys = list(rows[0])
    num_keys = [k for k in keys if k not in cat_keys]
    cat_list = [k for k in keys if k in cat_keys]
    numeric = np.array([[r[k] for k in num_keys] for r in rows], dtype=np.float64)
    levels, codes = [], np.zeros((len(rows), len(cat_list)), dtype=np.int64)
    for c, k in enumerate(cat_list):
        lv = _sort_labels({str(r[k]) for r in rows})
        index = {v: j for j, v in enumerate(lv)}
        codes[:, c] = [index[str(r[k])] for r in rows]
        levels.append(lv)
    return Stream(
        name=f"{name}(seed={seed})",
        numeric=numeric.reshape(len(rows), len(num_keys)),
        categorical=codes,
        labels=np.array(labels),
        numeric_names=[str(k) for k in num_keys],
        categorical_names=[f"c{k}" if isinstance(k, int) else str(k) for k in cat_list],
        categorical_levels=levels,
    )
