"""The rows of docs/experiments.md's tables from experiment folders: one markdown table per evaluation file.

    .venv/bin/python scripts/experiment_table.py output/experiments/E26 output/experiments/E27 ...

Each folder holds `eval/*.json`, results of `pruning-exec --diagnose --min-recall 0.99 --output-json` (what
scripts/experiment.sh writes; a zero-shot yardstick's folder is made the same way with --e5-zero-shot). Per file and
run: the best F2.5 on the swept thresholds (the seed's 0.1 … 0.7) with its FN, the best over every observed score,
the best with recall >= 99 % over every observed score, the item AUC and the within-item AUC; and once per file, the
keep-everything row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pruning.evaluate.metrics import best_row, keep_everything_row
from pruning.evaluate.report import result_rows


def _cell(row: dict | None) -> str:
    return "none" if row is None else f"{row['f2_5']:.4f} (FN {row['fn']}, at {row['threshold']:.4g})"


def _auc(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(folders: list[str]) -> int:
    by_file: dict[str, list[tuple[str, dict]]] = {}
    for folder in folders:
        for path in sorted(Path(folder, "eval").glob("*.json")):
            by_file.setdefault(path.name, []).append((Path(folder).name, json.loads(path.read_text("utf-8"))))
    for name, runs in by_file.items():
        print(f"\n{name}\n")
        columns = ("best F2.5 at 0.1 … 0.7", "best over every score", "best with recall ≥ 99 %", "item AUC")
        print("| run | " + " | ".join(columns) + " | within-item AUC |")
        print("|---|---|---|---|---|---|")
        for run, result in runs:
            diagnostics = result.get("diagnostics")
            if diagnostics is None or "best_over_every_score_with_min_recall" not in diagnostics:
                raise SystemExit(f"{run}/eval/{name}: no diagnostics with a recall floor (--diagnose --min-recall)")
            swept = best_row(result_rows(result)).as_dict()
            print(
                f"| {run} | {_cell(swept)} | {_cell(diagnostics['best_over_every_score'])} | "
                f"{_cell(diagnostics['best_over_every_score_with_min_recall'])} | {_auc(diagnostics['item_auc'])} | "
                f"{_auc(diagnostics['within_item_auc'])} |"
            )
        labels = [y for item in runs[0][1]["items"] for y in item["labels"]]
        print(f"| keep everything | {_cell(keep_everything_row(labels).as_dict())} | | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
