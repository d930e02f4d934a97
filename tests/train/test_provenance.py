"""Run provenance: package versions, the checkout's revision and dirtiness, data file hashes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from pruning.train.provenance import code_revision, file_fingerprints, package_versions

pytestmark = pytest.mark.unit

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed on this machine")


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "code.py").write_text("x = 1\n")
    _git(root, "add", "code.py")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    return root


@needs_git
def test_revision_of_a_clean_then_edited_checkout(checkout):
    head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert code_revision(checkout) == {"commit": head.stdout.strip(), "dirty": False}
    (checkout / "notes.txt").write_text("untracked files do not count\n")
    assert code_revision(checkout)["dirty"] is False
    (checkout / "code.py").write_text("x = 2\n")
    assert code_revision(checkout)["dirty"] is True


@needs_git
def test_a_new_untracked_module_in_the_package_is_a_change(checkout):
    (checkout / "pruning").mkdir()
    (checkout / "pruning" / "new_module.py").write_text("y = 1\n")
    assert code_revision(checkout, package="pruning")["dirty"] is True
    assert code_revision(checkout, package="other")["dirty"] is False


@needs_git
def test_git_failures_are_recorded_not_mistaken_for_no_checkout(tmp_path, monkeypatch):
    empty = tmp_path / "fresh"
    empty.mkdir()
    _git(empty, "init", "-q")  # a checkout with no commit yet
    record = code_revision(empty)
    assert record["commit"] is None and record["dirty"] is None and record["error"]
    monkeypatch.setenv("PATH", "")  # git not installed
    assert code_revision(empty) == {"commit": None, "dirty": None, "error": "git could not run (FileNotFoundError)"}


@needs_git
def test_a_folder_inside_some_checkout_is_not_that_checkouts_code(checkout):
    installed = checkout / "venv" / "site-packages"  # e.g. a non-editable install in a venv inside a repo
    installed.mkdir(parents=True)
    assert code_revision(installed) is None


def test_no_checkout_no_revision(tmp_path):
    assert code_revision(tmp_path) is None


def test_fingerprints_hash_the_bytes(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"query": "q"}\n' * 100_000)  # spans several read blocks
    (got,) = file_fingerprints([str(path)])
    assert got == {
        "path": str(path),
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert file_fingerprints(None) == []


def test_versions_name_the_packages_that_decide_numbers():
    versions = package_versions()
    assert {"python", "torch", "transformers", "datasets", "tokenizers"} <= set(versions)
    assert versions["torch"] != "not installed"
