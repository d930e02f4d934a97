"""pruning-prune: JSON Lines in and out, pass-through keys, stdin, and malformed lines named before any output."""

from __future__ import annotations

import io
import json

import pytest

from pruning.cli.prune import main

pytestmark = pytest.mark.unit

LINES = [
    {"query": "首都は？", "context": "東京は日本の首都です。大阪は西にあります。", "id": "a"},
    {"query": "capital?", "sentences": ["Tokyo is the capital.", "Osaka is big."], "meta": {"k": 1}},
]


def _write(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records))
    return path


def test_file_in_file_out(pruner_dir, tmp_path):
    src, out = _write(tmp_path / "in.jsonl", LINES), tmp_path / "out" / "pruned.jsonl"
    argv = ["-m", str(pruner_dir), str(src), "-o", str(out), "--threshold", "0.5", "--no-progress"]
    assert main([*argv, "--batch-size", "2"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["a", None] and rows[1]["meta"] == {"k": 1}  # passed through, in order
    first = rows[0]
    assert [s["text"] for s in first["sentences"]] == ["東京は日本の首都です。", "大阪は西にあります。"]
    assert all(first["context"][s["start"] : s["end"]] == s["text"] for s in first["sentences"])
    assert first["threshold"] == 0.5 and 0 <= first["reranking_score"] <= 1
    kept = [s["text"] for s in first["sentences"] if s["kept"]]
    assert first["pruned_context"] == "".join(kept)  # Japanese: nothing between the sentences
    assert set(first["compression"]) == {"sentences", "characters"}
    assert [s["text"] for s in rows[1]["sentences"]] == LINES[1]["sentences"]
    # a sentence list: the line gives the joined text its offsets point into
    joined = rows[1]["context"]
    assert [joined[s["start"] : s["end"]] for s in rows[1]["sentences"]] == LINES[1]["sentences"]


def test_a_byte_order_mark_is_not_part_of_the_first_line(pruner_dir, tmp_path, monkeypatch, capsys):
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + (json.dumps(LINES[0], ensure_ascii=False) + "\n").encode())  # Windows tools
    assert main(["-m", str(pruner_dir), str(src), "--threshold", "0.0", "--no-progress"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["pruned_context"] == LINES[0]["context"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\ufeff" + json.dumps(LINES[0], ensure_ascii=False) + "\n"))
    assert main(["-m", str(pruner_dir), "--threshold", "0.0", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["pruned_context"] == LINES[0]["context"]


def test_a_line_error_from_stdin_says_stdin(pruner_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO('{"context": "a。"}\n'))
    assert main(["-m", str(pruner_dir), "--threshold", "0.0", "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("error: stdin: line 1: field 'query'")


def test_stdin_to_stdout(pruner_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(LINES[0], ensure_ascii=False) + "\n\n"))
    assert main(["-m", str(pruner_dir), "--threshold", "0.0", "--no-progress"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["pruned_context"] == LINES[0]["context"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ("[1, 2]", "line 2: expected a JSON object, got list"),
        ({"context": "a。"}, "line 2: field 'query': expected a non-empty string"),
        ({"query": "q"}, "line 2: give exactly one of the fields 'context'"),
        ({"query": "q", "context": "a。", "sentences": ["a。"]}, "line 2: give exactly one"),
        ({"query": "q", "sentences": ["a。", " "]}, r"line 2: field 'sentences\[1\]'"),
        ({"query": "q", "context": "a。", "threshold": 1}, "line 2: field 'threshold': an output field"),
    ],
)
def test_a_malformed_line_is_named_before_any_output(pruner_dir, tmp_path, capsys, bad, message):
    src, out = _write(tmp_path / "in.jsonl", [LINES[0], bad, LINES[1]]), tmp_path / "out.jsonl"
    assert main(["-m", str(pruner_dir), str(src), "-o", str(out), "--threshold", "0.5", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"error: {src}: {message}".replace("\\", "") in err.replace("\\", "") or pytest.fail(err)
    assert "Traceback" not in err and not out.exists()


def test_skip_invalid_counts_and_reports(pruner_dir, tmp_path, capsys, caplog):
    src = _write(tmp_path / "in.jsonl", [LINES[0], "{broken", LINES[1], {"query": ""}])
    assert main(["-m", str(pruner_dir), str(src), "--threshold", "0.5", "--skip-invalid", "--no-progress"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert (
        f"skipped {src}: line 2: invalid JSON" in caplog.text and f"skipped {src}: line 4: field 'query'" in caplog.text
    )
    assert "2 invalid lines skipped" in caplog.text


def test_no_threshold_and_no_model_default_is_exit_2(pruner_dir, tmp_path, capsys):
    src = _write(tmp_path / "in.jsonl", [LINES[0]])
    assert main(["-m", str(pruner_dir), str(src), "--no-progress"]) == 2
    assert "the model has no default" in capsys.readouterr().err


def test_unreadable_input_is_exit_2(pruner_dir, tmp_path, capsys):
    assert main(["-m", str(pruner_dir), str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl: cannot read" in capsys.readouterr().err
