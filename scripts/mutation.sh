#!/usr/bin/env bash
# Mutation score per module (mutmut 3; docs/harness-power.md). Nightly-style: `tox -e mutation [-- MODULE ...]`.
#
# Each module (dotted, e.g. pruning.evaluate.metrics) is run on its own against the unit tests that cover it
# (mutmut records once which tests reach which function, then runs only those per mutant). With no arguments:
# every module of [tool.mutmut].only_mutate in pyproject.toml, one after another. Each module's mutants run only
# the tests listed for it in scripts/mutation_scores.py (MODULE_TESTS), the ones that exercise it directly.
#   MUTATION_SAMPLE=N     a seeded random sample of N mutants per module (default: all); the same N picks the same
#                         mutants while the module's source is unchanged, so before/after scores compare
#   MUTATION_SURVIVORS=1  rerun only the mutants that survived last time (after adding tests), and those of
#                         functions changed since
#   MUTMUT_MAX_CHILDREN   parallel workers (default 1)
# The per-module table goes to stdout and mutants/scores.md.
set -euo pipefail
cd "$(dirname "$0")/.."
children="${MUTMUT_MAX_CHILDREN:-1}"
if [ "$#" -gt 0 ]; then
  modules=("$@")
else
  mapfile -t modules < <(python scripts/mutation_scores.py --list-modules)
fi
for module in "${modules[@]}"; do
  echo "== $module"
  # only the tests that exercise the module (conftest.py reads it; the map is in scripts/mutation_scores.py)
  PRUNING_MUTATION_TESTS="$(python scripts/mutation_scores.py --tests "$module")"
  export PRUNING_MUTATION_TESTS
  # generate the mutants (anew for code changed since the last run) and the test map before choosing any: mutmut
  # then finds no mutant of this name and stops
  mutmut run --max-children "$children" "${module}.__none__" >/dev/null 2>&1 || true
  if [ "${MUTATION_SURVIVORS:-0}" = 1 ]; then
    mapfile -t names < <(python scripts/mutation_scores.py --survivors "$module")
  else
    mapfile -t names < <(python scripts/mutation_scores.py --sample "${MUTATION_SAMPLE:-0}" "$module")
  fi
  if [ "${#names[@]}" -eq 0 ]; then
    echo "nothing to run for $module"
    continue
  fi
  # mutmut exits non-zero when mutants survive; the table below is the result
  mutmut run --max-children "$children" "${names[@]}" || echo "mutmut exited $? on $module"
done
python scripts/mutation_scores.py | tee mutants/scores.md
