#!/usr/bin/env bash
# Create .venv and install the project with its test extra. torch is pinned to the CPU wheel first:
# without the pin pip may fetch a multi-GB CUDA build. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==${TORCH_VERSION:-2.13.0}"
.venv/bin/python -m pip install -q -e ".[test,lint]"
