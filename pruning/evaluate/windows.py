"""Cutting a passage too long for one window: greedy runs of whole contexts, and pieces of one overlong context.

Both work on a measure the caller gives (the token count of a candidate window, as the tokenizer encodes it), so a
window holds exactly as much as fits: never more than `limit` tokens, and never room left for the next context.
"""

from __future__ import annotations

from collections.abc import Callable

from pruning.errors import PruningError


def greedy_runs(n: int, fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Consecutive runs [a, b) of n contexts, each grown while `fits(a, b + 1)` holds.

    A run that ends before the last context would have overflowed with the next one. A context that does not fit
    alone is a run of its own (the caller cuts it into pieces).
    """
    runs = []
    a = 0
    while a < n:
        b = a + 1
        if fits(a, b):
            while b < n and fits(a, b + 1):
                b += 1
        runs.append((a, b))
        a = b
    return runs


def token_pieces(n: int, room: int, length: Callable[[int, int], int], limit: int) -> list[tuple[int, int]]:
    """Cut n tokens into consecutive pieces [a, b) with `length(a, b) <= limit`.

    Each piece is first guessed `room` (>= 1) tokens long (the window less its query and special tokens), then shortened
    by what it exceeds until it fits: re-tokenising a piece can add a token at its seams.
    """
    pieces = []
    a = 0
    while a < n:
        b = min(n, a + room)
        while (excess := length(a, b) - limit) > 0:
            if b == a + 1:
                raise PruningError(f"one token of a context takes more than the {limit} tokens of a window")
            b = max(a + 1, b - excess)
        pieces.append((a, b))
        a = b
    return pieces
