#!/usr/bin/env bash
# Store a trained model's default threshold, the one `Pruner.prune(q, ctx)` and `pruning-prune -m MODEL` use when
# none is given: the best F2.5 among the swept thresholds that keep recall >= 99 % on DATA (default ja_v3). Prints it.
# Usage: bash scripts/store-default-threshold.sh MODEL_DIR [DATA.json]   (PYTHON: default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: store-default-threshold.sh MODEL_DIR [DATA.json]}
DATA=${2:-pruning-config/pruning_data_ja_v3.json}
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pruning.cli.exec -m "$MODEL" -j "$DATA" \
  --thresholds 0.01 0.02 0.03 0.04 0.05 0.07 0.1 0.15 0.2 0.3 0.4 0.5 0.6 0.7 \
  --best-by f2.5 --min-recall 0.99 --set-default-threshold --format json --no-progress > /dev/null
"$PY" - "$MODEL" <<'PY'
import sys

from pruning.prune.threshold import read_default_threshold

d = read_default_threshold(sys.argv[1])
print(f"default threshold: {d['value']:g} (best {d['metric']} with recall >= {d['min_recall']:g} on {d['data']}), "
      f"stored in {sys.argv[1]}/pruner_config.json")
PY
