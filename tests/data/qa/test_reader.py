"""Reading SQuAD-format files: every malformed item skipped with its reason, broken files named, JSQuAD."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from pruning.data.qa.convert import convert_qa
from pruning.data.qa.reader import load_qa, load_squad_file
from pruning.errors import PruningError
from tests.data.qa.helpers import synthetic_doc, write_json

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------------------------ malformed input


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set (or delete, when value is ...) doc[path[0]][path[1]]...; -1 indexes stay python semantics."""
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value


Q = ("data", 1, "paragraphs", 2, "qas", 0)  # question "q1-2" of article 1, paragraph 2
A = (*Q, "answers", 0)


@pytest.mark.parametrize(
    ("path", "value", "reason", "where"),
    [
        ((*Q, "question"), ..., "missing_field:question", (1, 2, "q1-2", "question")),
        ((*Q, "question"), 17, "bad_type:question", (1, 2, "q1-2", "question")),
        ((*Q, "question"), "  ", "empty:question", (1, 2, "q1-2", "question")),
        ((*Q, "id"), ..., "missing_field:id", (1, 2, None, "id")),
        ((*Q, "id"), "q0-0", "duplicate_id", (1, 2, "q0-0", "id")),
        ((*Q, "answers"), ..., "no_answers", (1, 2, "q1-2", "answers")),
        ((*Q, "answers"), [], "no_answers", (1, 2, "q1-2", "answers")),
        ((*Q, "answers"), "x", "bad_type:answers", (1, 2, "q1-2", "answers")),
        ((*Q, "is_impossible"), True, "impossible", (1, 2, "q1-2", "is_impossible")),
        ((*A, "text"), ..., "missing_field:text", (1, 2, "q1-2", "answers[0].text")),
        ((*A, "answer_start"), ..., "missing_field:answer_start", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), "3", "bad_type:answer_start", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), 10_000, "answer_out_of_range", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), -1, "answer_out_of_range", (1, 2, "q1-2", "answers[0].answer_start")),
        ((*A, "answer_start"), 0, "answer_mismatch", (1, 2, "q1-2", "answers[0].text")),
        ((*A, "text"), "", "empty:answer_text", (1, 2, "q1-2", "answers[0].text")),
        (("data", 1, "paragraphs", 2, "context"), ..., "missing_field:context", (1, 2, None, "context")),
        (("data", 1, "paragraphs", 2, "context"), ["x"], "bad_type:context", (1, 2, None, "context")),
        (("data", 1, "paragraphs", 2, "context"), " \n", "empty:context", (1, 2, None, "context")),
        (("data", 1, "paragraphs", 2, "qas"), ..., "missing_field:qas", (1, 2, None, "qas")),
        (("data", 1, "title"), ..., "missing_field:title", (1, None, None, "title")),
        (("data", 1, "paragraphs"), ..., "missing_field:paragraphs", (1, None, None, "paragraphs")),
        (("data", 1, "paragraphs"), {}, "bad_type:paragraphs", (1, None, None, "paragraphs")),
        (("data", 1), "oops", "bad_type:article", (1, None, None, None)),
    ],
)
def test_each_malformed_item_is_skipped_with_its_own_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, path: tuple[Any, ...], value: Any, reason: str, where: tuple
) -> None:
    doc = synthetic_doc()
    _mutate(doc, path, value)
    src = write_json(tmp_path / "bad.json", doc)
    corpus = load_squad_file(src)
    assert len(corpus.skipped) == 1
    item = corpus.skipped[0]
    assert item.reason == reason
    assert item.file == str(src)
    assert (item.article, item.paragraph, item.qid, item.field) == where
    assert corpus.skipped_counts() == {reason: 1}
    with caplog.at_level(logging.WARNING, logger="pruning.data.qa.reader"):
        result = convert_qa([src], validation_fraction=0.5, k=2, seed=0)
    assert result.manifest["skipped"] == {"all": {reason: 1}}
    assert reason in caplog.text and "bad.json" in caplog.text


