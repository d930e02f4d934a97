"""The docs' examples run: every command line and Python snippet in README.md and docs/ (slow tier).

A small extractor of our own rather than Sybil or pytest-markdown-docs: the examples are usage lines, not
literal sessions (`output/<run>/final_model`, `[--optional ...]`, `text|json`), so each needs its placeholders
resolved and its optional parts dropped before it can run, which neither library does; the fences and a table of
placeholders are all it takes, with no new dependency.

- Every `pruning-*` command in every doc: each option it shows exists in that command's parser (syntax).
- The commands of README.md, docs/cli.md and docs/api.md that need no GPU, hub, corpus or training time
  (`pruning-exec`, `-prune`, `-baseline`, `-export`) run, optional parts dropped, on a tiny saved pruner with a
  stored default threshold and hand-made run directories, through bash (pipes and redirections as written); each
  must exit 0. `pruning-data` and `pruning-evalset` (read ../shared), `pruning-train` (minutes to hours; the hub or a GPU for the seed's
  config) and `bash scripts/...` are checked for syntax only: their options, and that the files they name exist.
- Every Python snippet compiles; those of README.md and docs/api.md run against the tiny pruner (no threshold given:
  the model's stored default). Outputs that depend on a trained model are never asserted.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE_DOCS = ("README.md", "cli.md", "api.md")
RUNNABLE = ("pruning-exec", "pruning-prune", "pruning-baseline", "pruning-export")
MODULES = {
    "pruning-exec": "exec",
    "pruning-train": "train",
    "pruning-baseline": "baseline",
    "pruning-data": "data",
    "pruning-evalset": "evalset",
    "pruning-prune": "prune",
    "pruning-export": "export",
}
SUBCOMMANDS = ("capture", "calibrate", "compare", "report", "history", "bisect")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(path: Path) -> list[tuple[str, str]]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


def _command_lines(body: str) -> list[str]:
    """Continuation lines joined, comments dropped, blank lines skipped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _without_optional(command: str) -> str:
    while re.search(r"\[[^\[\]]*\]", command):
        command = re.sub(r"\s*\[[^\[\]]*\]", "", command)
    return command


def _examples(kind: str) -> list[tuple[str, str]]:
    """(doc name, command line) for each shell command, or (doc name, source) for each Python snippet."""
    out = []
    for doc in DOCS:
        for lang, body in _blocks(doc):
            if kind == "python" and lang == "python":
                out.append((doc.name, body))
            elif kind == "bash" and lang in ("bash", "sh", ""):
                out.extend((doc.name, line) for line in _command_lines(body) if re.search(r"\bpruning-\w+", line))
    return out


def _parser_for(command: str):
    """The argparse parser that reads `command` (a pruning-baseline subcommand's own parser)."""
    words = command.split()
    module = importlib.import_module(f"pruning.cli.{MODULES[words[0]]}")
    parser = module.build_parser()
    if words[0] == "pruning-baseline":
        sub = next(a for a in parser._actions if a.dest == "command")
        parser = sub.choices[words[1]]
    return parser


def _inline() -> list[tuple[str, str]]:
    """(doc name, command) for each `pruning-...` code span in the prose (checked for syntax only)."""
    out = []
    for doc in DOCS:
        prose = FENCE.sub("", doc.read_text(encoding="utf-8"))
        out.extend((doc.name, span) for span in re.findall(r"`(pruning-[a-z]+ [^`]+)`", prose))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "line"), _examples("bash") + _inline(), ids=lambda v: v[:60])
