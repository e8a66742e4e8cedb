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
from support.client_views import DEMO_CALLS, missing_facts

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


async def test_every_tool_tells_both_clients_the_same_facts_within_the_budget(
    demo_client: Any, demo_seed
) -> None:
    online = {"feature_service": "game_winner_v1", "entity_rows": [{"game_id": newest_game(demo_seed)}]}
    calls = [*DEMO_CALLS, ("feast_get_online_features", online)]
    assert {tool for tool, _ in calls} == {t.name for t in (await demo_client.list_tools()).tools}
    problems = []
    for tool, arguments in calls:
        for form in ("concise", "detailed"):
            if form == "detailed" and not await _has_formats(demo_client, tool):
                continue
            args = arguments | ({"response_format": form} if form == "detailed" else {})
            answer = await call(demo_client, tool, **args)
            where = f"{tool}({args})"
            if answer.is_error:
                problems.append(f"{where}: {answer.text[:200]}")
                continue
            structured = json.dumps(answer.data, ensure_ascii=False, separators=(",", ":"))
            if max(len(answer.text), len(structured)) > BUDGET:
                problems.append(f"{where}: {len(answer.text)} text / {len(structured)} structured chars")
            if missing := missing_facts(answer.text, answer.data):
                problems.append(f"{where}: the text's {missing[:8]} are not in the structured content")
    assert not problems, "\n".join(problems)


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


_FORMATS: dict[str, bool] = {}


async def _has_formats(client: Any, tool: str) -> bool:
    if not _FORMATS:
        for t in (await client.list_tools()).tools:
            _FORMATS[t.name] = "response_format" in t.input_schema.get("properties", {})
    return _FORMATS[tool]
