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
    The search gallops up from a few items, then interpolates between the sizes it has seen, so a run
    20,000 features wide costs a few builds of about the budget's size and is never rendered whole."""
    low, low_size, size = 0, 0, min(count, _FIRST_TRY)  # build(low) fits (low=0: nothing tried yet)
    while True:
        answer = build(size)
        answer_size = answer.size()
        if answer_size > budget:
            break
        if size == count:
            return answer
        low, low_size, size = size, answer_size, min(size * 4, count)
    if size <= 1:
        return answer
    high, high_size = size, answer_size  # build(high) does not fit
    best = max(low, 1)
    while high - low > 1:
        # where the budget falls between the two sizes seen, kept strictly inside (low, high)
        guess = low + int((budget - low_size) * (high - low) / max(high_size - low_size, 1))
        middle = min(max(guess, low + 1), high - 1)
        middle_size = build(middle).size()
        if middle_size <= budget:
            best, low, low_size = middle, middle, middle_size
        else:
            high, high_size = middle, middle_size
    return build(best)


def may_fit(answer: Answer, items: int, budget: int) -> bool:
    """Whether `answer` fits whole; one with more items than budget/4 cannot (an item costs at least
    four characters of JSON), so it is not rendered to find out."""
    return items * 4 <= budget and answer.size() <= budget


def clip_text(text: str, budget: int, how_to_get_more: str) -> str:
    """Plain text (a resource, a prompt) cut to the budget, saying so and where to get the rest."""
    if len(text) <= budget:
        return text
    note = f"\ntruncated: cut to {budget} characters; {how_to_get_more}"
    return text[: max(budget - len(note), 0)] + note
