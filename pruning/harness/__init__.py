"""Stage 5, the regression harness: compare a finished run with a baseline, check by check.

A run directory (written by `pruning-train`, then `pruning-exec --output-json RUN/eval/<data>.json`) holds
`run_summary.json`, `log_history.json` and `eval/*.json` (artefacts). A baseline is either one captured from
such a run (`capture`, JSON) or the user's recorded seed numbers (`baseline_from_seed`; baseline). `compare`
returns one `Check` per expectation — obtained, expected, tolerance, status — so reports (render) and tests
read the same result. `calibrate` builds a baseline from n >= 3 repeated runs, its bands from their spread.
"""
