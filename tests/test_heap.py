"""The served process settles its heap once a backend has loaded: the modules and registry it brought
are frozen out of the garbage collector's full passes (which otherwise stalled every call for 175 ms at
a time while a wide answer allocated; benchmarks/hostile_probe.py --only stall). An embedding process
(tests, the demo) keeps its heap as it is."""

from __future__ import annotations

import gc

import pytest

from mlflow_feast_mcp.core.settings import Settings
from mlflow_feast_mcp.server.backends import Backends

pytestmark = pytest.mark.anyio


async def test_a_served_process_freezes_what_its_backends_loaded(world) -> None:
    gc.unfreeze()
    try:
        embedded = Backends(Settings(tracking_uri=world.uri))
        await embedded.mlflow()
        assert gc.get_freeze_count() == 0
        served = Backends(Settings(tracking_uri=world.uri), owns_process=True)
        await served.mlflow()
        assert gc.get_freeze_count() > 0
        await embedded.aclose()
        await served.aclose()
    finally:
        gc.unfreeze()  # the test process's own heap goes back to the collector
