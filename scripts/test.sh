#!/usr/bin/env bash
# The README's test command: set up from nothing, lint and type-check, then run every CPU tier (unit, slow, cpu_e2e).
# Extra arguments go to pytest. pytest's exit 5 ("no tests collected") is a failure here: it means the
# selection or the collection is broken, never that there was nothing to test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
.venv/bin/ruff check pruning tests benchmarks scripts conftest.py
.venv/bin/ruff format --check pruning tests benchmarks scripts conftest.py
.venv/bin/mypy  # the files and strictness are in pyproject.toml [tool.mypy]
# the CI workflows against GitHub's schema (bundled with check-jsonschema: offline), and the scripts they run
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
command -v shellcheck >/dev/null || { echo "shellcheck is not installed (apt-get install shellcheck)" >&2; exit 1; }
shellcheck scripts/*.sh .ci/run
# The tests that read ../shared (the QA corpora) fail rather than skip when it is missing: CI has it beside
# the clone, and a skipped cpu_e2e tier would otherwise pass without checking anything.
export PRUNING_REQUIRE_SHARED="${PRUNING_REQUIRE_SHARED:-1}"
# and the report page's browser test fails rather than skips without Chromium (setup-env.sh installs it)
export PRUNING_REQUIRE_BROWSER="${PRUNING_REQUIRE_BROWSER:-1}"
set +e
# Bytecode caching on, whatever the shell says (this workplace's shells set PYTHONDONTWRITEBYTECODE=1): without it every
# process compiles the package from source and pytest rewrites every test module again, about 8 s of a unit run here,
# and the tests start dozens of processes
unset PYTHONDONTWRITEBYTECODE
# -n auto: one pytest-xdist worker per core (conftest.py gives each worker its share of the OpenMP threads)
.venv/bin/python -m pytest -m "unit or slow or cpu_e2e" -n auto --durations=15 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: the test selection is broken" >&2
  exit 1
fi
exit "$rc"
