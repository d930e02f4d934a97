"""Per-module mutation scores from mutmut's result files (mutants/<path>.meta), as a Markdown table.

score = killed / mutants run; a timeout counts as killed (the mutant made the tests hang), "no tests" (no unit
test reaches the function) as survived. Where scripts/mutation.sh ran a sample (mutants/sample/<module>.txt),
only the sample counts. Mutants listed in scripts/mutation_equivalent.txt (judged equivalent: no behaviour can
tell them from the original) and in scripts/mutation_gpu_only.txt (only a multi-GPU run can tell them) are left out
of the last column.

    python scripts/mutation_scores.py                          # the table
    python scripts/mutation_scores.py --list-modules
    python scripts/mutation_scores.py --sample N MODULE        # pick (and record) N mutants of MODULE; 0: all
    python scripts/mutation_scores.py --survivors MODULE       # the sample's survivors (listed ones aside) and unrun
    python scripts/mutation_scores.py --tests MODULE           # the test paths that exercise MODULE
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # failed tests, pytest error, timeout, type check (mutmut's codes)
SURVIVED = {0, 5, 33}  # tests passed, or no test reaches the function
NO_TESTS = {5, 33}
#: The unit tests that exercise each module: a mutant runs only those of them that reach its function (the
#: training runs of tests/train/test_run.py count for run and trainer only, where they are the direct tests).
MODULE_TESTS = {
    "pruning.config": "tests/test_config.py tests/test_compat.py",
    "pruning.data.spans": "tests/data/test_spans.py tests/data/test_sentences.py tests/train/test_collator.py "
    "tests/evaluate/test_scoring.py",
    "pruning.data.eval_files": "tests/data/test_eval_files.py tests/evaluate/test_report.py",
    "pruning.train.collator": "tests/train/test_collator.py tests/train/test_reference_labels.py tests/data/qa/",
    "pruning.train.reference_labels": "tests/train/test_reference_labels.py tests/train/test_collator.py",
    "pruning.train.losses": "tests/train/test_losses.py tests/train/test_trainer.py",
    "pruning.train.modeling": "tests/train/test_modeling.py tests/train/test_modernbert.py "
    "tests/evaluate/test_scoring.py tests/train/test_checkpoints.py",
    "pruning.train.trainer": "tests/train/test_trainer.py tests/train/test_run.py tests/train/test_checkpoints.py",
    "pruning.train.run": "tests/train/test_run.py tests/test_compat.py tests/train/test_checkpoints.py",
    "pruning.evaluate.metrics": "tests/evaluate/test_metrics.py tests/evaluate/test_report.py",
    "pruning.evaluate.scoring": "tests/evaluate/test_scoring.py tests/evaluate/test_reference_scoring.py "
    "tests/evaluate/test_windows.py",
    "pruning.evaluate.windows": "tests/evaluate/test_windows.py tests/evaluate/test_scoring.py",
    "pruning.evaluate.report": "tests/evaluate/test_report.py tests/cli/test_exec.py",
}
HARNESS_TESTS = "tests/harness/ tests/cli/test_baseline.py"


def modules() -> list[str]:
    """The dotted modules that [tool.mutmut].only_mutate names (globs expanded)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    out = []
    for pattern in config["only_mutate"]:
        for path in sorted(ROOT.glob(pattern)):
            if path.suffix == ".py" and path.name != "__init__.py":
                out.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return out


def _names(file: str) -> set[str]:
    path = ROOT / "scripts" / file
    if not path.is_file():
        return set()
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def equivalents() -> set[str]:
    """Mutants judged equivalent (scripts/mutation_equivalent.txt)."""
    return _names("mutation_equivalent.txt")


def gpu_only() -> set[str]:
    """Mutants only a multi-GPU run can kill (scripts/mutation_gpu_only.txt)."""
    return _names("mutation_gpu_only.txt")


def generated(module: str) -> int:
    """How many mutants mutmut made of the module."""
    meta = MUTANTS / (module.replace(".", "/") + ".py.meta")
    return len(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]) if meta.is_file() else 0


def results(module: str) -> dict[str, int | None]:
    """Mutant name → mutmut exit code (None: not run) for every mutant of the module, or of its sample."""
    meta = MUTANTS / (module.replace(".", "/") + ".py.meta")
    if not meta.is_file():
        return {}
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    sample = MUTANTS / "sample" / f"{module}.txt"
    if sample.is_file():
        names = sample.read_text(encoding="utf-8").split()
        codes = {k: codes[k] for k in names if k in codes}  # a name gone with changed code is dropped
    return codes


def sample(module: str, n: int) -> list[str]:
    """A seeded random sample of n mutant names (all for n = 0 or more than there are), recorded for scoring."""
    meta = MUTANTS / (module.replace(".", "/") + ".py.meta")
    names = sorted(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    if 0 < n < len(names):
        names = sorted(random.Random(f"{module}:{n}").sample(names, n))
    path = MUTANTS / "sample" / f"{module}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(names) + "\n", encoding="utf-8")
    return names


def table() -> str:
    equiv, gpu = equivalents(), gpu_only()
    lines = [
        "| module | mutants | run | killed | survived | of which no test | equivalent | GPU-only | score "
        "| score, equivalent and GPU-only aside |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for module in modules():
        ran = {k: v for k, v in results(module).items() if v is not None and v != 34}
        if not ran:
            lines.append(f"| {module} | {generated(module)} | not run | | | | | | | |")
            continue
        count = Counter("killed" if v in KILLED else "survived" for v in ran.values())
        no_tests = sum(1 for v in ran.values() if v in NO_TESTS)
        n_eq = sum(1 for k, v in ran.items() if k in equiv and v not in KILLED)
        n_gpu = sum(1 for k, v in ran.items() if k in gpu and v not in KILLED)
        rest = len(ran) - n_eq - n_gpu
        lines.append(
            f"| {module} | {generated(module)} | {len(ran)} | {count['killed']} | {count['survived']} | {no_tests} "
            f"| {n_eq} | {n_gpu} | {count['killed'] / len(ran):.0%} | {count['killed'] / rest if rest else 1.0:.0%} |"
        )
    return "\n".join(lines)


def survivors(module: str) -> list[str]:
    """The sample's survivors, listed ones aside, and its mutants not run yet (those of code changed since)."""
    known = equivalents() | gpu_only()
    return sorted(k for k, v in results(module).items() if v not in KILLED and k not in known)


if __name__ == "__main__":
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "--list-modules":
        print("\n".join(modules()))
    elif command == "--sample":
        print("\n".join(sample(args[1], int(args[0]))))
    elif command == "--survivors":
        print("\n".join(survivors(args[0])))
    elif command == "--tests":
        print(MODULE_TESTS.get(args[0], HARNESS_TESTS if args[0].startswith("pruning.harness.") else "tests/"))
    else:
        print(table())
