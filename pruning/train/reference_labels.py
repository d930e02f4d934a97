"""The reference implementation's token labels ("v2"), reproduced exactly for `token_labels: reference`.

The reference did not map tokens to sentences through the offset mapping. It re-tokenised the sentences joined
by one space and counted tokens (docs/reference.md §1):

- the passage starts at `doc_start`: where the ids of "test" (no special tokens) first occur in the encoded pair
  (query, "test"), searching from the length of the encoded query alone (with special tokens); if they never
  occur, at that length;
- sentence i covers `[doc_start + len_{i-1}, doc_start + len_i)`, where `len_i` is the number of ids of sentences
  1 … i joined with one space, tokenised alone without special tokens — whatever really separated them, so a
  boundary drifts where that space changes the tokenisation (Japanese sentences are contiguous);
- positions are clipped to the padded batch length only: a drifted or over-long span can label `</s>` or
  padding, and truncation is not taken into account.

Why it is not the default: the offsets method labels exactly the tokens of each sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pruning.train.losses import IGNORE_INDEX


def relevant_indices(relevance: Sequence[int], n_spans: int) -> list[int]:
    """The reference's reading of a relevance list: a 0/1 mask when it has one value per span and every value is
    0 or 1, otherwise a list of relevant span indices."""
    values = list(relevance)
    if values and len(values) == n_spans and all(v in (0, 1) for v in values):
        return [i for i, v in enumerate(values) if v == 1]
    return values


def _ids(tokenizer: Any, text: str | list[str], special: bool) -> list[int]:
    # positions are counted on the whole text and clipped to the truncated batch later: the tokenizer's warning
    # that the text is longer than the model's maximum would be false (verbose=False)
    kwargs = {"padding": False, "truncation": False, "return_attention_mask": False, "verbose": False}
    batch = tokenizer([text], add_special_tokens=special, **kwargs)
    return list(batch["input_ids"][0])


def passage_start(tokenizer: Any, query: str) -> int:
    """Where the passage's tokens start in an encoded (query, passage) pair, found the reference's way."""
    query_length = len(_ids(tokenizer, query, special=True))
    pair = _ids(tokenizer, [query, "test"], special=True)
    probe = _ids(tokenizer, "test", special=False)
    for i in range(query_length, len(pair) - len(probe) + 1):
        if pair[i : i + len(probe)] == probe:
            return i
    return query_length


def span_positions(
    tokenizer: Any, query: str, sentences: Sequence[str], start: int | None = None
) -> list[tuple[int, int]]:
    """Token positions `[start, end)` of each sentence in the encoded pair, as the reference computed them.
    `start` is `passage_start(tokenizer, query)`, computed here unless given."""
    if not sentences:
        return []
    if start is None:
        start = passage_start(tokenizer, query)
    positions, previous = [], 0
    for i in range(len(sentences)):
        length = len(_ids(tokenizer, " ".join(sentences[: i + 1]), special=False))
        positions.append((start + previous, start + length))
        previous = length
    return positions


def reference_token_labels(
    tokenizer: Any,
    query: str,
    passage: str,
    spans: Sequence[Sequence[int]],
    relevance: Sequence[int],
    padded_length: int,
    start: int | None = None,
) -> list[int]:
    """One pair's labels over the padded batch length: -100 everywhere, 1 over the relevant sentences' positions,
    then 0 over the others' (so 0 wins where two overlap), each range clipped to `padded_length`."""
    sentences = [passage[a:b] for a, b in spans]
    positions = span_positions(tokenizer, query, sentences, start)
    relevant = relevant_indices(relevance, len(sentences))
    labels = [IGNORE_INDEX] * padded_length
    for i in relevant:
        if i < len(positions):  # as the reference: a negative index counts from the end
            _fill(labels, positions[i], 1)
    for i in range(len(positions)):
        if i not in relevant:
            _fill(labels, positions[i], 0)
    return labels


def _fill(labels: list[int], position: tuple[int, int], value: int) -> None:
    n = len(labels)
    start, end = min(position[0], n), min(position[1], n)
    labels[start:end] = [value] * len(labels[start:end])
