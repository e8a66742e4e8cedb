"""The hard response budget. Every answer fits in `budget` characters (the larger of its text and
its structured JSON); lists that would not fit are cut and say how to get the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel

from .render import render

DEFAULT_BUDGET = 20_000
ModelT = TypeVar("ModelT", bound=BaseModel)
ItemT = TypeVar("ItemT")


def measure(model: BaseModel, text: str | None = None) -> int:
    """Characters the answer costs: the larger of its structured JSON and its text."""
    structured = json.dumps(model.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
    return max(len(structured), len(text if text is not None else render(model)))


def fit_items(
    items: Sequence[ItemT],
    build: Callable[[Sequence[ItemT], bool], ModelT],
    budget: int,
    text: Callable[[ModelT], str] = render,
) -> tuple[ModelT, int]:
    """Build the answer from the longest prefix of `items` that fits the budget.

    `build(prefix, truncated)` makes the answer; returns it with how many items it holds. At least
    one item is kept when there are any (a single item over budget is the tool's job to clip)."""
    answer = build(items, False)
    if measure(answer, text(answer)) <= budget:
        return answer, len(items)
    low, high = 1, len(items) - 1  # the largest count that fits lies in [low, high]
    best = 1 if items else 0
    while low <= high:
        middle = (low + high) // 2
        candidate = build(items[:middle], True)
        if measure(candidate, text(candidate)) <= budget:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return build(items[:best], True), best
