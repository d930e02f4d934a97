"""pruning-train: user errors are one line on stderr and exit status 2 (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pruning.cli.train import main

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_key_exits_2_with_its_name(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "model_args: {model_name_or_path: x}\ndata_args: {train_files: [t.jsonl]}\ntraining_args: {sed: 1}\n"
    )
    assert main([str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {cfg}: training_args: unknown key 'sed' (did you mean 'seed'?)"]


def test_bad_override_and_missing_file_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "none.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err
    assert main([str(ROOT / "pruning-config" / "tiny-offline.yaml"), "seed=3"]) == 2
    assert "expected section.key=value" in capsys.readouterr().err


def test_resume_problems_exit_2_with_one_line(tmp_path, capsys):
    config = str(ROOT / "pruning-config" / "tiny-offline.yaml")
    assert main([config, "--resume", str(tmp_path / "gone")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {tmp_path / 'gone'}: no such checkpoint folder (--resume)"
    ]
    run = tmp_path / "run"
    (run / "checkpoint-5.tmp").mkdir(parents=True)  # only a save that never finished
    assert main([config, f"training_args.output_dir={run}", "--resume", "latest"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: {run}: no complete checkpoint to resume from (--resume latest) (1 incomplete skipped)"
    assert not [line for line in err if line.startswith("error:")][:-1]  # one error line; the skip is a warning
    assert main([config, "--resume", "latest"]) == 2  # the default output_dir is a new folder each run
    assert "--resume latest needs training_args.output_dir" in capsys.readouterr().err
    assert main([config, "--resume"]) == 2
    assert "expected one argument" in capsys.readouterr().err


def test_overrides_may_come_after_an_option(monkeypatch, capsys):
    from pruning.errors import PruningError

    seen = []

    def load_config(path, overrides):
        seen.append((path, overrides))
        raise PruningError("stop here")

    monkeypatch.setattr("pruning.config.load_config", load_config)
    argv = [
        "c.yaml",
        "training_args.seed=7",
        "--no-progress",
        "training_args.max_steps=5",
        "--resume",
        "x",
        "compat=none",
    ]
    assert main(argv) == 2
    assert seen == [("c.yaml", ["training_args.seed=7", "training_args.max_steps=5", "compat=none"])]


def test_an_override_after_an_option_reaches_the_config(capsys):
    config = ROOT / "pruning-config" / "tiny-offline.yaml"
    # the second override is read: its unknown key is the error (before, argparse rejected it as unrecognised)
    assert main([str(config), "training_args.seed=7", "--no-progress", "training_args.sed=1"]) == 2
    assert "unknown key 'sed'" in capsys.readouterr().err
