"""The Hard-ODT paper's own performance and resource model (its Xilinx design), as printed.

This is not a model of our hardware (that is :mod:`hardodt.estimate`); it
reproduces the paper's equations (docs/hardodt-spec section 3) so that a reader
can check they were read correctly against the paper's reported builds, and so
that sweeps can show the paper's figure beside ours:

* latency ``L_buff + 3 * depth + L_pred`` with ``L_buff = 8`` and ``L_pred = 2``;
* throughput ``[log2(labels) + 32 N + B_C C] * f`` bits/s at one sample per cycle;
* execution cycles ``c * S + C_cold`` with ``c = 1.047``;
* DSPs ``(3 L + 12) N + (2 L + 4) C + 4`` (``L`` labels);
* the quantile store, which dominates the BRAM (36 Kb blocks):
  ``N * (ceil(2^(ceil(log2 E) + ceil(log2 L) - 10)) * 2 Q + ceil(8 Q / 9) * L)``.

The data sets' attribute counts are those of the UCI versions the paper used
(Electricity: 7 numeric and the categorical day, as its text says).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["paper_model", "PAPER_DATASETS", "PAPER_REPORTED", "paper_table"]

#: name: (numeric, categorical, labels, samples)
PAPER_DATASETS = {
    "Bank": (7, 9, 2, 45_211),
    "Telescope": (10, 0, 2, 19_020),
    "Electricity": (7, 1, 2, 45_312),
    "Covertype": (10, 44, 7, 581_012),
    "Person": (3, 1, 11, 164_860),
}

#: The ranges the paper reports over its five builds (VCU1525, UltraScale+ VU9P).
PAPER_REPORTED = {"dsp": (138, 1126), "bram36": (384, 1822), "lut": (54_000, 169_000),
                  "fmax_mhz": (170, 308), "cycles_per_sample": 1.047,
                  "speedup_vs_cpp": (384, 1581)}


def paper_model(numeric: int, categorical: int, labels: int, *, depth: int = 15,
                elements: int = 1024, quantiles: int = 8, samples: int = 0,
                clock_mhz: float = 200.0, categorical_bits: int = 8) -> dict[str, Any]:
    """The paper's equations for one data set (see the module docstring)."""
    lab_bits = math.ceil(math.log2(labels)) if labels > 1 else 1
    dsp = (3 * labels + 12) * numeric + (2 * labels + 4) * categorical + 4
    e_bits = math.ceil(math.log2(elements))
    per_attr = (math.ceil(2 ** (e_bits + lab_bits - 10)) * 2 * quantiles
                + math.ceil(8 * quantiles / 9) * labels)
    c = PAPER_REPORTED["cycles_per_sample"]
    bits = lab_bits + 32 * numeric + categorical_bits * categorical
    return {
        "dsp": dsp,
        "bram36_quantile_store": numeric * per_attr,
        "latency_cycles": 8 + 3 * depth + 2,
        "cycles": c * samples + (8 + 3 * depth + 2),
        "bits_per_s": bits * clock_mhz * 1e6,
    }


def paper_table(**kwargs: Any) -> list[dict[str, Any]]:
    """The model for each of the paper's data sets, one row each."""
    rows = []
    for name, (n, c, lab, s) in PAPER_DATASETS.items():
        rows.append({"dataset": name, "numeric": n, "categorical": c, "labels": lab,
                     **paper_model(n, c, lab, samples=s, **kwargs)})
    return rows
