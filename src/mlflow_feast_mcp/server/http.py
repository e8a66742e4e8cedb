"""Streamable HTTP at /mcp: loopback by default, DNS-rebinding protection on, an optional bearer
token compared in constant time, bounded request bodies, a deadline for each request to arrive (a
half-open or trickling connection is closed, not kept forever), and `GET /healthz` for balancers."""

from __future__ import annotations

import hmac
import ipaddress
import sys
from typing import Any

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_BODY_BYTES = 1_000_000


def uvicorn_config(app: ASGIApp, host: str, port: int, request_seconds: float = 30.0) -> Any:
    """The uvicorn configuration every HTTP entry point uses (serve, the demo); a whole request
    (headers and body) must arrive within `request_seconds` of the connection or the last response."""
    import uvicorn

    protocol = _bounded_h11_protocol(request_seconds)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", http=protocol)


def _bounded_h11_protocol(request_seconds: float) -> type:
    """uvicorn's h11 protocol with a deadline per request: uvicorn itself only times out idle
    keep-alive connections after a response, so a client that connects and sends nothing (or sends
    its headers a byte a minute) would hold a connection forever."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class BoundedH11Protocol(H11Protocol):
        _deadline: Any = None

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(request_seconds, self._drop_unfinished)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _drop_unfinished(self) -> None:
            if not self.transport.is_closing() and self.conn.their_state is not h11.DONE:
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.DONE:  # the whole request is in: the handler takes over
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return BoundedH11Protocol


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerToken:
    """Reject requests without `Authorization: Bearer <token>` (constant-time comparison)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers", [])).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse(
                    {
                        "error": "unauthorized",
                        "message": "Send 'Authorization: Bearer <MLFLOW_FEAST_MCP_TOKEN>'.",
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class HealthAndStatelessGet:
    """`GET /healthz` answers 200 without a token (for balancers; it reveals nothing). In stateless
    mode there is no server-to-client stream, so `GET /mcp` answers 405 instead of hanging open."""

    def __init__(self, app: ASGIApp, stateless: bool) -> None:
        self.app, self.stateless = app, stateless

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"].rstrip("/")
            if path == "/healthz":
                await JSONResponse({"status": "ok"})(scope, receive, send)
                return
            if self.stateless and path == "/mcp":
                response = JSONResponse(
                    {"error": "method not allowed", "message": "Stateless server: POST JSON-RPC to /mcp."},
                    status_code=405,
                    headers={"Allow": "POST"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def allowed_hosts_for(host: str, port: int, extra: list[str]) -> list[str]:
    names = {"127.0.0.1", "localhost", "[::1]", host}
    hosts = [f"{name}:{port}" for name in sorted(names)] + sorted(names)
    return hosts + extra


def http_app(
    mcp: MCPServer, host: str, port: int, token: str | None, extra_hosts: list[str], stateless: bool = False
) -> ASGIApp:
    if not is_loopback(host) and not token:
        raise SystemExit(
            f"Refusing to serve on non-loopback address {host} without a token: set MLFLOW_FEAST_MCP_TOKEN "
            "(clients then send 'Authorization: Bearer <token>'), or bind 127.0.0.1."
        )
    hosts = allowed_hosts_for(host, port, extra_hosts)
    if not is_loopback(host) and not extra_hosts:
        print(
            f"mlflow-feast-mcp: bound to {host}; DNS-rebinding protection accepts only the Host headers "
            f"{', '.join(hosts)}. Add the names clients use: MLFLOW_FEAST_MCP_ALLOWED_HOSTS=myhost:{port}",
            file=sys.stderr,
        )
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[
            f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")
        ],  # TLS may end at a balancer
    )
    app: Starlette = mcp.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=security,
        max_request_body_size=MAX_BODY_BYTES,
        stateless_http=stateless,
        host=host,
    )
    return HealthAndStatelessGet(BearerToken(app, token) if token else app, stateless)
