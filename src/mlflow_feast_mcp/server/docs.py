"""The README's tool table, generated from the server itself so it cannot drift:
`python -m mlflow_feast_mcp.server.docs` rewrites the block between the tools markers."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

START, END = "<!-- tools:start -->", "<!-- tools:end -->"


async def tool_table() -> str:
    from mcp import Client

    from ..core.settings import Settings
    from .app import build_server

    async with Client(build_server(Settings(tracking_uri="http://127.0.0.1:9"))) as client:
        tools = (await client.list_tools()).tools
    lines = ["| tool | what it answers | arguments |", "| --- | --- | --- |"]
    for tool in tools:
        summary = " ".join((tool.description or "").split())
        args = ", ".join(
            f"`{name}`" + ("*" if name in tool.input_schema.get("required", []) else "")
            for name in tool.input_schema.get("properties", {})
        )
        lines.append(f"| `{tool.name}` | {summary} | {args} |")
    return (
        "\n".join(lines)
        + "\n\n`*` required. Every tool is read-only and idempotent and returns structured content with an output schema."
    )


def render_readme(readme: str, table: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(render_readme(path.read_text(), anyio.run(tool_table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
