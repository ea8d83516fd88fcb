#!/usr/bin/env bash
# Sets up a fresh machine (Graphviz, a virtual environment in .venv) and trains an MLP on
# scikit-learn's bundled 8x8 digits. Extra arguments go to examples/train_digits.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh examples
venv="${MINIGRAD_VENV:-.venv}"
"$venv/bin/python" examples/train_digits.py "$@"
