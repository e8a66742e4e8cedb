"""Issue 18's tools on the hostile world (tests/support/hostile_world.py): stored text that tries to
break out stays data in describe, search errors, curves and run diagnosis; 10,000 params and 3,000
metrics stay inside the response budget."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.calls import error, ok
from support.hostile_world import (
    TEXT_EXPERIMENT,
    WIDE_EXPERIMENT,
    WIDE_METRIC_COUNT,
    WIDE_PARAM_COUNT,
    HostileWorld,
    foreign_lines,
    invisibles,
    raw_controls,
)

pytestmark = pytest.mark.anyio
BUDGET = 20_000


@pytest.fixture
async def hclient(hostile_world: HostileWorld, tmp_path: Path) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(
        tracking_uri=hostile_world.uri, feast_repo=tmp_path / "none", default_experiment=TEXT_EXPERIMENT
    )
    async with Client(build_server(settings)) as session:
        yield session


def clean(text: str) -> None:
    assert foreign_lines(text) == [], foreign_lines(text)[:3]
    assert raw_controls(text) == 0 and invisibles(text) == 0


def bounded(answer: Any) -> None:
    assert len(answer.text) <= BUDGET and len(json.dumps(answer.data, ensure_ascii=False)) <= BUDGET


async def test_describe_keeps_hostile_descriptions_names_and_values_as_data(hclient):
    answer = await ok(hclient, "mlflow_describe_experiment")
    clean(answer.text)
    bounded(answer)
    assert answer.data["description"].startswith("benign first line\n")  # whole in the structured content
    assert answer.text.splitlines()[1].startswith('description: "benign first line\\n')


async def test_describe_a_wide_experiment_stays_in_budget_and_says_what_it_left_out(hclient):
    answer = await ok(hclient, "mlflow_describe_experiment", experiment=WIDE_EXPERIMENT)
    bounded(answer)
    data = answer.data
    assert data["param_key_count"] >= WIDE_PARAM_COUNT and data["metric_key_count"] >= WIDE_METRIC_COUNT
    assert len(data["params"]) < data["param_key_count"] and "more keys not listed" in data["hint"]
    detailed = await ok(
        hclient, "mlflow_describe_experiment", experiment=WIDE_EXPERIMENT, response_format="detailed"
    )
    bounded(detailed)
    assert detailed.data["truncated"] is True and "the budget cut them" in detailed.data["hint"]


async def test_misspelt_key_in_a_wide_experiment_is_a_short_error(hclient):
    text = await error(
        hclient, "mlflow_search_runs", experiment=WIDE_EXPERIMENT, filter="params.p_0000x = '1'"
    )
    assert "'params.p_0000x' is not logged by any run" in text and "Did you mean params.p_" in text
    assert len(text) < 2_500  # 30 keys in use named, not 10,000
    clean(text)


async def test_curves_and_diagnosis_of_hostile_runs(hclient, hostile_world: HostileWorld):
    spaced = await ok(
        hclient,
        "mlflow_get_metric_history",
        run_ids=[hostile_world.runs["text"]],
        metric_keys=["metric with spaces"],
    )
    clean(spaced.text)
    assert spaced.data["series"][0]["count"] == 1
    wide = await ok(
        hclient,
        "mlflow_get_metric_history",
        run_ids=[hostile_world.runs["wide_metrics"]],
        metric_keys=["m_1500", "m_15OO"],
    )
    assert wide.data["series"][0]["last"]["value"] == 0.5 and wide.data["missing"][0]["key"] == "m_15OO"
    bounded(wide)
    detailed = await ok(
        hclient, "mlflow_get_run", run_id=hostile_world.runs["text"], response_format="detailed"
    )
    clean(detailed.text)
    assert "diagnosis" not in detailed.data  # single points: no curve to read
