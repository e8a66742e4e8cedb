"""check_feature_alignment through a real MCP client: MLflow runs and model versions against the
applied Feast repo."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from mcp import Client
from mcp.types import CallToolResult

from mlflow_feast_mcp.core.settings import Settings
from mlflow_feast_mcp.server.app import build_server
from support.feast_world import FeastWorld
from support.mlflow_world import FEATURES_V1, MODEL, World

pytestmark = pytest.mark.anyio
ALIGNMENT_EXPERIMENT = "feast_alignment_checks"


@pytest.fixture(scope="module")
def alignment_runs(world: World) -> Iterator[dict[str, str]]:
    """Extra runs in an experiment of their own, deleted after this module, so others' assertions on
    the default experiment and on the number of active experiments stay intact."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=world.uri, registry_uri=world.uri)
    exp_id = client.create_experiment(ALIGNMENT_EXPERIMENT)
    runs: dict[str, str] = {}

    def run(role: str, features_json: object = None, params: dict | None = None) -> None:
        rid = client.create_run(exp_id, run_name=role).info.run_id
        for key, value in (params or {}).items():
            client.log_param(rid, key, value)
        if features_json is not None:
            client.log_text(rid, json.dumps(features_json), "training_artifacts/features.json")
        client.set_terminated(rid, "FINISHED")
        runs[role] = rid

    typed = [
        {"name": "home_win_pct_l10", "dtype": "double"},
        {"name": "rest_days_home", "dtype": "long"},
        {"name": "home_back_to_back", "dtype": "boolean"},
        {"name": "game_momentum_features:momentum_diff", "dtype": "double"},
    ]
    run("typed_all_present", typed)
    run("missing_feature", params={"features_part0": ",".join([*FEATURES_V1, "home_travel_distance"])})
    renamed = ["home_win_pct_last10" if f == "home_win_pct_l10" else f for f in FEATURES_V1]
    run("renamed_feature", renamed)
    run(
        "dtype_mismatch",
        [{"name": "rest_days_home", "dtype": "double"}, {"name": "elo_diff", "dtype": "double"}],
    )
    run("wrong_view_ref", ["game_features:home_elo", "game_featurez:away_elo", "game_features:momentum_diff"])
    yield runs
    client.delete_experiment(exp_id)


@pytest.fixture
async def align_client(world: World, feast_world: FeastWorld) -> AsyncIterator[Client]:
    settings = Settings(tracking_uri=world.uri, feast_repo=feast_world.file_repo)
    async with Client(build_server(settings)) as session:
        yield session


