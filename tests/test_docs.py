"""The docs and the code agree: paths and sections the docs and config comments point to exist, every command is
documented, and the stated checks are the code's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
CONFIGS = sorted((ROOT / "pruning-config").glob("*.yaml"))


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", DOCS + CONFIGS, ids=lambda p: p.name)
def test_every_module_path_named_exists(path):
    missing = [p for p in re.findall(r"\bpruning/[\w/]+\.py\b", _text(path)) if not (ROOT / p).is_file()]
    assert not missing, f"{path.name} names files that do not exist: {missing}"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_sections_a_config_comment_points_to_exist(path):
    comments = " ".join(line.lstrip("# ") for line in _text(path).splitlines() if line.startswith("#"))
    for doc, section in re.findall(r'\((README|[\w/]+\.md), "([^"]+)"\)', comments):
        target = ROOT / ("README.md" if doc == "README" else doc)
        headings = [h.strip() for h in re.findall(r"^#+ (.+)$", _text(target), flags=re.MULTILINE)]
        assert any(h.startswith(section) for h in headings), f"{path.name}: no section {section!r} in {target.name}"


def test_every_baseline_subcommand_is_documented():
    from pruning.cli.baseline import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for doc in (ROOT / "README.md", ROOT / "docs" / "cli.md"):
        missing = [c for c in sub.choices if f"pruning-baseline {c} " not in _text(doc)]
        assert not missing, f"{doc.name} does not show: {missing}"


def test_the_onnx_check_is_documented_as_the_code_applies_it():
    from pruning.prune.onnx_export import FP32_TOLERANCE

    api = " ".join(_text(ROOT / "docs" / "api.md").split())
    stated = re.search(r"for the fp32 graph, more than (\S+) apart in token or ranking logits fails the export", api)
    assert stated is not None and float(stated.group(1)) == FP32_TOLERANCE
    assert "the int8 graph's distance is recorded there but bounds nothing" in api


@pytest.mark.parametrize("path", DOCS + CONFIGS, ids=lambda p: p.name)
def test_every_script_named_exists(path):
    missing = [p for p in re.findall(r"\bscripts/[\w.-]+\.(?:sh|py)\b", _text(path)) if not (ROOT / p).is_file()]
    assert not missing, f"{path.name} names scripts that do not exist: {missing}"
