"""``pruning-data``: exit statuses, one-line errors, and output that ``datasets`` loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruning.cli.data import main
from tests.data.qa.helpers import synthetic_doc, write_json

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pruning.cli.data", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_broken_file_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [', encoding="utf-8")
    proc = run_module("--qa", str(broken), "--out", str(tmp_path / "out"), "--no-progress", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "broken.json" in lines[0] and "invalid JSON" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


def test_not_enough_articles_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_json(tmp_path / "one.json", synthetic_doc(n_articles=1))
    assert main(["--qa", str(src), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "cannot split by article" in capsys.readouterr().err


def test_good_file_exits_0_and_writes_a_loadable_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    datasets = pytest.importorskip("datasets")
    doc = synthetic_doc(n_articles=10)
    doc["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] += 1
    src = write_json(tmp_path / "good.json", doc)
    out = tmp_path / "out"
    argv = ["--qa", str(src), "--out", str(out), "--k", "3", "--seed", "7", "--validation-fraction", "0.2"]
    assert main([*argv, "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    assert f"wrote {out}" in stdout
    assert "from 8 articles" in stdout and "from 2 articles" in stdout
    assert "answer_mismatch 1" in stdout
    ds = datasets.load_dataset(
        "json",
        data_files={"train": str(out / "train.jsonl"), "validation": str(out / "validation.jsonl")},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    assert ds["train"].column_names == ["query", "texts", "labels", "context_spans", "context_spans_relevance"]
    assert ds["train"].num_rows + ds["validation"].num_rows == 29  # 30 questions, one skipped
    assert f"train: {ds['train'].num_rows} rows" in stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["skipped"] == {"all": {"answer_mismatch": 1}}
    assert manifest["options"]["k"] == 3 and manifest["options"]["seed"] == 7


def _train_and_dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`--qa TRAIN --validation DEV` for a 5-article train file and a 3-article dev file; cache in tmp_path."""
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    val = write_json(tmp_path / "dev.json", synthetic_doc(n_articles=3, tag="v"))
    return ["--qa", str(train), "--validation", str(val)]


def test_default_output_dir_and_max_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_train_and_dev(tmp_path, monkeypatch), "--k", "2", "--max-queries", "4", "--no-progress"]) == 0
    out = tmp_path / "cache" / "data" / "train-k2-seed42-max4"
    assert f"wrote {out}" in capsys.readouterr().out
    lines = (out / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    assert len((out / "validation.jsonl").read_text(encoding="utf-8").splitlines()) == 4


def test_max_validation_queries_caps_validation_and_names_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*_train_and_dev(tmp_path, monkeypatch), "--k", "2", "--max-queries", "6", "--max-validation-queries", "2"]
    assert main([*argv, "--no-progress"]) == 0
    out = tmp_path / "cache" / "data" / "train-k2-seed42-max6-val2"
    assert f"wrote {out}" in capsys.readouterr().out
    assert len((out / "train.jsonl").read_text(encoding="utf-8").splitlines()) == 6
    assert len((out / "validation.jsonl").read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--validation-fraction", "0.2"], "--validation-fraction applies when --validation is absent"),
        (["--teacher-batch-size", "8"], "--teacher-batch-size applies with --teacher"),
    ],
)
def test_options_that_would_be_ignored_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], extra, message
) -> None:
    assert main([*_train_and_dev(tmp_path, monkeypatch), *extra, "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "cache" / "data").exists()


def test_max_validation_queries_zero_is_a_one_line_error(tmp_path: Path) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=3))
    proc = run_module(
        "--qa", str(train), "--max-validation-queries", "0", "--out", str(tmp_path / "o"), "--no-progress", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: max validation queries must be at least 1, got 0"
    assert not (tmp_path / "o").exists()


def test_title_query_options_reach_the_rows_and_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*_train_and_dev(tmp_path, monkeypatch), "--k", "2", "--title-queries", "3", "--mask-title"]
    assert main([*argv, "--no-progress"]) == 0
    out = tmp_path / "cache" / "data" / "train-k2-seed42-titles3masked"
    assert f"wrote {out}" in capsys.readouterr().out
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 15 + 3 and all(row["query"].startswith("Title") for row in rows[-3:])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["title_queries"] == 3 and manifest["options"]["mask_title"] is True