def text_of(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


async def check(client: Client, **arguments: object) -> tuple[dict, str]:
    result = await client.call_tool("check_feature_alignment", arguments)
    assert not result.is_error, text_of(result)
    return result.structured_content, text_of(result)


def counts(report: dict) -> dict[str, int]:
    return {view: len(names) for view, names in report["found"].items()}


async def test_production_model_features_all_map_to_feast_views(align_client: Client) -> None:
    report, text = await check(align_client, run_or_model=f"{MODEL}/Production")
    assert report["verdict"] == (
        "ALIGNED: all 13 features are defined in Feast (game_features 11, game_momentum_features 2)"
    )
    assert text.splitlines()[0] == report["verdict"]
    assert report["model_version"].startswith(f"{MODEL} v2 (stage")
    assert counts(report) == {"game_features": 11, "game_momentum_features": 2}
    assert "h2h_home_win_pct" in report["unused"]["game_features"]
    assert "home_win_streak" not in report["unused"]["game_momentum_features"]
    # concise: the names by view, as the text lists them, and no per-feature rows (all were found)
    for view, names in report["found"].items():
        assert f"{view} ({len(names)}): {', '.join(names)}" in text
    assert "features" not in report and "by_view" not in report


async def test_detailed_maps_every_feature_with_its_types(align_client: Client) -> None:
    concise, text = await check(align_client, run_or_model=f"{MODEL}/Production")
    report, detailed_text = await check(
        align_client, run_or_model=f"{MODEL}/Production", response_format="detailed"
    )
    assert report["by_view"] == counts(concise) and "found" not in report
    assert len(report["features"]) == 13 and all(m["status"] == "found" for m in report["features"])
    assert all(m["feast_dtype"] for m in report["features"])
    assert detailed_text == text  # the text lists what it always did; the rows are the detail


async def test_alias_ref_reads_feast_refs_of_the_champion(align_client: Client, world: World) -> None:
    report, text = await check(align_client, run_or_model=f"{MODEL}@champion")
    assert report["run_id"] == world.runs["feast_tags"]
    assert report["status"] == "ALIGNED" and report["feature_count"] == 7
    assert counts(report) == {"game_features": 6, "game_momentum_features": 1}
    assert "game_momentum_features (1): game_momentum_features:momentum_diff" in text


async def test_models_uri_and_model_stage_ref(align_client: Client, world: World) -> None:
    by_uri, _ = await check(align_client, run_or_model=f"models:/{MODEL}/1")
    by_args, _ = await check(align_client, run_or_model=f"{MODEL}@Legacy")
    assert by_uri["run_id"] == by_args["run_id"] == world.runs["seed"]
    assert by_uri["verdict"] == "ALIGNED: all 12 features are defined in Feast (game_features 12)"
    assert by_uri["unused"]["game_features"] == [
        "home_team_id",
        "away_team_id",
        "home_season_win_pct",
        "away_season_win_pct",
    ]


async def test_run_id_and_run_name(align_client: Client, world: World) -> None:
    by_id, _ = await check(align_client, run_or_model=world.runs["parts"])
    by_name, _ = await check(align_client, run_or_model="gbm_v2")
    assert by_id["verdict"] == by_name["verdict"] and by_id["feature_source"] == "features_part params"


async def test_run_without_feature_record_is_unknown_not_guessed(align_client: Client, world: World) -> None:
    report, _ = await check(align_client, run_or_model=world.runs["bare"])
    assert report["status"] == "UNKNOWN" and report["verdict"].startswith(
        "UNKNOWN: the run recorded no feature list"
    )
    assert not report.get("features") and not report.get("by_view") and not report.get("found")


async def test_feature_feast_lacks_is_missing(align_client: Client, alignment_runs: dict[str, str]) -> None:
    report, text = await check(align_client, run_or_model=alignment_runs["missing_feature"])
    assert report["verdict"].startswith(
        "MISALIGNED: 1 of 13 features missing from Feast: home_travel_distance"
    )
    assert report["missing"] == ["home_travel_distance"]
    assert "MISSING home_travel_distance" in text


async def test_renamed_feature_points_at_the_feast_name(
    align_client: Client, alignment_runs: dict[str, str]
) -> None:
    report, _ = await check(align_client, run_or_model=alignment_runs["renamed_feature"])
    assert report["status"] == "MISALIGNED" and report["missing"] == ["home_win_pct_last10"]
    mapping = next(m for m in report["features"] if m["feature"] == "home_win_pct_last10")
    assert mapping["closest"][0] == "game_features:home_win_pct_l10"
    assert "home_win_pct_last10 -> game_features:home_win_pct_l10?" in report["verdict"]
    assert "home_win_pct_l10" in report["unused"]["game_features"]


async def test_recorded_types_are_compared(align_client: Client, alignment_runs: dict[str, str]) -> None:
    good, _ = await check(align_client, run_or_model=alignment_runs["typed_all_present"])
    assert good["status"] == "ALIGNED" and "recorded dtypes match Feast" in good["notes"]
    assert counts(good) == {"game_features": 3, "game_momentum_features": 1}
    bad, text = await check(align_client, run_or_model=alignment_runs["dtype_mismatch"])
    assert bad["status"] == "MISALIGNED" and "differ in type" in bad["verdict"]
    (mismatch,) = bad["dtype_mismatches"]
    assert mismatch == {
        "feature": "rest_days_home",
        "view": "game_features",
        "run_dtype": "double",
        "expected_feast_dtype": "Float64",
        "feast_dtype": "Int64",
    }
    assert "DTYPE rest_days_home" in text


async def test_dataset_schema_types_match(align_client: Client, world: World) -> None:
    report, _ = await check(align_client, run_or_model=world.runs["dataset"])
    assert report["status"] == "ALIGNED" and report["feature_source"] == "dataset schema"


async def test_feast_refs_to_wrong_views_are_missing(
    align_client: Client, alignment_runs: dict[str, str]
) -> None:
    report, _ = await check(align_client, run_or_model=alignment_runs["wrong_view_ref"])
    assert report["missing"] == ["game_featurez:away_elo", "game_features:momentum_diff"]
    by_name = {m["feature"]: m for m in report["features"]}
    assert by_name["game_featurez:away_elo"]["note"] == "Feast has no view game_featurez"
    assert by_name["game_features:momentum_diff"]["closest"] == ["game_momentum_features:momentum_diff"]


async def test_bad_arguments_and_unknown_refs(align_client: Client) -> None:
    both = await align_client.call_tool(
        "check_feature_alignment", {"run_or_model": "gbm_v2", "model_name": MODEL}
    )
    assert both.is_error and "unknown argument(s) 'model_name'" in text_of(both)
    unknown = await align_client.call_tool(
        "check_feature_alignment", {"run_or_model": "game_winner_modl@champion"}
    )
    assert unknown.is_error and "game_winner_model" in text_of(unknown)
    no_run = await align_client.call_tool("check_feature_alignment", {"run_or_model": "gbm_v3"})
    assert no_run.is_error and "gbm_v2" in text_of(no_run)


async def test_feast_unavailable_names_the_repo(client: Client, settings: Settings) -> None:
    result = await client.call_tool("check_feature_alignment", {"run_or_model": f"{MODEL}/Production"})
    assert result.is_error and str(settings.feast_repo) in text_of(result)
