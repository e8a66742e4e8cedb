"""What every tool shares: annotations and argument types."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.types import ToolAnnotations
from pydantic import Field

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
