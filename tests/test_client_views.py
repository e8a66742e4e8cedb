"""Both client views of every tool on the demo store: what a text-reading client hands the model (the
text) and what a structured-reading one hands it (Claude Code, VS Code: the structured content). Both
fit the response budget, and every fact the text states is in the structured content too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.calls import call
from support.client_views import DEMO_CALLS, empty_fields, missing_facts

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BUDGET = 20_000


@pytest.fixture(scope="module")
async def demo_client(demo_seed) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.demo.predictions import predictions_uri
    from mlflow_feast_mcp.server.app import build_server

    url, report, workdir = demo_seed
    settings = Settings(
        tracking_uri=url,
        feast_repo=Path(report.feast_repo),
        predictions_uri=predictions_uri(workdir),
        response_budget=BUDGET,
    )
    async with Client(build_server(settings)) as client:
        yield client


def newest_game(demo_seed) -> int:
    import pandas as pd

    from mlflow_feast_mcp.demo import nba_data

    repo = Path(demo_seed[1].feast_repo)
    games = pd.read_parquet(repo / "data" / nba_data.GAME_FEATURES_FILE)
    return int(games.sort_values("event_timestamp")[nba_data.ENTITY_KEY].iloc[-1])


async def view_problems(client: Any, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Each call, concise and (where the tool has it) detailed: an error, an answer over the budget in
    either view, or a fact of the text missing from the structured content."""
    formats = {
        t.name: "response_format" in t.input_schema.get("properties", {})
        for t in (await client.list_tools()).tools
    }
    problems = []
    for tool, arguments in calls:
        for args in [arguments] + ([arguments | {"response_format": "detailed"}] if formats[tool] else []):
            answer = await call(client, tool, **args)
            where = f"{tool}({args})"
            if answer.is_error:
                problems.append(f"{where}: {answer.text[:200]}")
                continue
            structured = json.dumps(answer.data, ensure_ascii=False, separators=(",", ":"))
            if max(len(answer.text), len(structured)) > BUDGET:
                problems.append(f"{where}: {len(answer.text)} text / {len(structured)} structured chars")
            if missing := missing_facts(answer.text, answer.data):
                problems.append(f"{where}: the text's {missing[:8]} are not in the structured content")
            if empty := empty_fields(answer.data):
                problems.append(f"{where}: empty fields {empty[:8]}")
    return problems


async def test_every_tool_tells_both_clients_the_same_facts_within_the_budget(
    demo_client: Any, demo_seed
) -> None:
    online = {"feature_service": "game_winner_v1", "entity_rows": [{"game_id": newest_game(demo_seed)}]}
    calls = [*DEMO_CALLS, ("feast_get_online_features", online)]
    assert {tool for tool, _ in calls} == {t.name for t in (await demo_client.list_tools()).tools}
    problems = await view_problems(demo_client, calls)
    assert not problems, "\n".join(problems)


async def test_mlflow3_as_teams_log_it_tells_both_clients_the_same_facts(mlflow3_world, tmp_path) -> None:
    """Autolog runs, a grid search, a sweep, LoggedModels, a model with aliases and no stages."""
    from mlflow_feast_mcp.core.settings import Settings
    from support.mlflow3_world import EXPERIMENT, MODEL

    w = mlflow3_world
    trial = w.best_trial
    calls: list[tuple[str, dict[str, Any]]] = [
        ("mlflow_list_experiments", {}),
        ("mlflow_describe_experiment", {}),
        ("mlflow_search_runs", {"page_size": 5}),
        ("mlflow_search_runs", {"parent_run_id": w.runs["sweep"]}),
        ("mlflow_get_run", {"run_id": "latest"}),
        ("mlflow_get_run", {"run_id": w.runs["sweep"]}),
        ("mlflow_get_run_features", {"run_id": "latest"}),
        ("mlflow_compare_runs", {"run_ids": [f"{MODEL}@champion", f"{MODEL}@challenger"]}),
        ("mlflow_get_metric_history", {"metric_keys": ["val_roc_auc"], "run_ids": [trial]}),
        ("mlflow_search_logged_models", {}),
        ("mlflow_list_artifacts", {"run_id": "latest"}),
        ("mlflow_list_registered_models", {}),
        ("mlflow_get_registered_model", {}),
        ("mlflow_get_model_version", {"version_ref": "@champion"}),
        ("mlflow_get_model_version", {"version_ref": next(iter(w.logged_models.values()))}),
        ("validate_training_run", {}),
    ]
    settings = Settings(
        tracking_uri=w.uri,
        feast_repo=tmp_path / "no_feast_repo_here",
        default_experiment=EXPERIMENT,
        default_model=MODEL,
        response_budget=BUDGET,
    )
    async with _client(settings) as client:
        problems = await view_problems(client, calls)
    assert not problems, "\n".join(problems)


async def test_another_teams_feast_repo_tells_both_clients_the_same_facts(kinds_world) -> None:
    """Every view kind, two projects in one SQL registry, a re-apply after the champion trained."""
    from mlflow_feast_mcp.core.settings import Settings
    from support.feast_kinds_world import MODEL, RETAIL

    w = kinds_world
    calls: list[tuple[str, dict[str, Any]]] = [
        ("feast_list_projects", {}),
        ("feast_list_feature_views", {}),
        ("feast_describe_feature_view", {"name": "checkout_features"}),
        ("feast_list_entities", {}),
        ("feast_list_data_sources", {}),
        ("feast_list_feature_services", {}),
        ("feast_get_feature_view_history", {}),
        ("mlflow_get_run_features", {"run_id": w.training_run_id}),
        ("mlflow_get_model_version", {"version_ref": "@champion"}),
        ("check_feature_alignment", {"run_or_model": f"{MODEL}@champion"}),
        ("validate_training_run", {"run_id": w.training_run_id}),
    ]
    settings = Settings(
        tracking_uri=w.tracking_uri,
        feast_repo=w.retail_repo,
        default_experiment=RETAIL,
        default_model=MODEL,
        response_budget=BUDGET,
    )
    async with _client(settings) as client:
        problems = await view_problems(client, calls)
    assert not problems, "\n".join(problems)


def _client(settings: Any) -> Any:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    return Client(build_server(settings))


async def test_concise_structured_content_leaves_out_the_detail(demo_client: Any) -> None:
    """The concise form says what its text says: no per-feature alignment rows, no check evidence, the
    top importances only; 'detailed' has them."""
    concise = await call(demo_client, "validate_training_run")
    detailed = await call(demo_client, "validate_training_run", response_format="detailed")
    assert not any("evidence" in c for c in concise.data["checks"])
    assert any(c.get("evidence") for c in detailed.data["checks"])
    assert concise.text == detailed.text
    features = await call(demo_client, "mlflow_get_run_features", run_id="latest")
    everything = await call(
        demo_client, "mlflow_get_run_features", run_id="latest", response_format="detailed"
    )
    assert len(features.data["importances"]) == min(5, len(everything.data["importances"]))
    assert len(everything.data["importances"]) == len(everything.data["features"])
