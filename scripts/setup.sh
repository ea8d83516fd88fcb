#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine (or any Linux with Python >= 3.10) for minigrad:
# Graphviz through apt-get, and a virtual environment in .venv (reused when present) holding
# minigrad and the extras asked for. Never installs into the system Python.
#
#   bash scripts/setup.sh examples         # what the examples need
#   bash scripts/setup.sh test,examples    # and what the tests need (torch 2.13, their oracle)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-examples}"
venv="${MINIGRAD_VENV:-.venv}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

sudo=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -E"; fi
export DEBIAN_FRONTEND=noninteractive  # no prompts from a package's configuration (tzdata...)

apt_install() {  # one line of progress; apt's own output only when it fails
  echo "setup: apt-get install $*"
  if ! $sudo apt-get install -y -q "$@" >"$log" 2>&1; then
    echo "setup: apt-get update (the package lists are old or missing)"
    $sudo apt-get update -q >"$log" 2>&1 && $sudo apt-get install -y -q "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
  fi
}

if ! command -v dot >/dev/null 2>&1; then
  # Graphviz's `dot` renders minigrad.viz's drawings; the Python package alone cannot.
  apt_install graphviz || echo "setup: warning: no Graphviz; graph rendering will fail and its tests be skipped" >&2
fi

if [ -x "$venv/bin/python" ]; then
  echo "setup: using the virtual environment $(cd "$venv" && pwd)"
else
  echo "setup: creating the virtual environment $(pwd)/$venv"
  if ! python3 -m venv "$venv" >"$log" 2>&1; then
    # Debian and Ubuntu ship venv's pip bootstrap as a separate package (python3-venv, or
    # python3.X-venv for the exact version).
    rm -rf "$venv"
    version="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install "python${version}-venv" || apt_install python3-venv
    python3 -m venv "$venv"
  fi
fi

pip_args=(--disable-pip-version-check --progress-bar off)
if [[ ",$extras," == *",test,"* ]] && [ "$(uname -s)" = "Linux" ]; then
  # torch is the tests' oracle. On Linux PyPI's torch is the CUDA build (several GB); its CPU
  # build lives on torch's own index: use it when that index can be reached.
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('https://download.pytorch.org/whl/cpu/torch/', timeout=5)" \
      >/dev/null 2>&1; then
    pip_args+=(--extra-index-url https://download.pytorch.org/whl/cpu)
  fi
fi
echo "setup: pip install -e \".[$extras]\" into $venv (the first time takes a few minutes)"
# One line per package pip fetches, so a long install is never silent.
"$venv/bin/python" -m pip install "${pip_args[@]}" -e ".[$extras]" 2>&1 | tee "$log" \
  | grep --line-buffered -E "^(Collecting|Successfully installed)" | sed -u 's/^/setup:   /' || true
status="${PIPESTATUS[0]}"
if [ "$status" != "0" ]; then
  cat "$log" >&2
  exit "$status"
fi
echo "setup: done. To use this environment yourself: . $venv/bin/activate"
