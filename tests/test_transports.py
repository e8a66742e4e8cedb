"""stdio, streamable HTTP and in-memory serve the same tools with the same answers; the MCP
Inspector CLI can list and call them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.calls import call
from support.servers import free_port, running

pytestmark = pytest.mark.anyio
CLI = str(Path(sys.executable).with_name("mlflow-feast-mcp"))


def sample_calls(world) -> list[tuple[str, dict]]:
    return [
        ("mlflow_search_runs", {"page_size": 3}),
        ("mlflow_get_run_features", {"run_id": world.runs["seed"]}),
        ("mlflow_get_model_version", {"version_ref": "Production"}),
        (
            "mlflow_get_metric_history",
            {"run_ids": [world.runs["parts"]], "metric_keys": ["val_loss"], "max_points": 8},
        ),
        ("mlflow_read_artifact", {"run_id": world.runs["seed"], "path": "training_artifacts/features.json"}),
        ("mlflow_get_run", {"run_id": "nope"}),
    ]


@pytest.fixture(scope="module")
def http_server(world, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("http") / "serve.log"
    url = f"http://127.0.0.1:{port}/mcp"
    with running(
        [CLI, "serve", "--transport", "http", "--port", str(port), "--tracking-uri", world.uri],
        ready_url=url,
        timeout=30,
        log=log,
        env={**os.environ, "FEAST_REPO_PATH": str(log.parent / "no_repo"), **SHARED_KEY},
    ):
        yield url


# page tokens are signed: processes that must issue identical tokens share a key, as replicas would
KEY_VAR = "MLFLOW_FEAST_MCP_PAGE_TOKEN_KEY"
SHARED_KEY = {KEY_VAR: "transport-identity-test"}


def stdio_params(world, tmp_path: Path):
    from mcp import StdioServerParameters

    return StdioServerParameters(
        command=CLI,
        args=["serve", "--tracking-uri", world.uri, "--feast-repo", str(tmp_path / "no_repo")],
        env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")} | SHARED_KEY,
    )


async def test_stdio_http_and_memory_answer_identically(world, http_server, settings, tmp_path):
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    in_memory = build_server(settings.model_copy(update={"page_token_key": SHARED_KEY[KEY_VAR]}))
    async with (
        Client(in_memory) as client,
        Client(stdio_params(world, tmp_path)) as over_stdio,
        Client(http_server) as over_http,
    ):
        tool_sets = [
            sorted(t.name for t in (await c.list_tools()).tools) for c in (client, over_stdio, over_http)
        ]
        assert tool_sets[0] == tool_sets[1] == tool_sets[2]
        for tool, args in sample_calls(world):
            answers = [await call(c, tool, **args) for c in (client, over_stdio, over_http)]
            first = answers[0]
            for other in answers[1:]:
                assert (other.is_error, other.data, other.text) == (first.is_error, first.data, first.text), (
                    tool
                )


def inspector_bin() -> Path:
    """The MCP Inspector CLI, installed once by the tests' own set-up into a cache folder."""
    home = Path(
        os.environ.get("MLFLOW_FEAST_MCP_NODE_CACHE", Path.home() / ".cache" / "mlflow-feast-mcp-node")
    )
    binary = home / "node_modules" / ".bin" / "mcp-inspector"
    if not binary.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the MCP Inspector test (install Node.js)"
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(home),
                "--no-audit",
                "--no-fund",
                "@modelcontextprotocol/inspector@0",
            ],
            check=True,
            timeout=300,
            capture_output=True,
        )
    return binary


@pytest.mark.slow
@pytest.mark.inspector
def test_mcp_inspector_cli_lists_and_calls_tools(world, tmp_path):
    binary = inspector_bin()
    base = [str(binary), "--cli", CLI, "serve", "--tracking-uri", world.uri, "--feast-repo", str(tmp_path)]
    listed = subprocess.run([*base, "--method", "tools/list"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    names = {t["name"] for t in json.loads(listed.stdout)["tools"]}
    assert {"mlflow_search_runs", "mlflow_get_model_version"} <= names
    called = subprocess.run(
        [
            *base,
            "--method",
            "tools/call",
            "--tool-name",
            "mlflow_get_model_version",
            "--tool-arg",
            "version_ref=champion",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert result["structuredContent"]["version"]["version"] == world.versions["feast_tags"]
