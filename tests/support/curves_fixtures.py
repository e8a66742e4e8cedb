"""Session fixtures for the curves world (tests/support/curves_world.py): logged once into the seed
server, and in-memory MCP clients whose default experiment is `curve_lab`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.curves_world import EXPERIMENT, CurvesWorld, log_curves_world
from support.servers import MlflowServer


@pytest.fixture(scope="session")
def curves_world(mlflow_server: MlflowServer) -> CurvesWorld:
    return log_curves_world(mlflow_server.uri)


@pytest.fixture
def curves_settings(curves_world: CurvesWorld, tmp_path: Path) -> Any:
    from mlflow_feast_mcp.core.settings import Settings

    return Settings(
        tracking_uri=curves_world.uri,
        feast_repo=tmp_path / "no_feast_repo_here",
        default_experiment=EXPERIMENT,
    )


@pytest.fixture
async def curves_client(curves_settings: Any) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(curves_settings)) as session:
        yield session
