"""The package's layout: small modules, each with a docstring, and imports that only point down the data flow.

Stages, in the order data flows through them: the foundation (``pruning``, ``errors``, ``cache``) < ``config``
< ``data`` < ``backbones`` < ``train`` < ``evaluate`` < ``prune`` < ``harness`` < ``cli``. A module may import from
its own stage, an earlier one or the foundation, never from a later one; imports inside functions count too. The
package root is the public face: it re-exports the API (lazily) and so ranks with the CLI as an importer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[1] / "pruning"
STAGES = ("foundation", "config", "data", "backbones", "train", "evaluate", "prune", "harness", "cli")
FOUNDATION = ("errors", "cache")
MAX_LINES = 420  # about 400: a module that grows past it wants splitting along a seam


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _stage(module: str) -> str:
    """The stage of a dotted name inside the package (``pruning.train.run`` → ``train``)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in FOUNDATION:
        return "foundation"
    if parts[1] not in STAGES:
        raise AssertionError(f"{module}: belongs to no stage; add it to one of {STAGES[1:]} or the foundation")
    return parts[1]


def _imported(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import of the package's own modules, at any depth of the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "pruning" or not node.module:  # `from pruning import x`, `from . import x`: module x
                found += [(node.lineno, f"{name}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, name))
    return [(line, name) for line, name in found if name == "pruning" or name.startswith("pruning.")]


def test_every_module_is_small_and_says_its_job() -> None:
    modules = _modules()
    assert len(modules) > 30  # the package was found
    too_long = {m: n for m, p in modules.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split them along a seam): {too_long}"
    no_docstring = [m for m, p in modules.items() if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not no_docstring, f"modules without a docstring saying their job: {no_docstring}"


def test_imports_only_point_down_the_flow() -> None:
    upward = []
    for module, path in _modules().items():
        own = STAGES.index("cli" if module == "pruning" else _stage(module))
        for line, name in _imported(module, path):
            if STAGES.index(_stage(name)) > own:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {_stage(module)} imports {name}")
    assert not upward, "imports against the flow:\n" + "\n".join(upward)


def test_the_check_sees_lazy_relative_and_package_imports(tmp_path: Path) -> None:
    """The import scan itself: a function-level import, a relative one and `from pruning import x` are all seen."""
    source = tmp_path / "mod.py"
    source.write_text(
        "from . import sibling\nfrom ..train.run import train\n\n\ndef f():\n"
        "    from pruning.cli.exec import main\n    import pruning.harness.compare\n"
        "    from pruning import report\n"
    )
    names = [name for _, name in _imported("pruning.evaluate.mod", source)]
    assert names == [
        "pruning.evaluate.sibling",
        "pruning.train.run",
        "pruning.cli.exec",
        "pruning.harness.compare",
        "pruning.report",
    ]
    assert [_stage(n) for n in names[:4]] == ["evaluate", "train", "cli", "harness"]


def test_contributing_module_map_names_every_module():
    """CONTRIBUTING.md's module map lists each module of each stage (the CLI's entry points are one per command)."""
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    table = text[text.index("## Module map") :].split("\n\n")[1]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[1].strip("`").rstrip("/")] = {t.removesuffix(".py") for t in re.findall(r"`([^`]+)`", cells[2])}
    missing = []
    for name, path in _modules().items():
        parts = name.split(".")[1:]
        if not parts or parts[0] == "cli" or path.name == "__init__.py":
            continue
        everywhere = {t.removesuffix(".py") for t in re.findall(r"`([^`]+)`", table)}
        listed = rows.get(parts[0]) if len(parts) > 1 else everywhere
        if listed is None or parts[-1] not in listed:
            missing.append(name)
    assert not missing, f"modules missing from CONTRIBUTING.md's module map: {missing}"
