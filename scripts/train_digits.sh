#!/usr/bin/env bash
# Sets up a fresh machine and trains an MLP on scikit-learn's bundled 8x8 digits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 examples/train_digits.py "$@"
