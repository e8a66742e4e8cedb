"""Nothing is written to MLflow or Feast by any tool: the MLflow store (every table of its SQLite
database, the served artifact files) and the Feast repos (registry bytes, every file in the repo)
are snapshotted, every tool is called with valid arguments through both MLflow backends (REST over
HTTP, and MlflowClient straight on the SQLite file), and the snapshots are compared."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from support.calls import call
from support.mlflow_world import MODEL

pytestmark = pytest.mark.anyio


def sqlite_snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, read through a read-only connection."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


def tree_snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root (a new, removed or changed file shows)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def valid_calls(world: Any) -> list[tuple[str, dict]]:
    runs = world.runs
    return [
        ("mlflow_list_experiments", {}),
        ("mlflow_list_experiments", {"name_contains": "nba", "include_deleted": True}),
        ("mlflow_search_runs", {}),
        ("mlflow_search_runs", {"filter": "metrics.test_accuracy > 0.6", "page_size": 2}),
        ("mlflow_get_run", {"run_id": runs["seed"], "response_format": "detailed"}),
        ("mlflow_get_run", {"run_id": "latest"}),
        ("mlflow_get_run_features", {"run_id": runs["seed"]}),
        ("mlflow_get_run_features", {"run_id": runs["dataset"]}),
        ("mlflow_compare_runs", {"run_ids": [runs["seed"], runs["parts"], runs["feast_tags"]]}),
        ("mlflow_get_metric_history", {"run_ids": [runs["parts"]], "metric_keys": ["val_loss"]}),
        ("mlflow_describe_experiment", {}),
        ("mlflow_search_runs", {"filter": "params.algoritm = 'x'"}),
        ("mlflow_list_artifacts", {"run_id": runs["seed"], "depth": 3}),
        ("mlflow_read_artifact", {"run_id": runs["seed"], "path": "training_artifacts/features.json"}),
        ("mlflow_search_logged_models", {"filter": "metrics.test_accuracy > 0"}),
        ("mlflow_search_runs", {"include_children": True}),
        ("mlflow_read_artifact", {"run_id": runs["seed"], "path": "logs/big.txt", "offset": 1000}),
        ("mlflow_read_artifact", {"run_id": runs["seed"], "path": "calibrator.pkl"}),
        ("mlflow_read_artifact", {"run_id": runs["seed"], "path": "model/weights.bin"}),
        ("mlflow_list_registered_models", {}),
        ("mlflow_get_registered_model", {}),
        ("mlflow_get_registered_model", {"model_name": MODEL, "stage": "Production"}),
        ("mlflow_get_model_version", {}),
        ("mlflow_get_model_version", {"version_ref": "champion", "response_format": "detailed"}),
        ("mlflow_get_model_version", {"version_ref": "latest"}),
        ("mlflow_get_model_version", {"version_ref": "1"}),
        ("feast_list_feature_views", {"response_format": "detailed"}),
        ("feast_describe_feature_view", {"name": "game_features"}),
        ("feast_list_entities", {}),
        ("feast_list_data_sources", {}),
        ("feast_list_feature_services", {}),
        ("feast_get_feature_view_history", {"name": "game_features"}),
        ("check_feature_alignment", {"run_or_model": runs["seed"]}),
        ("check_feature_alignment", {"run_or_model": f"{MODEL}@champion"}),
        ("validate_training_run", {"run_id": runs["seed"]}),
        ("validate_training_run", {}),
        ("validate_training_run", {"check_predictions": True}),
        ("feast_get_online_features", {"feature_service": "game_winner_v1", "entity_rows": [{"game_id": 1}]}),
        ("predictions_spot_check", {}),
        ("predictions_spot_check", {"version_ref": "champion", "since": "30d"}),
    ]


def predictions_table(db: Path, world: Any) -> str:
    """ml_dev.predictions with one batch of the world's Production version, written by the demo's writer."""
    from datetime import datetime, timezone

    from mlflow_feast_mcp.demo.predictions import write_batch

    row = {
        "game_id": 22401213, "game_date": None, "home_team_id": 1, "away_team_id": 2, "predicted_winner": 1,
        "probability": 0.61, "model_name": MODEL, "model_version": str(world.versions["parts"]),
        "run_id": world.runs["parts"], "feature_service": "game_winner_v1",
        "created_at": datetime(2030, 1, 1, tzinfo=timezone.utc),
    }  # fmt: skip
    uri = f"sqlite:///{db}"
    write_batch(uri, "ml_dev.predictions", [row, row | {"game_id": 22401214, "predicted_winner": 2}])
    return uri


async def call_everything(settings: Any, world: Any) -> tuple[set[str], dict[str, str]]:
    """Call every listed tool (unknown ones with no arguments); return (tools listed, the last error
    of each tool that never answered)."""
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    answered: set[str] = set()
    errors: dict[str, str] = {}
    async with Client(build_server(settings)) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        calls = [(tool, args) for tool, args in valid_calls(world) if tool in listed]
        calls += [(tool, {}) for tool in sorted(listed - {tool for tool, _ in calls})]
        for tool, args in calls:
            answer = await call(client, tool, **args)
            if answer.is_error:
                errors[tool] = answer.text[:300]
            else:
                answered.add(tool)
        for prompt in (await client.list_prompts()).prompts:  # prompts read nothing, but cheap to prove
            try:
                args = {a.name: "latest" for a in prompt.arguments or [] if a.required}
                await client.get_prompt(prompt.name, args)
            except Exception:
                pass
    return listed, {tool: error for tool, error in errors.items() if tool not in answered}


async def test_no_tool_writes_to_mlflow_or_feast(mlflow_server, world, request, tmp_path):
    from mlflow_feast_mcp.core.settings import Settings

    repos: list[Path] = []
    if (Path(__file__).parent / "support" / "feast_world.py").exists():
        feast_world = request.getfixturevalue("feast_world")
        repos = [feast_world.file_repo, feast_world.sql_repo]
    feast_repo = repos[0] if repos else tmp_path / "no_feast_repo"
    predictions = predictions_table(tmp_path / "predictions.db", world)

    def snapshot() -> dict[str, Any]:
        return {
            "mlflow db": sqlite_snapshot(mlflow_server.db),
            "predictions db": sqlite_snapshot(tmp_path / "predictions.db"),
            "predictions file": tree_snapshot(tmp_path),
            "mlflow artifacts": tree_snapshot(mlflow_server.root / "artifacts"),
            **{f"feast repo {repo.name}": tree_snapshot(repo) for repo in repos},
        }

    phases: dict[str, float] = {}
    started = time.monotonic()
    before = snapshot()
    phases["snapshot"] = time.monotonic() - started
    assert before["mlflow db"]["runs"], "the MLflow world is empty: nothing to protect"
    started = time.monotonic()
    listed, missing = await call_everything(
        Settings(tracking_uri=world.uri, feast_repo=feast_repo, predictions_uri=predictions), world
    )
    phases["REST + file registry"] = time.monotonic() - started
    assert not missing, f"tools that never answered (the read-only proof misses them): {missing}"
    started = time.monotonic()
    if len(repos) > 1:  # the SQL registry too
        await call_everything(
            Settings(tracking_uri=world.uri, feast_repo=repos[1], predictions_uri=predictions), world
        )
    phases["SQL registry"] = time.monotonic() - started
    started = time.monotonic()
    # MlflowClient straight on the SQLite file: store initialisation must not write either.
    await call_everything(
        Settings(
            tracking_uri=f"sqlite:///{mlflow_server.db}",
            feast_repo=feast_repo,
            mlflow_backend="client",
            predictions_uri=predictions,
        ),
        world,
    )
    phases["MlflowClient on SQLite"] = time.monotonic() - started
    after = snapshot()
    for part in before:
        if part == "mlflow db":
            for table, rows in before[part].items():
                assert after[part].get(table) == rows, f"MLflow table {table} changed"
        assert after[part] == before[part], f"{part} changed"
    assert not world.trap.exists(), "a pickle was loaded"
    print(
        f"\nread-only: {len(listed)} tools over REST, MlflowClient/SQLite and both Feast registries; "
        f"{sum(len(r) for r in before['mlflow db'].values())} MLflow rows, "
        f"{sum(len(before[p]) for p in before if p.startswith('feast'))} Feast files unchanged; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
    )
