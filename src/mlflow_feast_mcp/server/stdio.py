"""stdio that answers every line. The SDK's stdin reader hands a line it cannot parse or validate
(truncated JSON, a lone surrogate escape, a 5,000-digit number, 10,000 levels of nesting, a batch,
`params` as a list, a missing or wrong `jsonrpc`) to the dispatcher as an exception, which drops it:
the client waits out its timeout. A relay between the reader and the server answers those lines
with the JSON-RPC error the spec asks for (-32700 parse error, -32600 invalid request), on the same
write stream the server uses, so frames never interleave."""

from __future__ import annotations

import re
from typing import Any

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError

# the request id of a line that did not parse: a bounded scan of its start (an id of a nested object
# that comes first would be taken instead; JSON-RPC then allows the error to carry it or null)
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,15}(?![\d.eE])|"(?:[^"\\]|\\.){0,200}")')
_SCAN = 2_000


def _errors(exc: Exception) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    try:
        return list(errors()) if callable(errors) else []
    except Exception:  # an error type whose errors() itself fails: treat as unparseable
        return []


def error_response(exc: Exception) -> JSONRPCError:
    """The JSON-RPC error for a line the SDK's reader refused."""
    errors = _errors(exc)
    raw = next((e.get("input") for e in errors if e.get("type") == "json_invalid"), None)
    request_id: int | str | None = None
    if raw is not None or not errors:
        if isinstance(raw, str) and (match := _ID.search(raw[:_SCAN])):
            token = match.group(1)
            request_id = token[1:-1] if token.startswith('"') else int(token)
        detail = str(errors[0].get("msg", "")) if errors else type(exc).__name__
        return JSONRPCError(
            jsonrpc="2.0",
            id=request_id,
            error=ErrorData(code=PARSE_ERROR, message=f"Parse error: {detail[:200]}"),
        )
    whole = next((e.get("input") for e in errors if isinstance(e.get("input"), dict)), None)
    candidate = whole.get("id") if whole else None
    if isinstance(candidate, (int, str)) and not isinstance(candidate, bool) and len(str(candidate)) <= 200:
        request_id = candidate
    message = "Invalid Request: not a single JSON-RPC 2.0 request object (batches are not supported)"
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=INVALID_REQUEST, message=message))


async def serve_stdio(lowlevel: Any) -> None:
    """Serve `lowlevel` (the SDK's low-level server) over stdio, answering unreadable lines."""
    async with stdio_server() as (read_stream, write_stream):
        to_server, from_relay = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def relay() -> None:
            async with to_server:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        await write_stream.send(SessionMessage(error_response(item)))
                    else:
                        await to_server.send(item)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(relay)
            await lowlevel.run(from_relay, write_stream, lowlevel.create_initialization_options())
            tasks.cancel_scope.cancel()
