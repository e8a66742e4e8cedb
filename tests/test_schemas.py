"""The tool contract: every tool read-only, typed out, described; schemas snapshotted so a changed
contract is a visible diff in review (regenerate with UPDATE_SNAPSHOTS=1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.anyio
SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
CATALOGUE = {
    "mlflow_list_experiments", "mlflow_search_runs", "mlflow_get_run", "mlflow_get_run_features",
    "mlflow_compare_runs", "mlflow_describe_experiment", "mlflow_get_metric_history", "mlflow_list_artifacts", "mlflow_read_artifact",
    "mlflow_list_registered_models", "mlflow_get_registered_model", "mlflow_get_model_version",
    "feast_list_projects", "feast_list_feature_views", "feast_describe_feature_view", "feast_list_entities", "feast_list_data_sources",
    "feast_list_feature_services", "feast_get_feature_view_history", "check_feature_alignment",
    "validate_training_run", "mlflow_search_logged_models", "feast_get_online_features",
    "predictions_spot_check",
}  # fmt: skip


@pytest.fixture
async def tools(tmp_path):
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(Settings(tracking_uri="http://127.0.0.1:9", feast_repo=tmp_path))) as c:
        yield (await c.list_tools()).tools


# parameters whose name, default, bounds or enum say all a description would (it would cost tools/list)
SAID_BY_NAME_AND_DEFAULT = {"page_size", "max_points", "max_batches", "x_axis", "response_format"}


async def test_catalogue_is_complete(tools):
    assert {t.name for t in tools} == CATALOGUE


async def test_every_tool_is_read_only_typed_and_described(tools):
    for tool in tools:
        assert tool.annotations.read_only_hint is True and tool.annotations.idempotent_hint is True, tool.name
        assert tool.annotations.destructive_hint is False, tool.name
        assert tool.output_schema and tool.output_schema.get("properties"), tool.name
        assert tool.description and 30 < len(tool.description) < 700, tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            if name not in SAID_BY_NAME_AND_DEFAULT:
                assert prop.get("description"), f"{tool.name}.{name} has no description"


async def test_tool_schemas_match_snapshot(tools):
    current = {
        t.name: {
            "description": t.description,
            "input": t.input_schema,
            "output": t.output_schema,
        }
        for t in sorted(tools, key=lambda t: t.name)
    }
    if os.environ.get("UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert json.loads(SNAPSHOT.read_text()) == current, "tool contract changed: rerun with UPDATE_SNAPSHOTS=1"


async def test_tool_definitions_stay_small(tools):
    """tools/list as sent (compact JSON), and the part a model reads: names, descriptions and input
    schemas."""
    size = len(
        json.dumps([t.model_dump(mode="json", exclude_none=True) for t in tools], separators=(",", ":"))
    )
    visible = len(
        json.dumps(
            [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools],
            separators=(",", ":"),
        )
    )
    assert size < 70_000, f"tools/list is {size} chars"  # mostly output schemas, which models do not read
    assert visible <= 12_000, f"the model-visible definitions are {visible} chars"  # issue 13's ceiling


async def test_descriptions_and_instructions_fit_what_claude_code_keeps(tmp_path, tools):
    """Claude Code cuts tool descriptions and server instructions at 2,048 characters."""
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(Settings(tracking_uri="http://127.0.0.1:9", feast_repo=tmp_path))) as c:
        instructions = c.instructions
    assert instructions and len(instructions) < 2_048
    assert all(len(t.description or "") < 2_048 for t in tools)


async def test_readme_tool_table_is_generated_from_the_server():
    from mlflow_feast_mcp.server.docs import END, START, render_readme, tool_table

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert START in readme and END in readme
    assert render_readme(readme, await tool_table()) == readme, "run: python -m mlflow_feast_mcp.server.docs"
