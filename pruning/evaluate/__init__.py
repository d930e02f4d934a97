"""Stage 4, evaluation: score contexts with a trained pruner, sweep thresholds, diagnose, report, plot."""
