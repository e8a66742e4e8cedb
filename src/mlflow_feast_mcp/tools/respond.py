"""An output model as the MCP result: its compact text for the model, its structured content for
programs (and for the clients that hand that to the model instead)."""

from __future__ import annotations

from mcp.types import CallToolResult, TextContent

from ..core.answer import Answer


def respond(answer: Answer) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=answer.render_text())],
        structured_content=answer.structured(),
    )
