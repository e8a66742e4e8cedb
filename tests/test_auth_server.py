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
