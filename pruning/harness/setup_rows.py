"""The `setup:` rows: what else differs between a run and its baseline (device, precision, seed, versions, config,
training data, code). Report only: they explain a drift, they do not judge it."""

from __future__ import annotations

from typing import Any

from pruning.harness.artefacts import RunArtifacts
from pruning.harness.baseline import _comparable_config
from pruning.harness.checks import INFO, SKIP, Check, not_in


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to the leaves (lists are leaves); an explicit null and a missing key both read as '-'."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _differences(got: Any, want: Any) -> list[str]:
    """`key: run value vs baseline value` for every leaf that differs."""
    g, w = _flatten(got), _flatten(want)
    return [f"{k}: {g.get(k, '-')} vs {w.get(k, '-')}" for k in sorted(set(g) | set(w)) if g.get(k) != w.get(k)]


def _data_digest(files: dict[str, Any]) -> dict[str, list[str]]:
    """Split → SHA-256s: the same data under another path is the same data."""
    return {split: [f.get("sha256") for f in entries or []] for split, entries in files.items()}


def _code_label(code: Any) -> str:
    if not isinstance(code, dict):
        return "not a git checkout"
    if code.get("commit") is None:
        return f"unknown ({code.get('error', 'git failed')})"
    return str(code["commit"])[:10] + (" (uncommitted changes)" if code.get("dirty") else "")


def _code_detail(got: Any, want: Any) -> str:
    """The code row's detail: "differs", "", or that uncommitted changes or a git failure hide the code."""
    sides = [c for c in (got, want) if isinstance(c, dict)]
    if any(c.get("commit") is None or c.get("dirty") is not False for c in sides):
        return "cannot tell: uncommitted changes or no commit on a side"
    return "" if _code_label(got) == _code_label(want) else "differs"


def check_setup(run: RunArtifacts, baseline: dict[str, Any]) -> list[Check]:
    """What differs between the run and the baseline besides its results (report only: they explain, not judge).

    Rows appear for what the baseline recorded; a seed baseline recorded none of it.
    """
    s = run.summary
    checks = []
    for key in ("device", "precision", "seed"):
        if baseline.get(key) is not None:
            detail = "" if s.get(key) == baseline[key] else "differs"
            checks.append(_setup_check(key, s.get(key), baseline[key], detail))
    for key, what in _SETUP_FIELDS.items():
        if baseline.get(key) is None:
            checks.append(
                _setup_check(
                    what,
                    s.get(key) if key in ("device", "precision", "seed") else None,
                    detail=not_in(baseline, key),
                    status=SKIP,
                )
            )
    if isinstance(baseline.get("versions"), dict):
        diff = _differences(s.get("versions") or {}, baseline["versions"])
        checks.append(_setup_check("package versions", "same" if not diff else f"{len(diff)} differ", detail=diff))
    if baseline.get("config") is not None:
        diff = _differences(
            _comparable_config(s.get("config"), drop_paths=True),
            _comparable_config(baseline["config"], drop_paths=True),
        )
        checks.append(_setup_check("config", "same" if not diff else f"{len(diff)} differ", detail=diff))
    if baseline.get("data_files") is not None:
        checks.append(_data_row(s.get("data_files"), baseline["data_files"]))
    if baseline.get("code") is not None:
        got = _code_label(s["code"]) if "code" in s else "not recorded"
        detail = _code_detail(s["code"], baseline["code"]) if "code" in s else ""
        checks.append(_setup_check("code", got, _code_label(baseline["code"]), detail))
    return checks


def _data_row(got_files: Any, want_files: dict[str, Any]) -> Check:
    """Same training data, judged by the files' SHA-256 (paths aside); hub datasets have no files to hash."""
    if got_files is None:
        return _setup_check("training data", "not recorded")
    got, want = _data_digest(got_files), _data_digest(want_files)
    if not any(got.values()) and not any(want.values()):
        return _setup_check("training data", "not hashed", detail="hub dataset: see the config row")
    changed = [split for split in sorted(set(got) | set(want)) if got.get(split) != want.get(split)]
    if not changed:
        return _setup_check("training data", "same")
    detail = f"differs: the {' and '.join(changed)} files' SHA-256 changed, so results need not match"
    return _setup_check("training data", "other files", detail=detail)


def _setup_check(
    what: str, obtained: Any, expected: Any = "-", detail: str | list[str] = "", status: str = INFO
) -> Check:
    """A report-only `setup:` row (or a skipped one: nothing to compare with); a list detail is joined."""
    text = "; ".join(detail) if isinstance(detail, list) else detail
    return Check(f"setup: {what}", obtained, expected, "report only", status, text)


#: Baseline field → its `setup:` row; each row is shown, skipped with the reason when the baseline lacks the field.
_SETUP_FIELDS = {
    "device": "device",
    "precision": "precision",
    "seed": "seed",
    "versions": "package versions",
    "config": "config",
    "data_files": "training data",
    "code": "code",
}
