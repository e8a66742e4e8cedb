"""Session fixtures: one real `mlflow server` (SQLite, served artifacts) with a logged history,
and in-memory MCP clients over the real server code."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from support.mlflow_world import World, log_world
from support.servers import MlflowServer

pytest_plugins = [
    "support.feast_world",
    "support.demo_world",
    "support.mlflow3_fixtures",
    "support.hostile_fixtures",
    "support.feast_kinds_fixtures",
    "support.curves_fixtures",
]

os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
# mlflow server otherwise starts a pool of huey job consumers (GenAI jobs) per server: ~7 processes
# and ~2 GB that no test uses.
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def world(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    return log_world(mlflow_server.uri, tmp_path_factory.mktemp("artifacts-src"))


@pytest.fixture
def settings(world: World, tmp_path: Path):
    from mlflow_feast_mcp.core.settings import Settings

    return Settings(tracking_uri=world.uri, feast_repo=tmp_path / "no_feast_repo_here")


@pytest.fixture
async def client(settings) -> AsyncIterator:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(settings)) as session:
        yield session
