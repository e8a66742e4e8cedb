"""Session fixture: the Feast-as-teams-use-it world (support/feast_kinds_world.py) with its own
`mlflow server`, started while the Feast processes import."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.feast_kinds_world import KindsWorld, build_kinds_world
from support.servers import MlflowServer


@pytest.fixture(scope="session")
def kinds_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindsWorld]:
    base = tmp_path_factory.mktemp("feast_kinds")
    server = MlflowServer(base / "mlflow")
    try:
        with ThreadPoolExecutor(1) as pool:
            started = pool.submit(server.start)
            try:
                world = build_kinds_world(base / "world", server.uri, started.result)
            except RuntimeError as error:  # the server's side of a failed step
                log = server.root / "server.log"
                tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
                raise RuntimeError(f"{error}\n--- mlflow server.log (tail) ---\n{tail}") from error
        yield world
    finally:
        server.stop()
