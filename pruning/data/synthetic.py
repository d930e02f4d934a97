"""Synthetic context-relevance rows for smoke runs and tests (self-written templates; no licensed text).

Each row asks for one attribute of one object; the gold passage states it in one sentence among fillers, the
other passages talk about other objects. Japanese and English rows alternate.
"""

from __future__ import annotations

import random
from typing import Any

from pruning.data.spans import join_contexts

_OBJECTS_EN = ["lamp", "kettle", "bicycle", "garden", "bridge", "violin", "lantern", "harbor", "tower", "mirror"]
_OBJECTS_JA = ["ランプ", "やかん", "自転車", "庭園", "橋", "バイオリン", "提灯", "港", "塔", "鏡"]
_COLORS_EN = ["red", "blue", "green", "white", "black", "yellow"]
_COLORS_JA = ["赤", "青", "緑", "白", "黒", "黄色"]
_FILLERS_EN = [
    "The weather was mild all week.",
    "Many visitors arrived in the afternoon.",
    "A small market opens near the station on weekends.",
    "The museum closed early because of the holiday.",
    "Children played by the river until sunset.",
]
_FILLERS_JA = [
    "今週はずっと穏やかな天気だった。",
    "午後には多くの観光客が訪れた。",
    "週末には駅の近くで小さな市場が開かれる。",
    "祝日のため博物館は早めに閉館した。",
    "子どもたちは日が暮れるまで川辺で遊んだ。",
]


def make_rows(n: int, k: int = 4, seed: int = 0) -> list[dict[str, Any]]:
    """`n` rows of K passages each (gold first), deterministic for a seed."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        ja = i % 2 == 1
        if ja:
            objects, colors, fillers = _OBJECTS_JA, _COLORS_JA, _FILLERS_JA
        else:
            objects, colors, fillers = _OBJECTS_EN, _COLORS_EN, _FILLERS_EN
        picked = rng.sample(range(len(objects)), k)
        texts, spans, relevance = [], [], []
        for p, obj_index in enumerate(picked):
            obj, color = objects[obj_index], rng.choice(colors)
            fact = f"{obj}は{color}色に塗られている。" if ja else f"The {obj} is painted {color}."
            sentences = rng.sample(fillers, 3)
            at = rng.randrange(len(sentences) + 1)
            sentences.insert(at, fact)
            text, sp = join_contexts(sentences, "" if ja else " ")
            texts.append(text)
            spans.append(sp)
            relevance.append([int(p == 0 and j == at) for j in range(len(sentences))])
        target = objects[picked[0]]
        query = f"{target}は何色ですか？" if ja else f"What color is the {target}?"
        rows.append(
            {
                "query": query,
                "texts": texts,
                "labels": [1] + [0] * (k - 1),
                "context_spans": [[list(span) for span in p] for p in spans],
                "context_spans_relevance": relevance,
            }
        )
    return rows
