"""Artifacts and the Model Registry through a real MCP client over a real MLflow server."""

from __future__ import annotations

import pytest

from support.calls import call, error, ok

pytestmark = pytest.mark.anyio


async def test_artifact_tree_with_sizes(client, world):
    answer = await ok(client, "mlflow_list_artifacts", run_id=world.runs["seed"])
    sizes = {e["path"]: e.get("size_bytes") for e in answer.data["entries"]}
    assert sizes["training_artifacts/features.json"] > 0
    assert "training_artifacts/feature_importances.json" in sizes
    assert sizes["logs/big.txt"] == 2_050_000


async def test_artifact_subfolder_and_missing_folder(client, world):
    answer = await ok(
        client, "mlflow_list_artifacts", run_id=world.runs["seed"], path="training_artifacts", depth=1
    )
    assert all(e["path"].startswith("training_artifacts/") for e in answer.data["entries"])
    assert "no artifact folder" in await error(
        client, "mlflow_list_artifacts", run_id=world.runs["seed"], path="nope"
    )


async def test_read_json_artifact(client, world):
    answer = await ok(
        client, "mlflow_read_artifact", run_id=world.runs["seed"], path="training_artifacts/features.json"
    )
    assert answer.data["kind"] == "json"
    assert "home_win_pct_l10" in answer.data["content"]
    assert answer.data.get("next_offset") is None


async def test_big_text_artifact_is_paged_by_offset(client, world):
    first = await ok(client, "mlflow_read_artifact", run_id=world.runs["seed"], path="logs/big.txt")
    assert first.data["truncated"] is True
    assert len(first.text) <= 20_000 and len(first.data["content"]) <= 10_000
    offset = first.data["next_offset"]
    assert f"offset={offset}" in first.text
    second = await ok(
        client, "mlflow_read_artifact", run_id=world.runs["seed"], path="logs/big.txt", offset=offset
    )
    assert second.data["offset"] == offset
    line = "0123456789abcdef" * 64 + "\n"
    assert (first.data["content"] + second.data["content"]) == (line * 2000)[
        : offset + len(second.data["content"])
    ]


async def test_pickles_are_never_loaded(client, world):
    for path in ("calibrator.pkl", "training_artifacts/calibrator.pkl"):
        answer = await ok(client, "mlflow_read_artifact", run_id=world.runs["seed"], path=path)
        assert answer.data["kind"] == "binary" and "content" not in answer.data
        assert "never unpickled" in answer.text
    assert not world.trap.exists(), "a pickle was unpickled"


async def test_binary_artifact_returns_metadata(client, world):
    answer = await ok(client, "mlflow_read_artifact", run_id=world.runs["seed"], path="model/weights.bin")
    assert answer.data["kind"] == "binary" and answer.data["size_bytes"] == 10240


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "training_artifacts/../../x",
        "file:///etc/passwd",
        "C:\\x",
        "a\x00b",
    ],
)
async def test_paths_outside_the_run_are_refused(client, world, path):
    text = await error(client, "mlflow_read_artifact", run_id=world.runs["seed"], path=path)
    assert "artifact" in text.lower() or "control" in text.lower()


async def test_unknown_artifact_suggests(client, world):
    text = await error(
        client, "mlflow_read_artifact", run_id=world.runs["seed"], path="training_artifacts/feature.json"
    )
    assert "training_artifacts/features.json" in text


async def test_list_registered_models_with_aliases(client, world):
    answer = await ok(client, "mlflow_list_registered_models")
    model = next(m for m in answer.data["models"] if m["name"] == "game_winner_model")
    assert model["aliases"] == {"champion": 3, "challenger": 3, "Legacy": 1}
    assert model["latest_versions"] == {"Archived": 1, "Production": 2, "Staging": 3}


async def test_registered_model_versions_newest_first_with_metrics(client, world):
    answer = await ok(client, "mlflow_get_registered_model")
    versions = answer.data["versions"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[1]["stage"] == "Production" and versions[1]["run_id"] == world.runs["parts"]
    assert versions[0]["aliases"] == ["challenger", "champion"]
    assert versions[1]["metrics"]["test_accuracy"] == 0.6634
    staging = await ok(client, "mlflow_get_registered_model", stage="staging")
    assert [v["version"] for v in staging.data["versions"]] == [3]


async def test_unknown_model_suggests(client):
    assert "game_winner_model" in await error(client, "mlflow_get_registered_model", model_name="game_winner")


async def test_production_resolves_stage_and_flags_alias_conflict(client, world):
    answer = await ok(client, "mlflow_get_model_version", version_ref="Production")
    data = answer.data
    assert data["resolution"]["resolved_by"] == "stage"
    assert data["version"]["version"] == 2
    assert any("champion" in c and "v3" in c and "v2" in c for c in data["resolution"]["conflicts"])
    assert "CONFLICT" in answer.text
    assert data["run"]["run_id"] == world.runs["parts"]
    assert data["features"]["feature_count"] == 13


@pytest.mark.parametrize(
    ("ref", "version", "by"),
    [
        ("2", 2, "version"),
        ("v1", 1, "version"),
        ("champion", 3, "alias"),
        ("@champion", 3, "alias"),
        ("CHAMPION", 3, "alias (case-insensitive)"),
        ("legacy", 1, "alias (case-insensitive)"),
        ("staging", 3, "stage"),
        ("Archived", 1, "stage"),
        ("latest", 3, "latest"),
        ("game_winner_model@champion", 3, "alias"),
        ("models:/game_winner_model/Production", 2, "stage"),
        ("game_winner_model/1", 1, "version"),
    ],
)
async def test_one_resolver_for_every_kind_of_reference(client, ref, version, by):
    answer = await ok(client, "mlflow_get_model_version", version_ref=ref)
    assert answer.data["version"]["version"] == version
    assert answer.data["resolution"]["resolved_by"] == by


async def test_bad_version_references(client):
    assert "no version 99" in await error(client, "mlflow_get_model_version", version_ref="99")
    text = await error(client, "mlflow_get_model_version", version_ref="@nobody")
    assert "champion" in text
    assert "No version of 'churn_model' is in stage Production" in await error(
        client, "mlflow_get_model_version", version_ref="Production", model_name="churn_model"
    )
    too_long = (await call(client, "mlflow_get_model_version", version_ref="x" * 10_000)).text
    assert "at most 500" in too_long


async def test_conflicts_are_only_those_that_involve_the_answer(client):
    archived = await ok(client, "mlflow_get_model_version", version_ref="1")
    assert archived.data["resolution"].get("conflicts", []) == []
    champion = await ok(client, "mlflow_get_model_version", version_ref="champion")
    assert len(champion.data["resolution"]["conflicts"]) == 1
