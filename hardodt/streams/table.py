"""A stream held in memory: attribute arrays, labels and the schema that describes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hardodt.config import Config, ConfigError

__all__ = ["Stream"]


def _sort_labels(labels) -> list[str]:
    """Numeric-looking labels in numeric order, others in text order."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


@dataclass
class Stream:
    """Samples in stream order.

    ``numeric`` is ``[S, N]`` float64 in the user's units, ``categorical``
    ``[S, C]`` int64 codes into ``categorical_levels``, ``labels`` ``[S]`` text.
    ``ranges`` are the observed min/max of each numeric column.
    """

    name: str
    numeric: np.ndarray
    categorical: np.ndarray
    labels: np.ndarray
    numeric_names: list[str]
    categorical_names: list[str] = field(default_factory=list)
    categorical_levels: list[list[str]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.classes:
            self.classes = _sort_labels({str(v) for v in self.labels})

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def ranges(self) -> list[tuple[float, float]]:
        """Observed ``[min, max]`` per numeric column; a constant column gets ``v +- 0.5``."""
        out = []
        for i in range(self.numeric.shape[1]):
            lo, hi = float(self.numeric[:, i].min()), float(self.numeric[:, i].max())
            out.append((lo, hi) if lo < hi else (lo - 0.5, hi + 0.5))
        return out

    @property
    def features(self) -> np.ndarray:
        """Numeric then categorical columns, as the model's ``partial_fit`` takes them."""
        return np.hstack([self.numeric, self.categorical.astype(np.float64)])

    def dicts(self) -> list[dict[str, Any]]:
        """Samples as dicts (river style); categorical values as their codes."""
        names = self.numeric_names + self.categorical_names
        return [dict(zip(names, row, strict=True)) for row in self.features.tolist()]

    def schema(self) -> dict[str, Any]:
        """The configuration fields this stream fixes: attributes, classes, ranges."""
        if len(self.classes) < 2:
            raise ConfigError(f"{self.name}: the stream has {len(self.classes)} class(es) "
                              f"{self.classes}; a classifier needs at least 2")
        return {
            "numeric_attributes": list(self.numeric_names),
            "numeric_ranges": [list(r) for r in self.ranges],
            "categorical_values": [len(v) for v in self.categorical_levels],
            "categorical_names": list(self.categorical_names),
            "classes": list(self.classes),
        }

    def config(self, declared: Mapping[str, Any] | None = None, **overrides: Any) -> Config:
        """A configuration for this stream.

        Fields come from, lowest priority first: the defaults, this stream's
        schema, ``declared`` (the fields a configuration file sets), then
        ``overrides``. Attributes declared must match the stream's columns.
        """
        fields = self.schema()
        for key, value in (declared or {}).items():
            if key in ("numeric_attributes", "categorical_names", "categorical_values"):
                if value != fields[key]:
                    raise ConfigError(f"{key}: the configuration declares {value} but the "
                                      f"stream {self.name} has {fields[key]}")
            fields[key] = value
        fields.update(overrides)
        return Config.from_dict(fields)
