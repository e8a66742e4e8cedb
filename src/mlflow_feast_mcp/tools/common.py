"""What every tool shares: annotations, argument types, the page fields of list answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Literal, TypeVar

from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

ItemT = TypeVar("ItemT")
ModelT = TypeVar("ModelT", bound=BaseModel)

READ_ONLY = ToolAnnotations(
    read_only_hint=True, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)

ResponseFormat = Annotated[
    Literal["concise", "detailed"],
    Field(
        description="'concise' (default) for the headline facts; 'detailed' adds every param, tag and field"
    ),
]
PageToken = Annotated[
    str | None,
    Field(description="next_page_token from the previous answer, to continue; omit for the first page"),
]
RunRef = Annotated[
    str,
    Field(
        description="Run id (32 hex chars, e.g. '3f2a9c0d...'), 'latest' for the newest run of the default "
        "experiment, or an exact run name in it",
        min_length=1,
        max_length=300,
    ),
]


class PageInfo(BaseModel):
    """Paging and truncation, on every list answer."""

    next_page_token: str | None = Field(None, description="pass as page_token to get the next page")
    truncated: bool = Field(False, description="true when the answer was cut to fit the response budget")
    hint: str | None = Field(None, description="how to get the rest when more exists")


def name_contains_filter(name_contains: str | None) -> str | None:
    """MLflow's filter for 'name contains X', case-insensitive, with X's quotes and wildcards escaped."""
    if not name_contains:
        return None
    return "name ILIKE '%" + name_contains.replace("'", "\\'").replace("%", "\\%") + "%'"


def continue_hint(tool: str, token: str | None, truncated: bool) -> str | None:
    if not token:
        return None
    why = "Cut to fit the response budget. " if truncated else ""
    return f"{why}More results: call {tool} again with the same arguments and page_token='{token}'."


def budgeted_page(
    tool: str,
    items: list[ItemT],
    build: Callable[[list[ItemT], PageInfo], ModelT],
    budget: int,
    *,
    cursor: str | int | None,
    skip: int,
    next_cursor: str | int | None,
    scope: str,
    text: Callable[[ModelT], str] | None = None,
) -> ModelT:
    """Fit `items` (one backend page, already past `skip`) into the budget and set the paging fields.

    A page cut by the budget continues at the same backend page, further in; a whole page continues
    at the backend's next page."""
    from ..core.budget import fit_items
    from ..core.paging import encode_page_token
    from ..core.render import render

    def make(prefix: Sequence[ItemT], truncated: bool) -> ModelT:
        if len(prefix) < len(items):
            token = encode_page_token(cursor, skip + len(prefix), scope)
        else:
            token = encode_page_token(next_cursor, 0, scope) if next_cursor is not None else None
        info = PageInfo(
            next_page_token=token, truncated=truncated, hint=continue_hint(tool, token, truncated)
        )
        return build(list(prefix), info)

    answer, _ = fit_items(items, make, budget, text or render)
    return answer
