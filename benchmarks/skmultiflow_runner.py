"""Run scikit-multiflow's HoeffdingTreeClassifier prequentially on a stream saved by compare.py.

Runs inside the scikit-multiflow environment (skmultiflow_env.sh), so it uses
nothing from hardodt. Prints one JSON object: accuracy, samples_per_s, leaves, depth.
"""

import json
import sys
import time

import numpy as np
from skmultiflow.trees import HoeffdingTreeClassifier


def main(path):
    d = np.load(path)
    X, y = d["X"], d["y"]
    classes = np.arange(int(d["n_classes"]))
    model = HoeffdingTreeClassifier(
        grace_period=int(d["grace_period"]), split_confidence=float(d["delta"]),
        tie_threshold=float(d["tau"]),  # 0.5.3 has no depth limit
        split_criterion="gini", leaf_prediction="mc", nb_threshold=0)
    hits = 0
    t0 = time.perf_counter()
    for i in range(X.shape[0]):
        xi = X[i:i + 1]
        if i > 0:
            hits += int(model.predict(xi)[0] == y[i])
        model.partial_fit(xi, y[i:i + 1], classes=classes)
    dt = time.perf_counter() - t0
    info = model.get_model_measurements
    print(json.dumps({"accuracy": hits / X.shape[0], "samples_per_s": X.shape[0] / dt,
                      "leaves": int(info["Tree size (leaves)"]),
                      "depth": int(info["Tree depth"])}))


if __name__ == "__main__":
    main(sys.argv[1])
