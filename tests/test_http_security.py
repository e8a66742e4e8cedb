"""Streamable HTTP as a real `mlflow-feast-mcp serve --transport http` subprocess: loopback bind by
default, DNS-rebinding protection, the bearer token, the non-loopback refusal and the body limit."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from support.servers import free_port, running

TOKEN = "s3cret-token-for-tests"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "security-test", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def serve_command(port: int | None, uri: str, feast_repo: Path, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "mlflow_feast_mcp", "serve", "--transport", "http"]
    if port is not None:
        command += ["--port", str(port)]
    return [*command, "--tracking-uri", uri, "--feast-repo", str(feast_repo), *extra]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_FEAST_MCP_")}
    return env | extra


@pytest.fixture(scope="module")
def token_server(world, tmp_path_factory) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    log = tmp_path_factory.mktemp("http-security") / "serve.log"
    url = f"http://127.0.0.1:{port}/mcp"
    with running(
        serve_command(port, world.uri, log.parent / "no_feast_repo"),
        ready_url=url,
        log=log,
        env=clean_env(MLFLOW_FEAST_MCP_TOKEN=TOKEN),
    ) as proc:
        yield proc, url


def auth(token: str = TOKEN) -> dict[str, str]:
    return MCP_HEADERS | {"Authorization": f"Bearer {token}"}


def test_binds_loopback_by_default(token_server):
    proc, _ = token_server
    listening = [
        c.laddr for c in psutil.Process(proc.pid).net_connections(kind="inet") if c.status == "LISTEN"
    ]
    assert listening, "the server listens on nothing"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening


def test_missing_or_wrong_token_is_401(token_server):
    _, url = token_server
    missing = httpx.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
    assert missing.status_code == 401
    assert missing.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert "MLFLOW_FEAST_MCP_TOKEN" in missing.text
    for wrong in ("wrong", TOKEN[:-1], TOKEN + "x", "x" * 10_000):
        assert httpx.post(url, json=INITIALIZE, headers=auth(wrong), timeout=10).status_code == 401
    basic = MCP_HEADERS | {"Authorization": f"Basic {TOKEN}"}
    assert httpx.post(url, json=INITIALIZE, headers=basic, timeout=10).status_code == 401


@pytest.mark.anyio
async def test_right_token_works_through_mcp_client(token_server):
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    _, url = token_server
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        tools = await client.list_tools()
        assert "mlflow_list_experiments" in {t.name for t in tools.tools}
        result = await client.call_tool("mlflow_list_experiments", {"name_contains": "nba"})
        assert not result.is_error, result.content
        assert [e["name"] for e in result.structured_content["experiments"]] == ["nba_game_winner_prediction"]


@pytest.mark.parametrize(
    "host", ["evil.example.com", "evil.example.com:80", "127.0.0.1.nip.io", "attacker:1234"]
)
def test_foreign_host_header_is_refused(token_server, host):
    _, url = token_server
    response = httpx.post(url, json=INITIALIZE, headers=auth() | {"Host": host}, timeout=10)
    assert response.status_code in (421, 403), (host, response.status_code, response.text[:200])


def test_foreign_origin_is_refused(token_server):
    _, url = token_server
    headers = auth() | {"Origin": "http://evil.example.com"}
    response = httpx.post(url, json=INITIALIZE, headers=headers, timeout=10)
    assert response.status_code == 403


def test_right_host_is_accepted(token_server):
    _, url = token_server
    port = url.split(":")[2].split("/")[0]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        response = httpx.post(url, json=INITIALIZE, headers=auth() | {"Host": host}, timeout=10)
        assert response.status_code == 200, (host, response.status_code, response.text[:200])


def test_oversized_body_is_413(token_server):
    _, url = token_server
    big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 2_000_000 + b'"}}'
    response = httpx.post(url, content=big, headers=auth(), timeout=30)
    assert response.status_code == 413

    def chunks():  # no Content-Length: the limit must hold on the streamed body too
        yield big[:1000]
        for start in range(1000, len(big), 64_000):
            yield big[start : start + 64_000]

    streamed = httpx.post(url, content=chunks(), headers=auth(), timeout=30)
    assert streamed.status_code == 413


def test_oversized_body_without_token_is_401_not_read(token_server):
    _, url = token_server
    big = b"x" * 2_000_000
    assert httpx.post(url, content=big, headers=MCP_HEADERS, timeout=30).status_code == 401


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_non_loopback_bind_without_token_is_refused(world, tmp_path, host):
    proc = subprocess.run(
        serve_command(free_port(), world.uri, tmp_path / "no_feast_repo", "--host", host),
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Refusing to serve on non-loopback address" in proc.stderr
    assert "MLFLOW_FEAST_MCP_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_non_loopback_bind_with_token_is_allowed_and_explains_allowed_hosts(tmp_path, capsys):
    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server
    from mlflow_feast_mcp.server.http import http_app

    mcp = build_server(Settings(feast_repo=tmp_path / "none"))
    assert http_app(mcp, "0.0.0.0", 8123, TOKEN, []) is not None
    assert "MLFLOW_FEAST_MCP_ALLOWED_HOSTS" in capsys.readouterr().err
    http_app(build_server(Settings(feast_repo=tmp_path / "none")), "0.0.0.0", 8123, TOKEN, ["me:8123"])
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit, match="Refusing"):
        http_app(build_server(Settings(feast_repo=tmp_path / "none")), "10.1.2.3", 8123, None, [])


def test_healthz_answers_without_a_token_and_reveals_nothing(token_server):
    _, url = token_server
    response = httpx.get(url.replace("/mcp", "/healthz"), timeout=5)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_stateless_get_is_405_not_a_hanging_stream(world, tmp_path):
    port = free_port()
    with running(
        [*serve_command(port, world.uri, tmp_path / "no_repo"), "--stateless"],
        ready_url=f"http://127.0.0.1:{port}/healthz",
        env=clean_env(),
    ):
        response = httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=5)
        assert response.status_code == 405 and response.headers["allow"] == "POST"


def closes_within(port: int, opening: bytes, seconds: float) -> float | None:
    """Seconds until the server closes a connection that sent only `opening` (None: still open)."""
    import socket
    import time

    with socket.create_connection(("127.0.0.1", port)) as sock:
        if opening:
            sock.sendall(opening)
        sock.settimeout(seconds)
        start = time.monotonic()
        try:
            while sock.recv(1024):
                pass
        except TimeoutError:
            return None
        return time.monotonic() - start


def test_half_open_and_trickling_connections_are_closed(world, tmp_path):
    port = free_port()
    with running(
        serve_command(port, world.uri, tmp_path / "no_repo"),
        ready_url=f"http://127.0.0.1:{port}/healthz",
        env=clean_env(MLFLOW_FEAST_MCP_HTTP_REQUEST_TIMEOUT="1.5"),
    ):
        assert closes_within(port, b"", 10) is not None  # connected, never sent a byte
        partial = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
        assert closes_within(port, partial, 10) is not None  # headers never finished
        # a request that arrives in time is served as before, on the same kind of connection
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
