"""Session fixtures for the MLflow 3 world (autolog, LoggedModels, aliases, sweeps): its own real
`mlflow server`, logged once per session, and in-memory MCP clients over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.mlflow3_world import Mlflow3World, log_mlflow3_world
from support.servers import MlflowServer


@pytest.fixture(scope="session")
def mlflow3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow3")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow3_world(mlflow3_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> Mlflow3World:
    return log_mlflow3_world(mlflow3_server.uri, tmp_path_factory.mktemp("mlflow3-scratch"))


@pytest.fixture
def mlflow3_settings(mlflow3_world: Mlflow3World, tmp_path: Path) -> Any:
    from mlflow_feast_mcp.core.settings import Settings

    return Settings(tracking_uri=mlflow3_world.uri, feast_repo=tmp_path / "no_feast_repo_here")


@pytest.fixture
async def mlflow3_client(mlflow3_settings: Any) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(mlflow3_settings)) as session:
        yield session
