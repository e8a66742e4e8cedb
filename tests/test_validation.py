"""validate_training_run through a real MCP client, on runs logged for it in their own experiment
(tests/support/validation_world.py) and on a real, applied Feast repo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.calls import error, ok
from support.validation_world import (
    BAD_TEST_ACCURACY,
    EXPERIMENT,
    MISALIGNED_FEATURE,
    MODEL,
    ValidationWorld,
    log_validation_world,
)

pytestmark = pytest.mark.anyio
CHECKS = [
    "run",
    "params",
    "metrics",
    "artifacts",
    "feature_count",
    "registry",
    "alignment",
    "expectations",
    "comparison",
]


@pytest.fixture(scope="session")
def vworld(mlflow_server, tmp_path_factory: pytest.TempPathFactory) -> ValidationWorld:
    return log_validation_world(mlflow_server.uri, tmp_path_factory.mktemp("validation-artifacts"))


async def _client(vworld: ValidationWorld, feast_repo: Path) -> AsyncIterator:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(
        tracking_uri=vworld.uri, feast_repo=feast_repo, default_experiment=EXPERIMENT, default_model=MODEL
    )
    async with Client(build_server(settings)) as session:
        yield session


@pytest.fixture
async def vclient(vworld: ValidationWorld, feast_world) -> AsyncIterator:
    """Default experiment and model are the validation ones; Feast is the real applied repo."""
    async for session in _client(vworld, feast_world.file_repo):
        yield session


@pytest.fixture
async def vclient_no_feast(vworld: ValidationWorld, tmp_path: Path) -> AsyncIterator:
    async for session in _client(vworld, tmp_path / "no_feast_repo_here"):
        yield session


def failed(data: dict) -> list[str]:
    return [c["name"] for c in data["checks"] if c["status"] == "fail"]


def by_name(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


async def test_valid_run_passes_every_check_with_evidence(vclient, vworld: ValidationWorld) -> None:
    answer = await ok(
        vclient,
        "validate_training_run",
        response_format="detailed",
        run_id=vworld.runs["valid"],
        expected_model_version="v2.0",
        expected_feature_count=13,
        expected_algorithm="gradient_boosting",
    )
    assert answer.text.splitlines()[0] == "PASS: 9/9 checks"
    assert answer.data["passed"] is True
    checks = by_name(answer.data)
    assert list(checks) == CHECKS
    assert {c["status"] for c in checks.values()} == {"pass"}
    assert checks["registry"]["evidence"]["versions"] == [
        f"{MODEL} v{vworld.versions['valid']} (None, READY)"
    ]
    assert "missing" not in checks["artifacts"]["evidence"]  # nothing missing: no empty list
    assert checks["alignment"]["summary"].startswith("ALIGNED: all 13 features")
    assert checks["feature_count"]["evidence"] == {
        "feature_count_param": 13,
        "list_length": 13,
        "source": "features.json",
    }
    changes = answer.data["changes"]
    assert changes["previous_run_id"] == vworld.runs["previous"]
    assert changes["param_changes"]["algorithm"] == ["logistic_regression", "gradient_boosting"]
    assert changes["features_added"] == ["home_win_streak", "momentum_diff"]
    assert changes["features_removed"] == ["h2h_home_win_pct"]
    test_delta = changes["metric_changes"]["test_accuracy"]
    assert test_delta == {"previous": 0.6512, "current": 0.6634, "delta": 0.0122}
    assert "[pass] registry: registered as validation_model v2" in answer.text
    assert "test_accuracy 0.6512 -> 0.6634 (+0.0122)" in answer.text


async def test_missing_features_json_fails_artifacts_naming_the_path(vclient, vworld) -> None:
    answer = await ok(
        vclient, "validate_training_run", response_format="detailed", run_id=vworld.runs["no_features_json"]
    )
    assert answer.text.splitlines()[0].startswith("FAIL: 1 of 8 checks failed: artifacts;")
    assert failed(answer.data) == ["artifacts"]
    check = by_name(answer.data)["artifacts"]
    assert check["status"] == "fail"
    assert check["evidence"]["missing"] == ["training_artifacts/features.json"]
    assert "missing training_artifacts/features.json" in check["summary"]
    # the features still come from the features_part* params, so params and counts pass
    assert by_name(answer.data)["params"]["evidence"]["feature_list_source"] == "features_part params"


async def test_metric_out_of_range_fails_metrics_with_the_value(vclient, vworld) -> None:
    answer = await ok(
        vclient, "validate_training_run", response_format="detailed", run_id=vworld.runs["bad_metric"]
    )
    assert answer.text.splitlines()[0].startswith("FAIL: 1 of 8 checks failed: metrics;")
    assert failed(answer.data) == ["metrics"]
    check = by_name(answer.data)["metrics"]
    assert check["status"] == "fail"
    assert check["evidence"]["test_accuracy"] == BAD_TEST_ACCURACY
    assert f"test_accuracy={BAD_TEST_ACCURACY} outside [0, 1]" in check["summary"]


async def test_unregistered_run_fails_registry_saying_not_registered(vclient, vworld) -> None:
    run_id = vworld.runs["unregistered"]
    answer = await ok(vclient, "validate_training_run", response_format="detailed", run_id=run_id)
    assert answer.text.splitlines()[0].startswith("FAIL: 1 of 8 checks failed: registry;")
    assert failed(answer.data) == ["registry"]
    check = by_name(answer.data)["registry"]
    assert check == {
        "name": "registry",
        "status": "fail",
        "summary": f"not registered: no version of {MODEL} was made from run {run_id}",
        "evidence": {"model": MODEL},
    }


async def test_feature_missing_from_feast_fails_alignment_naming_it(vclient, vworld) -> None:
    answer = await ok(
        vclient, "validate_training_run", response_format="detailed"
    )  # 'latest' is the misaligned run
    assert answer.data["run"]["run_id"] == vworld.runs["misaligned"]
    assert answer.text.splitlines()[0].startswith("FAIL: 1 of 8 checks failed: alignment;")
    assert failed(answer.data) == ["alignment"]
    check = by_name(answer.data)["alignment"]
    assert check["status"] == "fail"
    assert check["evidence"]["missing"] == [MISALIGNED_FEATURE]
    assert MISALIGNED_FEATURE in check["summary"]


async def test_unmet_expectations_fail_with_expected_and_actual(vclient, vworld) -> None:
    answer = await ok(
        vclient,
        "validate_training_run",
        response_format="detailed",
        run_id=vworld.runs["valid"],
        expected_model_version="v3.0",
        expected_feature_count=12,
        compare_with_previous=False,
    )
    check = by_name(answer.data)["expectations"]
    assert check["status"] == "fail"
    assert check["summary"] == "model_version is v2.0, expected v3.0; feature_count is 13, expected 12"
    assert by_name(answer.data)["comparison"]["status"] == "skipped"
    assert "changes" not in answer.data


async def test_without_feast_alignment_is_skipped_with_the_reason(vclient_no_feast, vworld) -> None:
    answer = await ok(
        vclient_no_feast, "validate_training_run", response_format="detailed", run_id=vworld.runs["valid"]
    )
    assert answer.text.splitlines()[0] == "PASS: 7/7 checks; skipped: alignment, expectations"
    check = by_name(answer.data)["alignment"]
    assert check["status"] == "skipped"
    assert "Feast unavailable" in check["summary"] and "no_feast_repo_here" in check["summary"]


async def test_first_run_has_nothing_to_compare_with(vclient_no_feast, vworld) -> None:
    answer = await ok(
        vclient_no_feast, "validate_training_run", response_format="detailed", run_id=vworld.runs["previous"]
    )
    comparison = by_name(answer.data)["comparison"]
    assert comparison == {
        "name": "comparison",
        "status": "skipped",
        "summary": "no earlier finished top-level run in this experiment",
    }


async def test_seed_world_failed_and_bare_runs_fail_the_run_and_params_checks(client, world) -> None:
    failed = await ok(
        client, "validate_training_run", response_format="detailed", run_id=world.runs["failed"]
    )
    run_check = by_name(failed.data)["run"]
    assert run_check["status"] == "fail" and "status FAILED" in run_check["summary"]
    bare = await ok(client, "validate_training_run", response_format="detailed", run_id=world.runs["bare"])
    params = by_name(bare.data)["params"]
    assert params["status"] == "fail"
    for name in ("model_version", "feature_count", "top_features", "features (no features_part*"):
        assert name in params["summary"]
    assert by_name(bare.data)["feature_count"]["status"] == "skipped"


async def test_bad_run_references_are_clear_errors(vclient_no_feast) -> None:
    text = await error(vclient_no_feast, "validate_training_run", response_format="detailed", run_id="0" * 32)
    assert "No run with id" in text
    text = await error(
        vclient_no_feast, "validate_training_run", response_format="detailed", run_id="no_such_run_name"
    )
    assert "No run 'no_such_run_name'" in text
    text = await error(
        vclient_no_feast, "validate_training_run", response_format="detailed", expected_feature_count=-1
    )
    assert "expected_feature_count" in text
