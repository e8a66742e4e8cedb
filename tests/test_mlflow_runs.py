"""Experiments and runs through a real MCP client over a real MLflow server."""

from __future__ import annotations

import pytest

from support.calls import call, error, ok
from support.mlflow_world import EXPERIMENT, FEATURES_V1, FEATURES_V2, HOSTILE

pytestmark = pytest.mark.anyio


async def test_list_experiments_by_name_part(client):
    answer = await ok(client, "mlflow_list_experiments", name_contains="NBA")
    assert [e["name"] for e in answer.data["experiments"]] == [EXPERIMENT]


async def test_experiments_page_with_tokens_until_exhausted(client):
    names, token = [], None
    for _ in range(5):
        args = {"page_size": 1} | ({"page_token": token} if token else {})
        answer = await ok(client, "mlflow_list_experiments", **args)
        names += [e["name"] for e in answer.data["experiments"]]
        token = answer.data.get("next_page_token")
        if not token:
            break
    assert len(names) == len(set(names)), "a page repeated an experiment"
    assert {"Default", "churn_model_tuning", EXPERIMENT} <= set(names)  # other tests may add their own


async def test_search_runs_defaults_to_seed_experiment_newest_first(client, world):
    answer = await ok(client, "mlflow_search_runs")
    runs = answer.data["runs"]
    assert runs[0]["run_id"] == world.runs["failed"]
    assert runs[0]["status"] == "FAILED"
    seed = next(r for r in runs if r["run_id"] == world.runs["seed"])
    assert seed["metrics"]["test_accuracy"] == 0.6512
    assert seed["model_version"] == "v1.0" and seed["algorithm"] == "logistic_regression"
    assert seed["feature_count"] == len(FEATURES_V1)
    assert "0.6512" in answer.text and "baseline_lr_v1" in answer.text
    assert "features_part" not in answer.text


async def test_search_runs_filter_and_order(client, world):
    answer = await ok(
        client,
        "mlflow_search_runs",
        filter="metrics.test_accuracy > 0.6",
        order_by=["metrics.test_accuracy DESC"],
    )
    assert [r["run_id"] for r in answer.data["runs"]] == [
        world.runs["parts"],
        world.runs["seed"],
        world.runs["feast_tags"],
    ]


async def test_search_runs_status_filter(client, world):
    answer = await ok(client, "mlflow_search_runs", status="failed")
    assert [r["run_id"] for r in answer.data["runs"]] == [world.runs["failed"]]


async def test_search_runs_pages_cover_every_run_once(client):
    seen, token = [], None
    while True:
        args = {"page_size": 2} | ({"page_token": token} if token else {})
        answer = await ok(client, "mlflow_search_runs", **args)
        seen += [r["run_id"] for r in answer.data["runs"]]
        token = answer.data.get("next_page_token")
        if not token:
            break
        assert "page_token=" in answer.text
    assert len(seen) == len(set(seen)) == 6


async def test_unknown_experiment_suggests_closest(client):
    text = await error(client, "mlflow_search_runs", experiment="nba_game")
    assert "did you mean 'nba_game_winner_prediction'" in text.lower()


async def test_bad_search_arguments_are_clear_errors(client):
    assert "less than or equal to 200" in (await call(client, "mlflow_search_runs", page_size=10**9)).text
    text = await error(client, "mlflow_search_runs", filter="metrics.test_accuracy >>> 'x'")
    assert "MLflow rejected" in text
    assert "status must be" in await error(client, "mlflow_search_runs", status="DONE")


async def test_page_token_from_another_query_is_refused(client):
    first = await ok(client, "mlflow_search_runs", page_size=1)
    token = first.data["next_page_token"]
    text = await error(client, "mlflow_search_runs", page_size=1, status="FINISHED", page_token=token)
    assert "different query" in text
    assert "not one this server issued" in await error(client, "mlflow_search_runs", page_token="garbage!")


async def test_get_run_folds_feature_parts_and_lists_registry_versions(client, world):
    answer = await ok(client, "mlflow_get_run", run_id=world.runs["parts"])
    data = answer.data
    assert data["features"] == FEATURES_V2  # a name split across two parts is rejoined
    assert not any(k.startswith("features_part") for k in data["params"])
    assert "features_part" not in answer.text
    assert data["registered_versions"] == ["game_winner_model v2 (Production)"]
    assert data["metrics"]["test_accuracy"] == 0.6634


async def test_get_run_latest_and_by_name(client, world):
    latest = await ok(client, "mlflow_get_run", run_id="latest")
    assert latest.data["run_id"] == world.runs["failed"]
    by_name = await ok(client, "mlflow_get_run", run_id="baseline_lr_v1")
    assert by_name.data["run_id"] == world.runs["seed"]
    assert "training_artifacts/" in by_name.data["artifacts"]


async def test_unknown_and_malformed_run_ids(client):
    assert "No run with id" in await error(client, "mlflow_get_run", run_id="0" * 32)
    text = await error(client, "mlflow_get_run", run_id="baseline_lr_v2")
    assert "baseline_lr_v1" in text
    assert "not a run id" in await error(client, "mlflow_get_run", run_id="x\x00y")


async def test_hostile_tags_stay_data(client, world):
    answer = await ok(client, "mlflow_get_run", run_id=world.runs["bare"])
    assert answer.data["tags"]["injected"] == HOSTILE
    line = next(line for line in answer.text.splitlines() if "injected" in line)
    assert "\\n" in line, "a newline inside stored text must not start a new line of the answer"


