"""The golden model's arithmetic for one hardware unit at a time, for unit benches.

A bench that checks one RTL unit needs the golden model's answer for one
operation, not a whole stream. These run exactly the kernel code the model
runs (not a copy of it), on a scratch state that holds only what the operation
reads.
"""

from __future__ import annotations

import numpy as np

from hardodt.config import Config
from reference.kernels import STAT_NAMES, _learn_leaf
from reference.tree import QuantileHoeffdingTree

__all__ = ["GoldenQuantileStep"]

_COUNTS, _N, _QUANTILES, _SEEN = 0, 1, 3, 7  # fields of the element tuple


class GoldenQuantileStep:
    """The quantile update of one attribute and one class, as :class:`rtl.QuantileStep` does it.

    ``step(q, x, count, first)`` returns the ``Q`` estimates after a sample with
    encoded value ``x``, where ``count`` is the class's count at the leaf with this
    sample included and ``first`` marks its first sample under the ``first`` rule.
    """

    def __init__(self, config: Config) -> None:
        scratch = config.replace(numeric_attributes=1, numeric_ranges=None,
                                 categorical_values=(), categorical_names=None, elements=1)
        self._model = QuantileHoeffdingTree(scratch)
        self._stats = np.zeros(len(STAT_NAMES), np.int64)
        self._x = np.zeros(1, np.int64)
        self._no_categorical = np.zeros(0, np.int64)

    def __call__(self, q, x: int, count: int, first: bool) -> list[int]:
        m = self._model
        e = m._elem
        e[_QUANTILES][0, 0, 0] = q
        e[_COUNTS][0, 0] = count - 1  # the kernel counts the sample itself
        e[_N][0] = count - 1
        e[_SEEN][0, 0] = not first
        self._x[0] = x
        _learn_leaf(m._mode, e, m._k, self._stats, 0, self._x, self._no_categorical, 0)
        return e[_QUANTILES][0, 0, 0].tolist()
