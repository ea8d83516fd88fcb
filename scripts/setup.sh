#!/usr/bin/env bash
# Installs what minigrad's tests and examples need on a fresh Debian/Ubuntu machine with Python >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dot >/dev/null 2>&1; then
  # Graphviz's `dot` renders the graph drawings (minigrad.viz); the Python package alone cannot.
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get install -y -q graphviz >/dev/null 2>&1 \
    || { $SUDO apt-get update -q && $SUDO apt-get install -y -q graphviz; } \
    || echo "warning: could not install Graphviz; graph rendering tests will be skipped" >&2
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test,examples]"