def test_teacher_scores_are_written_for_every_text(
    tmp_path: Path, tiny_backbone_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    out = tmp_path / "with-teacher"
    argv = ["--qa", str(train), "--validation-fraction", "0.4", "--k", "2", "--out", str(out)]
    assert main([*argv, "--teacher", str(tiny_backbone_dir), "--no-progress"]) == 0
    for split in ("train", "validation"):
        rows = [json.loads(line) for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert rows and all(len(row["teacher_scores.e5"]) == len(row["texts"]) == 2 for row in rows)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["teacher"]["model"] == str(tiny_backbone_dir)
    assert manifest["teacher"]["column"] == "teacher_scores.e5"


def test_sentence_teacher_scores_are_written_for_every_span(
    tmp_path: Path, tiny_backbone_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*_train_and_dev(tmp_path, monkeypatch), "--k", "2", "--max-queries", "3", "--no-progress"]
    teacher = str(tiny_backbone_dir)
    assert main([*argv, "--sentence-teacher", teacher, "--teacher", teacher, "--teacher-batch-size", "4"]) == 0
    out = tmp_path / "cache" / "data" / "train-k2-seed42-teacher-sentteacher-max3"
    assert f"wrote {out}" in capsys.readouterr().out
    for split in ("train", "validation"):
        rows = [json.loads(line) for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 3
        for row in rows:
            assert list(row)[-2:] == ["teacher_scores.e5", "context_spans_teacher"]
            assert [len(s) for s in row["context_spans_teacher"]] == [len(s) for s in row["context_spans"]]
            assert all(0 <= v <= 1 for scores in row["context_spans_teacher"] for v in scores)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sentence_teacher"]["model"] == teacher
    assert manifest["sentence_teacher"]["column"] == "context_spans_teacher"
    assert manifest["sentence_teacher"]["score"].startswith("sigmoid((cosine - 0.85) / 0.02)")
    assert manifest["teacher"]["column"] == "teacher_scores.e5"


def test_sentence_teacher_alone_takes_the_batch_size(
    tmp_path: Path, tiny_backbone_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=5))
    out = tmp_path / "sentences"
    argv = ["--qa", str(train), "--validation-fraction", "0.4", "--k", "2", "--max-queries", "2", "--out", str(out)]
    assert (
        main([*argv, "--sentence-teacher", str(tiny_backbone_dir), "--teacher-batch-size", "2", "--no-progress"]) == 0
    )
    row = json.loads((out / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "context_spans_teacher" in row and not any(c.startswith("teacher_scores.") for c in row)
    assert "teacher" not in json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mask-title"], "--mask-title applies to title-query rows"),
        (["--sentence-teacher", "no/such/teacher-dir"], "teacher no/such/teacher-dir: cannot load"),
        (["--sentence-teacher", "x", "--teacher-batch-size", "0"], "teacher batch size must be >= 1, got 0"),
        (["--teacher", "no/such/teacher-dir"], "teacher no/such/teacher-dir: cannot load"),
        (["--title-queries", "99"], "99 title queries asked for"),
    ],
)
def test_bad_option_combinations_are_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    src = write_json(tmp_path / "d.json", synthetic_doc(n_articles=5))
    argv = ["--qa", str(src), "--validation-fraction", "0.4", "--k", "2", "--out", str(tmp_path / "out")]
    assert main([*argv, *extra, "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_mask_overlap_reaches_the_manifest_and_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.data.test_lexical_mask import shared_term_doc

    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    src = write_json(tmp_path / "train.json", shared_term_doc(8))
    dev = write_json(tmp_path / "dev.json", shared_term_doc(3, tag="v"))
    argv = ["--qa", str(src), "--validation", str(dev), "--k", "2", "--no-progress"]
    assert main([*argv, "--mask-overlap", "0.5"]) == 0
    assert main(argv) == 0
    out = tmp_path / "cache" / "data" / "train-k2-seed42-maskq0.5"
    assert f"wrote {out}" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["mask_overlap"] == 0.5

    def texts(folder: str) -> list[list[str]]:
        lines = (tmp_path / "cache" / "data" / folder / "train.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["texts"] for line in lines]

    masked, plain = texts("train-k2-seed42-maskq0.5"), texts("train-k2-seed42")
    changed = sum(m != p for m, p in zip(masked, plain, strict=True))
    assert 0 < changed < len(plain)


@pytest.mark.parametrize("share", ["1.5", "-0.1", "nan", "half"])
def test_mask_overlap_outside_0_1_is_a_one_line_error(tmp_path: Path, share: str) -> None:
    train = write_json(tmp_path / "train.json", synthetic_doc(n_articles=3))
    proc = run_module("--qa", str(train), "--mask-overlap", share, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "--mask-overlap" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()
