"""Prompts, resources and the initialize instructions through a real MCP client: every prompt
renders and names only tools in the catalogue; every resource reads; bad URIs are clear errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from mcp import MCPError

from support.mlflow_world import EXPERIMENT, FEATURES_V1, MODEL

pytestmark = pytest.mark.anyio
# Anything shaped like one of this server's tool names; file and package names are avoided in the text.
TOOL_NAME = re.compile(
    r"\b(?:mlflow_[a-z_]+|feast_[a-z_]+|check_feature_alignment|validate_training_run|predictions_spot_check)\b"
)
NOT_TOOLS = {"feast_feature_view", "mlflow_run", "mlflow_registered_model"}  # resource names
PROMPT_ARGUMENTS = {
    "answer_model_history_question": {"question": "Which features did the last run use?"},
    "review_model_improvement": {"candidate_run": "gbm_v2", "baseline": "champion"},
    "validate_training_change": {
        "run_id": "latest",
        "expected_model_version": "v2.1",
        "expected_feature_count": "14",
        "expected_algorithm": "xgboost",
    },
}


@pytest.fixture
async def feast_client(world, feast_world) -> AsyncIterator:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(Settings(tracking_uri=world.uri, feast_repo=feast_world.file_repo))) as s:
        yield s


async def _text(client, uri: str) -> str:
    result = await client.read_resource(uri)
    return "\n".join(getattr(c, "text", "") for c in result.contents)


async def _prompt(client, name: str, arguments: dict[str, str]) -> str:
    result = await client.get_prompt(name, arguments)
    return "\n".join(m.content.text for m in result.messages)


async def test_every_prompt_renders_and_names_only_real_tools(client) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == set(PROMPT_ARGUMENTS)
    for name, arguments in PROMPT_ARGUMENTS.items():
        assert {a.name for a in prompts[name].arguments or []} == set(arguments)
        text = await _prompt(client, name, arguments)
        named = set(TOOL_NAME.findall(text))
        assert named, f"{name} names no tool"
        assert named <= tools, f"{name} names tools that do not exist: {sorted(named - tools)}"
        assert EXPERIMENT in text and MODEL in text
        for value in arguments.values():
            assert value in text


async def test_history_prompt_says_never_from_chat_and_keeps_the_question(client) -> None:
    text = await _prompt(
        client, "answer_model_history_question", {"question": "What was the last test_accuracy?"}
    )
    assert "What was the last test_accuracy?" in text
    assert "not from chat memory" in text
    order = [
        text.index(t) for t in ("mlflow_search_runs", "mlflow_get_run_features", "check_feature_alignment")
    ]
    assert order == sorted(order)


async def test_validation_prompt_ends_with_the_validate_call_and_its_arguments(client) -> None:
    text = await _prompt(client, "validate_training_change", PROMPT_ARGUMENTS["validate_training_change"])
    assert (
        "validate_training_run(run_id='latest', expected_model_version='v2.1', expected_feature_count=14, "
        "expected_algorithm='xgboost')" in text
    )
    assert TOOL_NAME.findall(text)[-1] == "validate_training_run"
    defaults = await _prompt(client, "validate_training_change", {})
    assert "validate_training_run(run_id='latest')" in defaults
    review = await _prompt(client, "review_model_improvement", {})
    assert "mlflow_get_model_version(version_ref='Production'" in review


async def test_prompt_with_a_non_numeric_feature_count_is_a_clear_error(client) -> None:
    with pytest.raises(MCPError, match="expected_feature_count must be a whole number"):
        await client.get_prompt("validate_training_change", {"expected_feature_count": "fourteen"})


async def test_resources_are_listed_with_their_templates(client) -> None:
    static = {str(r.uri) for r in (await client.list_resources()).resources}
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert "guide://source-of-truth" in static
    assert {"mlflow://runs/{run_id}", "mlflow://models/{name}", "feast://feature-views/{name}"} <= templates


async def test_guide_states_the_source_of_truth_rules_and_names_only_real_tools(client) -> None:
    text = await _text(client, "guide://source-of-truth")
    assert "Do not rely on chat" in text and EXPERIMENT in text and MODEL in text
    tools = {t.name for t in (await client.list_tools()).tools}
    assert set(TOOL_NAME.findall(text)) - NOT_TOOLS <= tools


async def test_run_resource_reads_by_id_latest_and_name(client, world) -> None:
    text = await _text(client, f"mlflow://runs/{world.runs['seed']}")
    assert "run_name: baseline_lr_v1" in text
    assert f"features ({len(FEATURES_V1)}, from features.json): " + ", ".join(FEATURES_V1) in text
    assert "game_winner_model v1 (Archived)" in text
    assert world.runs["failed"] in await _text(client, "mlflow://runs/latest")
    assert world.runs["parts"] in await _text(client, "mlflow://runs/gbm_v2")


async def test_model_resource_lists_versions_with_stages_and_aliases(client, world) -> None:
    text = await _text(client, f"mlflow://models/{MODEL}")
    assert text.startswith(f"model: {MODEL}")
    assert "champion=3" in text
    assert f"2 | Production | - | {world.runs['parts']}" in text


async def test_feature_view_resource_reads_fields_and_source(feast_client) -> None:
    text = await _text(feast_client, "feast://feature-views/game_features")
    assert "name: game_features" in text
    assert "home_win_pct_l10 | Float64" in text
    assert "mart_game_features" in text


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("mlflow://runs/" + "0" * 32, "No run with id"),
        ("mlflow://runs/no_such_run", "No run 'no_such_run'"),
        ("mlflow://models/game_winner", "Did you mean 'game_winner_model'"),
        ("mlflow://runs/..", "Unknown resource"),
        ("mlflow://nothing/here", "Unknown resource"),
        ("feast://feature-views/game_features", "Feast repo"),  # no Feast repo configured for `client`
    ],
)
async def test_bad_uris_are_clear_errors(client, uri: str, message: str) -> None:
    with pytest.raises(MCPError, match=re.escape(message)):
        await client.read_resource(uri)


async def test_unknown_feature_view_suggests_the_closest(feast_client) -> None:
    with pytest.raises(
        MCPError, match=re.escape("No feature view 'game_feature'. Did you mean 'game_features'")
    ):
        await feast_client.read_resource("feast://feature-views/game_feature")


async def test_instructions_name_the_default_experiment_model_and_first_tools(client) -> None:
    instructions = client.instructions or ""
    assert EXPERIMENT in instructions and MODEL in instructions
    tools = {t.name for t in (await client.list_tools()).tools}
    named = set(TOOL_NAME.findall(instructions))
    assert "mlflow_search_runs" in named and named <= tools
