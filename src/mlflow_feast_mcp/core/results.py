"""Turn an output model into the MCP result: compact text for the model, structured content for
programs."""

from __future__ import annotations

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from .render import render


def tool_result(model: BaseModel, text: str | None = None) -> CallToolResult:
    """The answer as a `CallToolResult`; `text` overrides the generic compact rendering."""
    return CallToolResult(
        content=[TextContent(type="text", text=text if text is not None else render(model))],
        structured_content=model.model_dump(mode="json", exclude_none=True),
    )
