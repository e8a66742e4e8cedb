"""Session fixtures for the hostile world (issue 17): its own `mlflow server`, so the poisoned
experiments never reach the tests that read the ordinary world."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.hostile_world import HostileWorld, log_hostile_world
from support.servers import MlflowServer

os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # run names are hostile


@pytest.fixture(scope="session")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-hostile")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hostile_world(hostile_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> HostileWorld:
    """About a minute to log (see support.hostile_world); `.seconds` says where it went."""
    return log_hostile_world(hostile_server.uri, tmp_path_factory.mktemp("hostile-src"))