async def test_features_prefer_features_json(client, world):
    answer = await ok(client, "mlflow_get_run_features", run_id=world.runs["seed"])
    assert answer.data["source"] == "features.json"
    assert answer.data["features"] == FEATURES_V1
    assert next(iter(answer.data["importances"])) == "home_win_pct_l10"  # the top features, best first
    assert answer.data["importances"]["home_win_pct_l10"] == 0.5
    assert "top_features" not in answer.data  # the importances' names say them (concise, as the text)
    detailed = await ok(
        client, "mlflow_get_run_features", run_id=world.runs["seed"], response_format="detailed"
    )
    assert detailed.data["top_features"][0] == "home_win_pct_l10"


async def test_features_fall_back_to_chunked_params(client, world):
    answer = await ok(client, "mlflow_get_run_features", run_id=world.runs["parts"])
    assert answer.data["source"] == "features_part params"
    assert answer.data["features"] == FEATURES_V2
    assert answer.data["feature_count"] == len(FEATURES_V2)


async def test_features_from_feast_tags(client, world):
    answer = await ok(client, "mlflow_get_run_features", run_id=world.runs["feast_tags"])
    assert answer.data["source"] == "feast tags"
    assert answer.data["feature_refs"][0] == "game_features:home_win_pct_l10"
    assert answer.data["features"][-1] == "momentum_diff"


async def test_features_from_dataset_schema_without_target(client, world):
    answer = await ok(client, "mlflow_get_run_features", run_id=world.runs["dataset"])
    assert answer.data["source"] == "dataset schema"
    assert answer.data["features"] == ["home_elo", "elo_diff"]
    assert answer.data["dtypes"] == {"home_elo": "double", "elo_diff": "double"}


async def test_run_without_feature_record_says_so(client, world):
    answer = await ok(client, "mlflow_get_run_features", run_id=world.runs["bare"])
    assert answer.data["source"] == "none" and "features" not in answer.data  # no empty fields
    assert "recorded no feature list" in answer.text


async def test_compare_runs_shows_changes(client, world):
    answer = await ok(client, "mlflow_compare_runs", run_ids=[world.runs["seed"], world.runs["parts"]])
    data = answer.data
    change = data["feature_changes"][0]
    assert change["added"] == ["home_win_streak", "momentum_diff"]
    assert change["removed"] == ["h2h_home_win_pct"]
    assert data["metric_deltas"]["test_accuracy"]["deltas"] == [0.0122]
    assert set(data["param_changes"]) >= {"algorithm", "model_version"}


async def test_compare_runs_tells_each_fact_once(client, world):
    """Concise: a metric is told as changed or as the same in every run, never again per run; a
    headline param is in the run lines unless a changed param tells it. Detailed keeps both."""
    ids = [world.runs["seed"], world.runs["parts"]]
    concise = (await ok(client, "mlflow_compare_runs", run_ids=ids)).data
    detailed = (await ok(client, "mlflow_compare_runs", run_ids=ids, response_format="detailed")).data
    assert not any("metrics" in r for r in concise["runs"]) and all(r["metrics"] for r in detailed["runs"])
    same = concise.get("metrics_same", {})
    assert set(concise["metric_deltas"]).isdisjoint(same)
    assert set(concise["metric_deltas"]) | set(same) == set(detailed["metric_deltas"])
    assert concise["param_changes"]["algorithm"] == ["logistic_regression", "gradient_boosting"]
    assert not any({"algorithm", "model_version", "feature_count"} & set(r) for r in concise["runs"])
    assert [r["algorithm"] for r in detailed["runs"]] == ["logistic_regression", "gradient_boosting"]
    assert "features_part" in concise["feature_sources"][1]  # told: not both from features.json

    text = (await ok(client, "mlflow_compare_runs", run_ids=[world.runs["seed"], world.runs["dataset"]])).text
    baseline, second = text.splitlines()[:2]
    assert "logistic_regression" in baseline and "logistic_regression" in second  # the same: in the lines
    assert "v1.0" not in baseline and "model_version v1.0 -> -" in text  # changed: told once, below
    assert "no algorithm recorded" not in text


async def test_compare_needs_two_runs(client, world):
    text = (await call(client, "mlflow_compare_runs", run_ids=[world.runs["seed"]])).text
    assert "at least 2" in text


async def test_metric_history_summarises_ten_thousand_points(client, world):
    answer = await ok(
        client,
        "mlflow_get_metric_history",
        run_ids=[world.runs["parts"]],
        metric_keys=["val_loss"],
        max_points=50,
    )
    (series,) = answer.data["series"]
    assert series["count"] == 10_000 and series["downsampled"] is True
    assert len(series["x"]) <= 50 and answer.data["points_returned"] == len(series["y"])
    assert series["min"]["step"] == 9999 and series["max"]["step"] == 0
    assert series["last"]["step"] == 9999
    steps = series["x"]
    assert steps == sorted(steps) and 0 in steps and 9999 in steps
    assert (7777, 0.2604) in zip(series["x"], series["y"], strict=True), (
        "the spike at step 7777 survives downsampling"
    )
    assert len(answer.text) < 2000


async def test_metric_history_unknown_metric_suggests(client, world):
    text = await error(
        client, "mlflow_get_metric_history", run_ids=[world.runs["parts"]], metric_keys=["val_los"]
    )
    assert "val_loss" in text


async def test_compare_model_versions_by_reference_in_one_call(client, world):
    answer = await ok(
        client, "mlflow_compare_runs", run_ids=["game_winner_model/Production", "game_winner_model@champion"]
    )
    assert [r["run_id"] for r in answer.data["runs"]] == [world.runs["parts"], world.runs["feast_tags"]]
    assert answer.data["versions"][0].startswith("game_winner_model v2 (stage")
    assert "top_features" not in answer.data["param_changes"]
