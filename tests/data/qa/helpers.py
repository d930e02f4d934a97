"""SQuAD-format documents made up for the QA tests, and writing them to disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def qa(qid: str, question: str, context: str, *answers: str, **extra: Any) -> dict[str, Any]:
    """A question whose answers are given by text (located at their first occurrence in the context)."""
    found = [{"text": a, "answer_start": context.index(a)} for a in answers]
    return {"id": qid, "question": question, "answers": found, **extra}


def synthetic_doc(n_articles: int = 6, paragraphs: int = 3, tag: str = "") -> dict[str, Any]:
    """Articles A0.. with paragraphs of three sentences; one question per paragraph, answer in sentence 2."""
    data = []
    for a in range(n_articles):
        paras = []
        for p in range(paragraphs):
            ctx = f"記事{tag}{a}の段落{p}です。答えは{a}-{p}番です。最後の文です。"
            paras.append({"context": ctx, "qas": [qa(f"q{tag}{a}-{p}", f"質問{a}-{p}？", ctx, f"{a}-{p}番")]})
        data.append({"title": f"Title{tag}{a}", "paragraphs": paras})
    return {"version": "test", "data": data}


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path
