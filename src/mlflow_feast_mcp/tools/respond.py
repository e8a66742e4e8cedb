"""An output model as the MCP result: its compact text for the model, its structured content for
programs (and for the clients that hand that to the model instead)."""

from __future__ import annotations

from mcp.types import CallToolResult, TextContent

from ..core.answer import Answer


def respond(answer: Answer, detailed: bool = False) -> CallToolResult:
    """Both views of one form of the answer: the whole model when `detailed`, else its concise form."""
    shown = answer if detailed else answer.concise()
    return CallToolResult(
        content=[TextContent(type="text", text=shown.render_text())],
        structured_content=shown.structured(),
    )
