"""Statelessness: two `mlflow-feast-mcp serve --transport http --stateless` replicas behind nginx
(round robin, `proxy_next_upstream error timeout`), both over the PostgreSQL-backed MLflow and the Feast
SQL registry in PostgreSQL. One client's calls alternate between the replicas and get the answers an
in-process server gives; a replica stopped mid-run costs no wrong answer and no error."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.calls import Answer, call
from support.mlflow_world import World
from support.postgres import MlflowOnPostgres, Nginx
from support.servers import free_port, start_process, stop_process, wait_http

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]
CLI = str(Path(sys.executable).with_name("mlflow-feast-mcp"))


def replica_calls(world: World) -> list[tuple[str, dict]]:
    r = world.runs
    return [
        ("mlflow_search_runs", {"page_size": 3}),
        ("mlflow_get_run", {"run_id": r["seed"]}),
        ("mlflow_get_run_features", {"run_id": r["parts"]}),
        ("mlflow_get_model_version", {"version_ref": "Production"}),
        (
            "mlflow_get_metric_history",
            {"run_ids": [r["parts"]], "metric_keys": ["val_loss"], "max_points": 8},
        ),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "training_artifacts/features.json"}),
        ("feast_list_feature_views", {}),
        ("feast_describe_feature_view", {"name": "game_features"}),
        ("check_feature_alignment", {"run_or_model": r["seed"]}),
        ("mlflow_get_run", {"run_id": "nope"}),
    ]


class Replica:
    def __init__(self, root: Path, tracking_uri: str, feast_repo: Path, balancer_port: int) -> None:
        self.port = free_port()
        self.log = root / f"replica-{self.port}.log"
        self.proc = start_process(
            [
                CLI,
                "serve",
                "--transport",
                "http",
                "--stateless",
                "--port",
                str(self.port),
                "--tracking-uri",
                tracking_uri,
                "--feast-repo",
                str(feast_repo),
            ],
            log=self.log,
            env={
                **os.environ,
                "MLFLOW_FEAST_MCP_ALLOWED_HOSTS": f"127.0.0.1:{balancer_port}",
                # replicas behind one balancer share the key that signs page tokens (docs/deploy.md)
                "MLFLOW_FEAST_MCP_PAGE_TOKEN_KEY": SHARED_KEY,
            },
        )

    def stop(self) -> None:
        stop_process(self.proc)


SHARED_KEY = "replicas-behind-one-balancer"  # the reference server signs tokens like the replicas


@pytest.fixture(scope="module")
def balanced(
    pg_mlflow: MlflowOnPostgres,
    pg_world: World,
    pg_feast_repo: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Nginx, list[Replica]]]:
    root = tmp_path_factory.mktemp("replicas")
    balancer_port = free_port()
    replicas = [Replica(root, pg_world.uri, pg_feast_repo, balancer_port) for _ in range(2)]
    nginx = Nginx(root / "nginx", [r.port for r in replicas], port=balancer_port)
    try:
        for replica in replicas:
            wait_http(f"http://127.0.0.1:{replica.port}/healthz", timeout=120, proc=replica.proc)
        nginx.start()
        yield nginx, replicas
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()


def same(a: Answer, b: Answer) -> bool:
    return (a.is_error, a.data, a.text) == (b.is_error, b.data, b.text)


async def test_alternating_replicas_and_one_stopped_mid_run(balanced, pg_world: World, pg_feast_repo: Path):
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    nginx, replicas = balanced
    calls = replica_calls(pg_world)
    local_settings = Settings(tracking_uri=pg_world.uri, feast_repo=pg_feast_repo, page_token_key=SHARED_KEY)
    async with Client(build_server(local_settings)) as local:
        reference = [await call(local, tool, **args) for tool, args in calls]
    assert sum(a.is_error for a in reference) == 1, [a.text[:200] for a in reference if a.is_error]

    async with Client(nginx.url) as client:
        before = len(nginx.upstreams_used())
        for round_ in range(2):
            for (tool, args), expected in zip(calls, reference, strict=True):
                got = await call(client, tool, **args)
                assert same(got, expected), (
                    f"round {round_}: {tool}({args}) differs behind nginx: {got.text[:300]}"
                )
        served = nginx.upstreams_used()[before:]
        ports = {f"127.0.0.1:{r.port}" for r in replicas}
        assert set(served) == ports, f"calls did not alternate over both replicas: {served}"
        assert all(a != b for a, b in itertools.pairwise(served)), f"round robin expected: {served}"

        replicas[0].stop()  # mid-run: the next calls must go to the other replica
        mark = len(nginx.upstreams_used())
        for (tool, args), expected in zip(calls, reference, strict=True):
            got = await call(client, tool, **args)
            assert same(got, expected), f"after stop: {tool}({args}) differs: {got.text[:300]}"
        after = nginx.upstreams_used()[mark:]
        last = f"127.0.0.1:{replicas[1].port}"
        assert after and all(u.endswith(last) for u in after), f"after the stop: {after}"
