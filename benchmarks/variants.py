"""The learning-quality study: hardodt variants against river on the same streams, in one run.

Each argument is one variant, a comma list of configuration fields; the
defaults and every variant run on Electricity and the five generators (100,000 samples, seed 1)
and prints accuracy and its difference to river's Gaussian Hoeffding tree
(same n_min, delta, tau, max_depth), computed in the same run.

    python benchmarks/variants.py step_schedule=constant step_schedule=decreasing \\
        initial_quantiles=centre inherit_counts=true tau=0.1
"""

from __future__ import annotations

import sys

from hardodt import QuantileHoeffdingTree
from hardodt.evaluate import prequential
from hardodt.streams import GENERATORS

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compare import SETTINGS, load, run_river  # noqa: E402


def parse(text: str) -> dict:
    out = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        low = value.lower()
        if low in ("true", "false"):
            out[key] = low == "true"
        else:
            try:
                out[key] = int(value)
            except ValueError:
                try:
                    out[key] = float(value)
                except ValueError:
                    out[key] = value
    return out


def main(argv: list[str]) -> int:
    names = ["elec", *GENERATORS]
    streams = {n: load(n, 100_000, 1) for n in names}
    river = {n: 100 * run_river(s)["accuracy"] for n, s in streams.items()}
    print("variant".ljust(40) + "".join(f"{streams[n].name[:14]:>18}" for n in names))
    print("river (Gaussian)".ljust(40) + "".join(f"{river[n]:>18.2f}" for n in names))
    for text in ["", *argv]:
        fields = {**SETTINGS, **parse(text)}
        cells = []
        for n in names:
            s = streams[n]
            acc = 100 * prequential(QuantileHoeffdingTree(s.config(**fields)), s).accuracy
            cells.append(f"{acc:.2f} ({acc - river[n]:+.2f})")
        print((text or "defaults").ljust(40) + "".join(f"{c:>18}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
