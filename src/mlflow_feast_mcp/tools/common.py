"""What every tool shares: annotations and argument types."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.types import ToolAnnotations
from pydantic import Field

READ_ONLY = ToolAnnotations(
    read_only_hint=True, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)

ResponseFormat = Literal["concise", "detailed"]  # 'detailed' adds every field; the enum says it
PageToken = Annotated[
    str | None,
    Field(description="from next_page_token"),
]
RunRef = Annotated[
    str,
    Field(
        description="run id, run name or 'latest'",
        min_length=1,
        max_length=300,
    ),
]
