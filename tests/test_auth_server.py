"""What a real `mlflow server --app-name basic-auth` answers a reader with READ on one experiment and
one registered model, without credentials and with a wrong password: the facts our server's handling
of 401/403 rests on (issue 17). Read with plain httpx, as our REST backend does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.auth_server import ADMIN, READER, AuthWorld, BasicAuthMlflowServer, log_auth_world

pytestmark = pytest.mark.slow  # a server of its own, logged for a minute or two


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BasicAuthMlflowServer, AuthWorld]]:
    server = BasicAuthMlflowServer(tmp_path_factory.mktemp("mlflow-basic-auth")).start()
    try:
        yield server, log_auth_world(server)
    finally:
        server.stop()


def test_reader_reads_what_it_was_granted(auth):
    server, world = auth
    with server.http(READER) as reader:
        experiment = reader.get(
            "/api/2.0/mlflow/experiments/get", params={"experiment_id": world.allowed_experiment}
        )
        assert experiment.status_code == 200 and experiment.json()["experiment"]["name"] == "auth_allowed"
        run = reader.get("/api/2.0/mlflow/runs/get", params={"run_id": world.allowed_run})
        assert run.status_code == 200
        model = reader.get("/api/2.0/mlflow/registered-models/get", params={"name": world.allowed_model})
        assert model.status_code == 200
        listed = reader.post("/api/2.0/mlflow/experiments/search", json={"max_results": 100}).json()
        assert [e["name"] for e in listed["experiments"]] == ["auth_allowed"]


def test_forbidden_is_a_plain_text_403(auth):
    server, world = auth
    with server.http(READER) as reader:
        for path, params in (
            ("/api/2.0/mlflow/experiments/get", {"experiment_id": world.forbidden_experiment}),
            ("/api/2.0/mlflow/runs/get", {"run_id": world.forbidden_run}),
            ("/api/2.0/mlflow/registered-models/get", {"name": world.forbidden_model}),
            ("/api/2.0/mlflow/model-versions/get", {"name": world.forbidden_model, "version": "1"}),
        ):
            answer = reader.get(path, params=params)
            assert (answer.status_code, answer.text) == (403, "Permission denied"), path
            assert answer.headers["content-type"].startswith("text/html")  # not MLflow's JSON error


def test_searches_filter_silently_and_missing_reads_as_forbidden(auth):
    server, world = auth
    with server.http(READER) as reader:
        both = [world.allowed_experiment, world.forbidden_experiment]
        runs = reader.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": both}).json()["runs"]
        assert [r["info"]["run_id"] for r in runs] == [world.allowed_run]
        only_forbidden = reader.post(
            "/api/2.0/mlflow/runs/search", json={"experiment_ids": [world.forbidden_experiment]}
        )
        assert (only_forbidden.status_code, only_forbidden.json()) == (200, {})
        # An id that does not exist is a 403 too: a reader cannot tell "not found" from "not permitted".
        missing = reader.get("/api/2.0/mlflow/runs/get", params={"run_id": "0" * 32})
        assert missing.status_code == 403
        by_name = reader.get("/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "nope"})
        assert by_name.status_code == 404 and by_name.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_no_or_wrong_credentials_are_a_401_challenge(auth):
    server, world = auth
    for user, password in ((None, None), (READER, "wrong"), (ADMIN, "wrong")):
        with server.http(user, password) as anonymous:
            answer = anonymous.get("/api/2.0/mlflow/runs/get", params={"run_id": world.allowed_run})
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == 'Basic realm="mlflow"'
            assert anonymous.get("/health").status_code == 200  # health stays open


# ---- our server against it ---------------------------------------------------------------------


def basic(server: BasicAuthMlflowServer, user: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{server.users[user]}".encode()).decode()


async def answer_as(server: BasicAuthMlflowServer, env: dict[str, str], monkeypatch, tool: str, **args):
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server
    from support.calls import call

    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(
        tracking_uri=server.uri, feast_repo=server.root / "no_repo", default_experiment="auth_allowed"
    )
    async with Client(build_server(settings)) as client:
        return await call(client, tool, **args)


@pytest.mark.anyio
async def test_reader_credentials_read_the_granted_and_name_what_is_denied(auth, monkeypatch):
    server, world = auth
    as_reader = server.env(READER)
    runs = await answer_as(server, as_reader, monkeypatch, "mlflow_search_runs", experiment="auth_allowed")
    assert not runs.is_error and [r["run_id"] for r in runs.data["runs"]] == [world.allowed_run]
    denied = await answer_as(server, as_reader, monkeypatch, "mlflow_get_run", run_id=world.forbidden_run)
    assert denied.is_error and f"Permission denied for run '{world.forbidden_run}'" in denied.text
    assert "or it does not exist" in denied.text and "Set MLFLOW_TRACKING" not in denied.text
    model = await answer_as(
        server, as_reader, monkeypatch, "mlflow_get_registered_model", model_name=world.forbidden_model
    )
    assert model.is_error and f"registered model '{world.forbidden_model}'" in model.text


@pytest.mark.anyio
async def test_missing_or_wrong_credentials_say_which(auth, monkeypatch):
    server, _ = auth
    none = await answer_as(server, {}, monkeypatch, "mlflow_list_experiments")
    assert none.is_error and "requires credentials (401) and none were sent" in none.text
    wrong = {"MLFLOW_TRACKING_USERNAME": READER, "MLFLOW_TRACKING_PASSWORD": "not-the-password"}
    rejected = await answer_as(server, wrong, monkeypatch, "mlflow_list_experiments")
    assert rejected.is_error and "rejected the ones sent" in rejected.text


@pytest.mark.anyio
async def test_forwarding_mode_applies_each_clients_own_permissions(auth, tmp_path):
    import os
    import sys
    from pathlib import Path

    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    from support.calls import call
    from support.servers import free_port, running

    server, world = auth
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING_", "MLFLOW_FEAST_MCP_"))}
    command = [
        str(Path(sys.executable).with_name("mlflow-feast-mcp")),
        "serve",
        "--transport",
        "http",
        "--port",
        str(port),
        "--tracking-uri",
        server.uri,
        "--feast-repo",
        str(tmp_path / "no_repo"),
        "--forward-mlflow-credentials",
    ]
    url = f"http://127.0.0.1:{port}/mcp"
    with running(
        command, ready_url=f"http://127.0.0.1:{port}/healthz", timeout=60, log=tmp_path / "serve.log", env=env
    ):

        async def get_run(authorization: str | None):
            headers = {"X-MLflow-Authorization": authorization} if authorization else {}
            http = create_mcp_http_client(headers=headers)
            async with http, Client(streamable_http_client(url, http_client=http)) as client:
                return await call(client, "mlflow_get_run", run_id=world.forbidden_run)

        admin = await get_run(basic(server, ADMIN))
        assert not admin.is_error and admin.data["run_id"] == world.forbidden_run
        reader = await get_run(basic(server, READER))  # right after the admin read it: nothing is shared
        assert reader.is_error and "Permission denied for run" in reader.text
        anonymous = await get_run(None)
        assert anonymous.is_error and "X-MLflow-Authorization" in anonymous.text
    assert basic(server, READER).split()[1] not in (tmp_path / "serve.log").read_text()  # never logged
