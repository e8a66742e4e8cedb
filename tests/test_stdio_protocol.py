"""Over stdio every line gets an answer: lines the SDK's reader cannot parse or validate get the
JSON-RPC error the spec asks for, with the request's id where it can be read, and the server keeps
serving (the next ping is answered)."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("mlflow-feast-mcp"))
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
CALL = '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"mlflow_search_runs","arguments":%s}}'
CASES = [  # (what, line, expected code, expected id)
    ("lone surrogate", CALL % (2, '{"filter":"\\ud800"}'), -32700, 2),
    ("5,000-digit integer", CALL % (3, '{"page_size":' + "9" * 5000 + "}"), -32700, 3),
    ("params as a list", '{"jsonrpc":"2.0","id":4,"method":"tools/list","params":[]}', -32600, 4),
    (
        "10,000 levels",
        '{"jsonrpc":"2.0","id":5,"method":"ping","params":' + "[" * 10_000 + "]" * 10_000 + "}",
        -32700,
        5,
    ),
    ("batch", '[{"jsonrpc":"2.0","id":6,"method":"ping"}]', -32600, None),
    ("missing jsonrpc", '{"id":7,"method":"ping"}', -32600, 7),
    ("wrong jsonrpc", '{"jsonrpc":"1.0","id":8,"method":"ping"}', -32600, 8),
    ("truncated JSON", '{"jsonrpc":"2.0","id":9,"meth', -32700, 9),
    ("not JSON at all", "hello", -32700, None),
]


class Stdio:
    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 20.0) -> dict:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "no reply within the timeout"
        return json.loads(self.proc.stdout.readline())


@pytest.fixture(scope="module")
def stdio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stdio]:
    repo = tmp_path_factory.mktemp("stdio") / "no_repo"
    proc = subprocess.Popen(
        [CLI, "serve", "--tracking-uri", "http://127.0.0.1:9", "--feast-repo", str(repo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    session = Stdio(proc)
    session.send(json.dumps(INIT))
    assert session.receive()["id"] == 1
    session.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    yield session
    proc.kill()
    proc.wait(10)


@pytest.mark.parametrize(("what", "line", "code", "request_id"), CASES, ids=[c[0] for c in CASES])
def test_unreadable_line_gets_a_jsonrpc_error_and_serving_goes_on(stdio, what, line, code, request_id):
    stdio.send(line)
    reply = stdio.receive()
    assert reply["error"]["code"] == code, what
    assert reply["id"] == request_id
    assert len(reply["error"]["message"]) < 300
    stdio.send('{"jsonrpc":"2.0","id":99,"method":"ping"}')
    assert stdio.receive() == {"jsonrpc": "2.0", "id": 99, "result": {}}
