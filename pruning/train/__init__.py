"""Stage 3, training: collator → model → loss → trainer, one run end to end, and what a run records."""
