"""Sentence splitting: hand-written Japanese and English cases plus the coverage property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pruning.data.sentences import split_sentences

pytestmark = pytest.mark.unit


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Japanese
        ("私は学生です。彼は先生です。", ["私は学生です。", "彼は先生です。"]),
        ("本当？うそ！やった。", ["本当？", "うそ！", "やった。"]),
        ("えっ！？本当。", ["えっ！？", "本当。"]),
        ("彼は「行く。帰る。」と言った。次の文。", ["彼は「行く。帰る。」と言った。", "次の文。"]),
        ("「行こう。」そう言って彼は出た。", ["「行こう。」", "そう言って彼は出た。"]),
        ("彼は「なぜ？」と聞いた。", ["彼は「なぜ？」と聞いた。"]),
        ("『本。』って何。", ["『本。』って何。"]),
        ("彼（注。これは注）は言った。次", ["彼（注。これは注）は言った。", "次"]),
        ("（笑）。次。", ["（笑）。", "次。"]),
        ("これで終わり。」次の文。", ["これで終わり。」", "次の文。"]),
        ("値は３．１４です．次の文．", ["値は３．１４です．", "次の文．"]),
        ("ver.2で動く。", ["ver.2で動く。"]),
        ("半角｡次", ["半角｡", "次"]),
        ("1行目\n2行目。\n\n  3行目  ", ["1行目", "2行目。", "3行目"]),
        ("文の途中で\n改行", ["文の途中で", "改行"]),
        # unbalanced bracket: the line is split ignoring brackets
        ("「閉じない。これは。", ["「閉じない。", "これは。"]),
        # English
        ("Mr. Smith went to Washington. He met Dr. Who.", ["Mr. Smith went to Washington.", "He met Dr. Who."]),
        ("J. R. R. Tolkien wrote it. The end.", ["J. R. R. Tolkien wrote it.", "The end."]),
        ("Pi is 3.14 or so. Really.", ["Pi is 3.14 or so.", "Really."]),
        ('He said "Go." Then he left.', ['He said "Go."', "Then he left."]),
        ('"Stop!" she cried. Then silence.', ['"Stop!" she cried.', "Then silence."]),
        ("He left (see below). Then", ["He left (see below).", "Then"]),
        ("(A note.) Next one.", ["(A note.)", "Next one."]),
        ("See No. 5 here. Done", ["See No. 5 here.", "Done"]),
        ("The U.S. Army came. It left.", ["The U.S. Army came.", "It left."]),
        ("Use tools, e.g. hammers. Or not.", ["Use tools, e.g. hammers.", "Or not."]),
        ("Fruit, i.e. apples. Good.", ["Fruit, i.e. apples.", "Good."]),
        ("Born Jan. 5 in St. Louis. Died later.", ["Born Jan. 5 in St. Louis.", "Died later."]),
        ("Smith vs. Jones was heard. Etc.", ["Smith vs. Jones was heard.", "Etc."]),
        ("Wait... what? Yes!", ["Wait... what?", "Yes!"]),
        ("Visit example.com today. Now.", ["Visit example.com today.", "Now."]),
        ("Is it? It is! Fine.", ["Is it?", "It is!", "Fine."]),
        ("It ended.' Then more.", ["It ended.'", "Then more."]),
        ("No terminator at all", ["No terminator at all"]),
        # mixed
        ("東京はTokyo.とも書く。Next sentence.", ["東京はTokyo.とも書く。", "Next sentence."]),
        ("", []),
        ("   \n\t ", []),
    ],
)
def test_split_cases(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def _check_invariants(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert not piece[0].isspace() and not piece[-1].isspace()
        assert not any(c in piece for c in "\n\r\u2028\u2029")
        previous_end = end
    # every character outside the spans is whitespace
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(text.split())


_TRICKY = list("。！？｡.!?．「」『』（）()【】“”\"' \n\t\r\u3000") + ["Mr", "e.g", "J", "3", "a", "あ", "と", "って"]


@settings(max_examples=250, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY) | st.text(max_size=3), max_size=40).map("".join))
def test_spans_cover_all_non_whitespace(text: str) -> None:
    _check_invariants(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_spans_cover_arbitrary_text(text: str) -> None:
    _check_invariants(text)
