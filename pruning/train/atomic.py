"""Crash-safe writes: a file or folder appears under its final name complete, or not at all.

A folder is written into a sibling `<name>.tmp` that holds an `.incomplete` marker, its files are fsynced, the
folder is renamed into place (`os.replace`) and only then is the marker removed. A crash or kill at any point
leaves the previous folder, a `<name>.tmp`, or (killed between the rename and the marker's removal) a complete
`<name>`: the readers of this project refuse any folder that holds the marker. A file is written to a sibling
temporary file, fsynced and renamed the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Present in a folder while it is being written; its presence means the folder is not a complete save.
INCOMPLETE_MARKER = ".incomplete"
STAGING_SUFFIX = ".tmp"
_OLD_SUFFIX = ".old"


def staging_path(final: Path) -> Path:
    """Where a folder is written before it is renamed to `final`."""
    return final.with_name(final.name + STAGING_SUFFIX)


def is_staging_name(path: Path) -> bool:
    """A name this module writes into (`x.tmp`) or moves aside (`x.old`): never a finished save."""
    return path.name.endswith((STAGING_SUFFIX, _OLD_SUFFIX))


def start_staging(staging: Path) -> Path:
    """An empty staging folder holding the incomplete marker (a leftover one from a crash is removed first)."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    marker = staging / INCOMPLETE_MARKER
    marker.write_text("a save into this folder has not finished\n")
    _fsync_file(marker)
    _fsync_dir(staging.parent)
    return staging


def commit_staging(staging: Path, final: Path) -> Path:
    """Fsync everything under `staging`, rename it to `final` (replacing a previous one), then drop its marker.

    The marker goes last: a crash just before that leaves a complete folder that readers still refuse, never an
    unmarked partial one.
    """
    fsync_tree(staging)
    old = final.with_name(final.name + _OLD_SUFFIX)
    if final.exists():  # rename(2) cannot replace a non-empty folder: move it aside, delete it afterwards
        if old.exists():
            shutil.rmtree(old)
        os.replace(final, old)
    os.replace(staging, final)
    _fsync_dir(final.parent)
    (final / INCOMPLETE_MARKER).unlink(missing_ok=True)
    _fsync_dir(final)
    if old.exists():  # the previous version (also one an interrupted commit left)
        shutil.rmtree(old, ignore_errors=True)
    return final


@contextlib.contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on normal exit it becomes `final`. On an exception it is left as `<final>.tmp`."""
    final = Path(os.path.abspath(final))
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = start_staging(staging_path(final))
    yield staging
    commit_staging(staging, final)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` through a fsynced temporary sibling and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=STAGING_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def fsync_tree(root: Path) -> None:
    """Fsync every file and folder under `root` (so that a rename published after it points at real data)."""
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync_file(Path(folder) / name)
        _fsync_dir(Path(folder))


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