def test_every_option_a_doc_shows_exists(doc, line):
    for part in line.split(" | "):
        part = part.strip()
        if not part.startswith("pruning-"):
            continue
        head = part.split()[0]
        assert head in MODULES, f"{doc}: unknown command {head}"
        if head == "pruning-baseline" and part.split()[1] not in SUBCOMMANDS:
            continue  # the command named in prose (`pruning-baseline calibrate`), not a line of it
        known = _parser_for(part)._option_string_actions
        tokens = part.replace("[", " ").replace("]", " ").split()
        options = {t.split("=")[0] for t in tokens if re.match(r"--?[A-Za-z]", t)}
        unknown = sorted(o for o in options if o not in known)
        assert not unknown, f"{doc}: {head} has no option {unknown}: {line}"


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "source"), _examples("python"), ids=lambda v: v[:40])
def test_every_python_snippet_compiles(doc, source):
    compile(source, doc, "exec")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, pruner_dir):
    """A tiny pruner with a stored default, three run directories, input files and command shims on PATH."""
    from pruning.prune.threshold import store_default_threshold
    from tests.harness.helpers import make_run

    root = tmp_path_factory.mktemp("docs")
    model = root / "final_model"
    shutil.copytree(pruner_dir, model)
    store_default_threshold(model, 0.5, metric="f2_5", data="test", thresholds=[0.5], set_by="test")
    runs = [make_run(root / f"run{i}") for i in (1, 2, 3)]
    contexts = root / "contexts.jsonl"
    contexts.write_text(
        json.dumps({"query": "富士山の高さは？", "context": "富士山は高い。琵琶湖は広い。"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"query": "capital?", "sentences": ["Paris is big.", "It rains."]})
        + "\n",
        encoding="utf-8",
    )
    shims = root / "bin"
    shims.mkdir()
    for command, module in MODULES.items():
        shim = shims / command
        shim.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" -m pruning.cli.{module} "$@"\n')
        shim.chmod(0o755)
    out = root / "OUT.json"  # for `pruning-exec --scores OUT.json`: the saved scores of the tiny model
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        ["pruning-exec", "-m", str(model), "-j", "pruning-config/pruning_data_ja_v3.json", "--format", "json",
         "--output-json", str(out), "--no-progress"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    ledger = root / "ledger.jsonl"  # for `pruning-baseline history`: nights appended by real comparisons
    subprocess.run(
        ["pruning-baseline", "capture", str(runs[0]), "-o", str(root / "night.json")],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    for run in runs:
        subprocess.run(
            ["pruning-baseline", "compare", str(run), str(root / "night.json")],
            cwd=ROOT, env={**env, "PRUNING_HISTORY": str(ledger)}, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return {"root": root, "model": model, "runs": runs, "contexts": contexts, "env": env, "ledger": ledger}


def _resolve(command: str, ws: dict) -> str:
    """Placeholders → the workspace's files (outputs into its folder, never the repository)."""
    root, model = ws["root"], str(ws["model"])
    command = _without_optional(command)
    for placeholder in ("output/<run>/final_model", "output/run/final_model", "MODEL_DIR"):
        command = command.replace(placeholder, model)
    runs = iter(ws["runs"] * 2)
    command = re.sub(r"\bRUN_DIR\b", lambda _: str(next(runs)), command)
    for placeholder, value in (
        ("QUERY", "'富士山の高さは？'"),
        ("CTX", "'富士山は高い。'"),
        ("DATA.json", "pruning-config/pruning_data_easy_ja.json"),
        ("OUT.json", str(root / "OUT.json")),
        ("contexts.jsonl", str(ws["contexts"])),
        ("pruned.jsonl", str(root / "pruned.jsonl")),
        ("baseline.json", str(root / "baseline.json")),
        ("report.html", str(root / "report.html")),
        ("trend.html", str(root / "trend.html")),
        ("ledger.jsonl", str(ws["ledger"])),
        ("onnx_model/", str(root / "onnx_model") + "/"),
    ):
        command = re.sub(rf"(?<![\w/.-]){re.escape(placeholder)}(?![\w])", lambda _, v=value: v, command)
    return command


def _runnable():
    out = []
    for doc, line in _examples("bash"):
        heads = [p.strip().split()[0] for p in line.split(" | ")]
        if (
            doc in RUNNABLE_DOCS
            and any(h in RUNNABLE for h in heads)
            and all(h in RUNNABLE or h == "cat" for h in heads)
            and "pruning-baseline bisect" not in line  # needs a git history: tests/harness/test_bisect.py runs it
        ):
            out.append((doc, line))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "line"), _runnable(), ids=lambda v: v[:60])
def test_the_command_runs_as_written(workspace, doc, line):
    if "pruning-export" in line:
        pytest.importorskip("onnxruntime")
    if "compare" in line or "baseline report" in line:  # the baseline it reads is the one `capture` writes
        subprocess.run(
            _resolve("pruning-baseline capture RUN_DIR -o baseline.json", workspace),
            shell=True, cwd=ROOT, env=workspace["env"], check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    command = _resolve(line, workspace)
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=ROOT, env=workspace["env"], capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"{doc}: {command}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("doc", "source"), [e for e in _examples("python") if e[0] in ("README.md", "api.md")], ids=lambda v: v[:40]
)
def test_the_python_snippet_runs(workspace, doc, source):
    model = str(workspace["model"])
    for placeholder in ("output/<run>/final_model", "output/run/final_model"):
        source = source.replace(placeholder, model)
    namespace = {
        "question": "富士山の高さは？",
        "q1": "富士山の高さは？",
        "q2": "capital of France?",
        "ctx1": "富士山は高い。琵琶湖は広い。",
        "ctx2": "Paris is the capital. It rains.",
    }
    exec(compile(source, doc, "exec"), namespace)  # noqa: S102 (the docs' own example)
    r = namespace["r"]
    assert r.threshold == 0.5  # the model's stored default where the snippet gives none
    assert all(r.context[s.start : s.end] == s.text for s in r.sentences)
