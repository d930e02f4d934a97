#!/usr/bin/env bash
# Create .venv and install the project with its test extra. Idempotent; safe to re-run.
# torch is installed first, pinned to a version. The pin alone does not choose the CPU build: this workplace's
# pip finds the CPU wheel on local disk, while public PyPI serves Linux the multi-GB CUDA build. Elsewhere set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu for the CPU wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==${TORCH_VERSION:-2.13.0}"
.venv/bin/python -m pip install -q -e ".[test,lint]"
