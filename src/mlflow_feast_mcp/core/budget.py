"""The hard response budget: every answer fits in `budget` characters (the larger of its text and its
structured JSON). An answer with a variable part (rows, fields, params) is built from as many of its
items as fit, and says that it was cut and how to get the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .answer import Answer

DEFAULT_BUDGET = 20_000
A = TypeVar("A", bound=Answer)


def fit(build: Callable[[int], A], count: int, budget: int) -> A:
    """`build(n)` from the largest n <= count that fits the budget (binary search).

    `build(n)` makes the answer from the first n items and marks it truncated when n < count. At least
    one item is kept when there are any: a single item over budget is clipped by the one who builds it."""
    answer = build(count)
    if answer.size() <= budget or count <= 1:
        return answer
    low, high, best = 1, count - 1, 1  # the largest n that fits lies in [low, high]
    while low <= high:
        middle = (low + high) // 2
        if build(middle).size() <= budget:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return build(best)


def clip_text(text: str, budget: int, how_to_get_more: str) -> str:
    """Plain text (a resource, a prompt) cut to the budget, saying so and where to get the rest."""
    if len(text) <= budget:
        return text
    note = f"\ntruncated: cut to {budget} characters; {how_to_get_more}"
    return text[: max(budget - len(note), 0)] + note
