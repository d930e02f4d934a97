#!/usr/bin/env bash
# One experiment of docs/experiments.md: train CONFIG (with overrides) into $EXPERIMENTS_DIR/NAME, then score the
# held-out file (settings are chosen on it) and the seed's two files, each with --diagnose and the recall floor,
# into NAME/eval/*.json; `scripts/experiment_table.py` turns those into the table's rows.
#   bash scripts/experiment.sh NAME CONFIG [section.key=value ...]
# Environment: HELDOUT (default $PRUNING_CACHE/eval/jaquad-dev-heldout.json, from `pruning-evalset --qa
#              ../shared/data/qa/jaquad/dev --max-queries 300 --seed 2026 --name jaquad-dev-heldout`),
#              EXPERIMENTS_DIR (default output/experiments), SKIP_TRAIN=1 (score an existing NAME/final_model again),
#              PYTHON (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bash scripts/experiment.sh NAME CONFIG [section.key=value ...]" >&2; exit 2; }
NAME=$1 CONFIG=$2
shift 2
PY=${PYTHON:-.venv/bin/python}
RUN="${EXPERIMENTS_DIR:-output/experiments}/$NAME"
HELDOUT=${HELDOUT:-${PRUNING_CACHE:-$HOME/.cache/pruning}/eval/jaquad-dev-heldout.json}
[ -f "$HELDOUT" ] || { echo "error: $HELDOUT not found (build it with pruning-evalset; see this script's header)" >&2; exit 2; }
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  "$PY" -m pruning.cli.train "$CONFIG" "training_args.output_dir=$RUN" "$@"
fi
mkdir -p "$RUN/eval"
for data in "$HELDOUT" pruning-config/pruning_data_easy_ja.json pruning-config/pruning_data_ja_v3.json; do
  "$PY" -m pruning.cli.exec -m "$RUN/final_model" -j "$data" --min-recall 0.99 --diagnose --format json --no-progress \
    --output-json "$RUN/eval/$(basename "$data")" > /dev/null
done
"$PY" scripts/experiment_table.py "$RUN"
