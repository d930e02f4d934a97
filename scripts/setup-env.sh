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
# The report page's browser test (tests/harness/test_report_browser.py) needs headless Chromium: install Debian's
# where this runs as root with apt-get; elsewhere the test skips and says how (scripts/test.sh makes it fail instead).
# The same for shellcheck, which scripts/test.sh runs over the scripts the CI workflows call.
missing=()
command -v chromium-headless-shell >/dev/null || missing+=(chromium-headless-shell)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) ||
    echo "setup-env: could not install ${missing[*]}; the tests that need them will say so" >&2
fi
