"""Smaller tool definitions. pydantic puts a generated `title` on every schema node; clients pay
for them in tokens on every `tools/list` and they say nothing the property name does not."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer


def strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            key: strip_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [strip_titles(item) for item in schema]
    return schema


def compact_tool_schemas(mcp: MCPServer) -> None:
    """Strip generated titles from every tool's input and output schema (validation uses the models)."""
    for tool in mcp._tool_manager.list_tools():
        tool.parameters = strip_titles(tool.parameters)
        if tool.output_schema is not None:
            tool.__dict__["output_schema"] = strip_titles(tool.output_schema)