def test_impossible_and_unanswered_questions_are_counted(tmp_path: Path) -> None:
    doc = synthetic_doc()
    qas = doc["data"][0]["paragraphs"][0]["qas"]
    qas.append({"id": "imp", "question": "無理？", "answers": [], "is_impossible": True})
    qas.append({"id": "none", "question": "なし？", "answers": []})
    corpus = load_squad_file(write_json(tmp_path / "d.json", doc))
    assert corpus.skipped_counts() == {"impossible": 1, "no_answers": 1}
    assert corpus.questions_seen == 20
    assert len(corpus.examples) == 18


def test_duplicate_ids_across_files_are_skipped(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", synthetic_doc(n_articles=2))
    b = write_json(tmp_path / "b.json", synthetic_doc(n_articles=3))
    corpus = load_qa([a, b])
    assert corpus.skipped_counts() == {"duplicate_id": 6}
    assert all(item.file == str(b) for item in corpus.skipped)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"version": 1}', "'data' list"),
        ('{"data": {}}', "'data' list"),
        ("[1, 2]", "'data' list"),
    ],
)
def test_structurally_broken_file_is_a_pruning_error_naming_it(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "broken.json"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(PruningError, match=message) as info:
        load_qa([src])
    assert str(src) in str(info.value)


def test_missing_path_and_empty_folder_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="no such file"):
        load_qa([tmp_path / "nope.json"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(PruningError, match="no .json files"):
        load_qa([tmp_path / "empty"])


def test_unknown_format_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(PruningError, match="unknown QA format"):
        load_squad_file(write_json(tmp_path / "d.json", synthetic_doc()), "csv")


# ------------------------------------------------------------------------------------------- JSQuAD


def jsquad_doc() -> dict[str, Any]:
    doc = synthetic_doc(n_articles=4)
    for article in doc["data"]:
        for paragraph in article["paragraphs"]:
            prefix = f"{article['title']} [SEP] "
            paragraph["context"] = prefix + paragraph["context"]
            for question in paragraph["qas"]:
                for answer in question["answers"]:
                    answer["answer_start"] += len(prefix)
    # Article 0 paragraph 0: one answer in the title and one in the text; paragraph 1: title only.
    p0, p1 = doc["data"][0]["paragraphs"][:2]
    p0["qas"][0]["answers"].insert(0, {"text": "Title0", "answer_start": 0})
    p1["qas"][0]["answers"] = [{"text": "Title0", "answer_start": 0}]
    return doc


@pytest.mark.parametrize("qa_format", ["auto", "jsquad"])
def test_jsquad_prefix_is_stripped_and_offsets_shifted(tmp_path: Path, qa_format: str) -> None:
    corpus = load_squad_file(write_json(tmp_path / "js.json", jsquad_doc()), qa_format)
    assert all("[SEP]" not in p.text for p in corpus.passages)
    for example in corpus.examples:
        for start, end in example.answer_spans:
            assert example.context[start:end].endswith("番")
    assert corpus.skipped_counts() == {"answer_in_title": 1}
    assert corpus.dropped_answers == {"answer_in_title": 2}
    assert len(corpus.examples) == 11


def test_jsquad_format_requires_the_sep_marker(tmp_path: Path) -> None:
    corpus = load_squad_file(write_json(tmp_path / "d.json", synthetic_doc(n_articles=2)), "jsquad")
    assert corpus.skipped_counts() == {"missing_sep_prefix": 6}


def test_plain_squad_keeps_contexts_verbatim(tmp_path: Path) -> None:
    doc = synthetic_doc(n_articles=2)
    corpus = load_squad_file(write_json(tmp_path / "d.json", doc), "auto")
    assert [p.text for p in corpus.passages] == [p["context"] for a in doc["data"] for p in a["paragraphs"]]
