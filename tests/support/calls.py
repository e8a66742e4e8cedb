"""Calling tools through a real MCP client and reading both what the model reads and what programs get."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    text: str
    data: dict[str, Any]
    is_error: bool


async def call(client: Any, tool: str, **arguments: Any) -> Answer:
    result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    return Answer(text=text, data=result.structured_content or {}, is_error=bool(result.is_error))


async def ok(client: Any, tool: str, **arguments: Any) -> Answer:
    answer = await call(client, tool, **arguments)
    assert not answer.is_error, f"{tool}({arguments}) failed: {answer.text}"
    return answer


async def error(client: Any, tool: str, **arguments: Any) -> str:
    answer = await call(client, tool, **arguments)
    assert answer.is_error, f"{tool}({arguments}) should have failed, got: {answer.text[:300]}"
    assert answer.text != f"Error executing tool {tool}", "a crash, not an actionable ToolError"
    return answer.text
