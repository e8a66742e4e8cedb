"""The hard response budget: every answer fits in `budget` characters (the larger of its text and its
structured JSON). An answer with a variable part (rows, fields, params) is built from as many of its
items as fit, and says that it was cut and how to get the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .answer import Answer

DEFAULT_BUDGET = 20_000
_FIRST_TRY = 64  # items in fit's first build: most answers are whole at this size
A = TypeVar("A", bound=Answer)


def fit(build: Callable[[int], A], count: int, budget: int) -> A:
    """`build(n)` from the largest n <= count that fits the budget.

    `build(n)` makes the answer from the first n items and marks it truncated when n < count. At least
    one item is kept when there are any: a single item over budget is clipped by the one who builds it.
    The search gallops up from a few items before it bisects, so a run 20,000 features wide is never
    rendered whole only to learn that it does not fit."""
    low, size = 0, min(count, _FIRST_TRY)  # build(low) fits (low=0: nothing tried yet)
    while True:
        answer = build(size)
        if answer.size() > budget:
            break
        if size == count:
            return answer
        low, size = size, min(size * 4, count)
    if size <= 1:
        return answer
    high, best = size - 1, max(low, 1)  # the largest n that fits lies in [best, high]
    low = best + 1
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
