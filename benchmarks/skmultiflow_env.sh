#!/usr/bin/env bash
# Build a separate environment with scikit-multiflow 0.5.3, the design card's baseline.
#
# It cannot share the project's environment: its source distribution ships
# Cython-generated C older than Python 3.11 (longintrepr.h is gone), so the C is
# regenerated with Cython < 3 and built against numpy 1.23.5 without build
# isolation; it uses np.float (numpy < 1.24) and sklearn.utils.tosequence
# (scikit-learn < 1.3); pandas < 2.1 keeps numpy at 1.23.5.
#
# Usage: benchmarks/skmultiflow_env.sh [ENV_DIR]   (default: .venv-skmultiflow)
# Prints the environment's python on success; exits non-zero if it cannot build.
set -euo pipefail
env_dir=${1:-.venv-skmultiflow}
py=${PYTHON:-python3}
if [ -x "$env_dir/bin/python" ] && "$env_dir/bin/python" -c \
    "from skmultiflow.trees import HoeffdingTreeClassifier" 2>/dev/null; then
  echo "$env_dir/bin/python"
  exit 0
fi
"$py" -m venv "$env_dir"
pins=("numpy==1.23.5" "scikit-learn==1.2.2" "scipy<1.12" "pandas<2.1" "Cython<3" "setuptools<70" wheel)
"$env_dir/bin/pip" install -q "${pins[@]}" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$env_dir/bin/pip" download -q --no-deps --no-binary :all: scikit-multiflow==0.5.3 -d "$work" >&2
tar xzf "$work"/scikit-multiflow-0.5.3.tar.gz -C "$work"
src="$work/scikit-multiflow-0.5.3"
for pyx in "$src"/src/skmultiflow/metrics/*.pyx; do
  "$env_dir/bin/cython" -3 "$pyx" >&2
done
"$env_dir/bin/pip" install -q --no-build-isolation --no-deps "$src" >&2
"$env_dir/bin/pip" install -q "${pins[@]}" "matplotlib<3.9" sortedcontainers >&2
"$env_dir/bin/python" -c "from skmultiflow.trees import HoeffdingTreeClassifier" >&2
echo "$env_dir/bin/python"
