#!/usr/bin/env bash
# The nightly GPU check, for the nightly workflow (.github/workflows/nightly-gpu.yml) or a plain cron line:
#   17 2 * * *  cd /srv/pruning && git pull -q && bash scripts/nightly.sh >> /srv/nightly/cron.log 2>&1
# Sets up .venv, runs `pytest tests/e2e -m gpu_e2e` keeping every run folder, appends each comparison to the history
# ledger, writes the report pages and the ledger's trend, prints where everything is, and exits non-zero when a
# comparison is red, when a baseline was captured for review, or when nothing ran (no CUDA, no model: a skip is
# not a green night).
# Environment:
#   NIGHTLY_DIR      where nights are kept (default: nightly/ in the checkout); each night gets NIGHTLY_DIR/<UTC time>/
#   PRUNING_HISTORY  the ledger (default: NIGHTLY_DIR/ledger.jsonl)
#   NIGHTLY_SETUP=0  skip scripts/setup-env.sh (an environment that is already set up)
#   NIGHTLY_DRY_RUN=1  the CPU dry run: a tiny random ModernBERT and synthetic rows instead of the seed's model and
#                    data, baselines under NIGHTLY_DIR/baselines (never baselines/); tested in the slow tier
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${NIGHTLY_SETUP:-1}" = 0 ] || bash scripts/setup-env.sh
PY=${NIGHTLY_PYTHON:-.venv/bin/python}
OUT=$(realpath -m "${NIGHTLY_DIR:-nightly}")
NIGHT="$OUT/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$NIGHT/runs"
export PRUNING_GPU_RUNS_DIR="$NIGHT/runs"
export PRUNING_HISTORY="${PRUNING_HISTORY:-$OUT/ledger.jsonl}"
if [ "${NIGHTLY_DRY_RUN:-0}" = 1 ]; then
  export PRUNING_GPU_DRY_RUN=1 PRUNING_GPU_BASELINES="$OUT/baselines"
  echo "nightly: CPU dry run (tiny ModernBERT, synthetic rows); baselines in $PRUNING_GPU_BASELINES"
fi
echo "nightly: $NIGHT"

set +e
# only tests/e2e/ is collected (where the gpu_e2e tests live): importing the other ~1,200 tests would cost each night
# about 10 s of CPU and could fail the night on a test it never runs
"$PY" -m pytest tests/e2e -m gpu_e2e -p no:cacheprovider -rA --junitxml "$NIGHT/junit.xml" "$@" 2>&1 | tee "$NIGHT/pytest.log"
rc=${PIPESTATUS[0]}
set -e

# pytest exits 0 when every test skipped: a night that checked nothing must not look green
ran=$("$PY" - "$NIGHT/junit.xml" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET

cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
print(sum(c.find("skipped") is None for c in cases))
PYEOF
)
if [ "$rc" -eq 0 ] && [ "$ran" -eq 0 ]; then
  echo "nightly: every test skipped (see the skip reasons above): nothing was checked" >&2
  rc=3
fi

if [ -s "$PRUNING_HISTORY" ]; then
  "$PY" -m pruning.cli.baseline history "$PRUNING_HISTORY" -o "$OUT/trend.html" || true
fi

echo
echo "== nightly: where everything is =="
echo "night:    $NIGHT (pytest.log, junit.xml)"
echo "runs:     $PRUNING_GPU_RUNS_DIR"
find "$PRUNING_GPU_RUNS_DIR" -name '*.html' -printf 'report:   %p\n' | sort
echo "ledger:   $PRUNING_HISTORY"
[ ! -f "$OUT/trend.html" ] || echo "trend:    $OUT/trend.html"
if [ "$rc" -eq 0 ]; then echo "verdict:  green"; else echo "verdict:  RED (exit $rc)"; fi
exit "$rc"
