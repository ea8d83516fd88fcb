#!/usr/bin/env bash
# Sets up a fresh machine (Graphviz, a virtual environment in .venv with torch 2.13 as the
# tests' oracle) and runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,examples,distributed
venv="${MINIGRAD_VENV:-.venv}"
"$venv/bin/python" -m pytest -q "$@"
