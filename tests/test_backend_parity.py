"""The two MLflow backends answer alike: REST over HTTP (no `import mlflow`) and MlflowClient in a
worker thread (sqlite:///, postgresql://, databricks). One store, logged once, read both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.calls import call
from support.mlflow3_world import MODEL as MODEL3
from support.mlflow3_world import SWEEP_MODEL, Mlflow3World
from support.mlflow_world import World, log_world
from support.servers import MlflowServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MlflowServer, World]]:
    root = tmp_path_factory.mktemp("parity")
    artifact_root = (root / "artifacts").as_uri()
    world = log_world(f"sqlite:///{root / 'mlflow.db'}", root / "scratch", artifact_root=artifact_root)
    server = MlflowServer(root, artifact_root=artifact_root).start()
    yield server, world
    server.stop()


def parity_calls(world: World) -> list[tuple[str, dict]]:
    r = world.runs
    return [
        ("mlflow_list_experiments", {}),
        ("mlflow_search_runs", {"page_size": 4}),
        (
            "mlflow_search_runs",
            {"filter": "metrics.test_accuracy > 0.6", "order_by": ["metrics.test_accuracy DESC"]},
        ),
        ("mlflow_get_run", {"run_id": r["seed"]}),
        ("mlflow_get_run", {"run_id": "latest", "response_format": "detailed"}),
        *[
            ("mlflow_get_run_features", {"run_id": r[role]})
            for role in ("seed", "parts", "feast_tags", "dataset", "bare")
        ],
        ("mlflow_compare_runs", {"run_ids": [r["seed"], r["parts"], r["feast_tags"]]}),
        (
            "mlflow_get_metric_history",
            {"run_ids": [r["parts"]], "metric_keys": ["val_loss"], "max_points": 20},
        ),
        (
            "mlflow_get_metric_history",
            {"run_ids": [r["parts"], r["seed"]], "metric_keys": ["val_loss", "test_accuracy"]},
        ),
        ("mlflow_describe_experiment", {}),
        ("mlflow_list_artifacts", {"run_id": r["seed"]}),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "training_artifacts/features.json"}),
        (
            "mlflow_read_artifact",
            {"run_id": r["seed"], "path": "logs/big.txt", "offset": 100},
        ),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "calibrator.pkl"}),
        ("mlflow_list_registered_models", {}),
        ("mlflow_get_registered_model", {}),
        *[
            ("mlflow_get_model_version", {"version_ref": ref})
            for ref in ("Production", "champion", "latest", "1")
        ],
        ("mlflow_get_run", {"run_id": "f" * 32}),
        ("mlflow_get_model_version", {"version_ref": "@nobody"}),
    ]


async def test_rest_and_mlflow_client_backends_answer_the_same(shared_store, tmp_path: Path):
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    server, world = shared_store
    rest = Settings(tracking_uri=server.uri, feast_repo=tmp_path, mlflow_timeout=60)
    local = Settings(tracking_uri=f"sqlite:///{server.db}", feast_repo=tmp_path, mlflow_timeout=60)
    assert rest.uses_rest and not local.uses_rest
    async with Client(build_server(rest)) as over_rest, Client(build_server(local)) as over_client:
        for tool, args in parity_calls(world):
            a, b = await call(over_rest, tool, **args), await call(over_client, tool, **args)
            assert (a.is_error, a.data, a.text) == (b.is_error, b.data, b.text), f"{tool}({args}) differs"
    assert not world.trap.exists()


async def test_database_uri_without_artifact_access_still_answers(mlflow_server, world, tmp_path: Path):
    """A sqlite:/// or postgresql:// URI cannot reach artifacts a tracking server serves: features
    fall back to the params, with a note, instead of failing the whole answer."""
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(tracking_uri=f"sqlite:///{mlflow_server.db}", feast_repo=tmp_path, mlflow_timeout=60)
    async with Client(build_server(settings)) as client:
        features = await call(client, "mlflow_get_run_features", run_id=world.runs["seed"])
        assert not features.is_error, features.text
        assert features.data["source"] == "features_part params"
        assert any("could not be read" in n for n in features.data["notes"])
        version = await call(client, "mlflow_get_model_version", version_ref="Archived")
        assert not version.is_error and version.data["version"]["version"] == world.versions["seed"]


def mlflow3_parity_calls(world: Mlflow3World) -> list[tuple[str, dict]]:
    """The MLflow 3 calls (LoggedModels and their files, registry refs, sweeps) on the MLflow 3 world."""
    r, m = world.runs, world.logged_models
    exp = {"experiment": world.experiment_name}
    return [
        ("mlflow_search_logged_models", exp),
        ("mlflow_search_logged_models", {**exp, "page_size": 3}),
        (
            "mlflow_search_logged_models",
            {
                **exp,
                "dataset": "churn_test",
                "filter": "metrics.test_roc_auc > 0.5",
                "order_by": ["metrics.test_roc_auc DESC"],
            },
        ),
        ("mlflow_search_logged_models", {"model_id": m["rf_champion"]}),
        ("mlflow_search_logged_models", {"model_id": "m-" + "0" * 32}),
        ("mlflow_get_run", {"run_id": r["rf_autolog"]}),
        ("mlflow_get_run", {"run_id": r["sweep"]}),
        ("mlflow_get_run", {"run_id": r["grid"], "response_format": "detailed"}),
        ("mlflow_list_artifacts", {"run_id": r["rf_autolog"]}),
        ("mlflow_list_artifacts", {"run_id": r["rf_champion"], "path": f"models/{m['rf_champion']}"}),
        ("mlflow_read_artifact", {"run_id": r["rf_autolog"], "path": f"models/{m['rf_autolog']}/MLmodel"}),
        ("mlflow_read_artifact", {"run_id": r["rf_autolog"], "path": f"models/{m['rf_autolog']}/model.pkl"}),
        ("mlflow_get_run_features", {"run_id": r["rf_champion"]}),
        ("mlflow_search_runs", exp),
        ("mlflow_search_runs", {**exp, "parent_run_id": r["sweep"]}),
        (
            "mlflow_get_model_version",
            {"model_name": MODEL3, "version_ref": "champion", "response_format": "detailed"},
        ),
        ("mlflow_get_model_version", {"model_name": SWEEP_MODEL, "version_ref": "Production"}),
        ("mlflow_get_model_version", {"version_ref": f"models:/{m['trial_1']}"}),
        ("mlflow_get_model_version", {"version_ref": m["rf_autolog"]}),
        ("mlflow_get_registered_model", {"model_name": MODEL3}),
        (
            "validate_training_run",
            {"run_id": r["rf_champion"], "expected_algorithm": "RandomForestClassifier"},
        ),
    ]


async def test_both_backends_answer_alike_on_mlflow3_models_and_sweeps(
    mlflow3_world: Mlflow3World, tmp_path: Path
):
    """LoggedModels, their files, model references and sweeps read over REST and through MlflowClient
    (pointed at the same tracking server) give the same answers."""
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    common = {"tracking_uri": mlflow3_world.uri, "feast_repo": tmp_path, "mlflow_timeout": 60}
    rest, local = Settings(**common, mlflow_backend="rest"), Settings(**common, mlflow_backend="client")
    async with Client(build_server(rest)) as over_rest, Client(build_server(local)) as over_client:
        for tool, args in mlflow3_parity_calls(mlflow3_world):
            a, b = await call(over_rest, tool, **args), await call(over_client, tool, **args)
            assert (a.is_error, a.data, a.text) == (b.is_error, b.data, b.text), f"{tool}({args}) differs"
            assert a.is_error == (args.get("model_id") == "m-" + "0" * 32), (
                a.text
            )  # only the unknown id fails
