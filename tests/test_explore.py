"""Issue 18 through a real MCP client over real MLflow servers: what an experiment logs
(mlflow_describe_experiment), a filter that names a missing key, several curves in one call,
coverage on every list, and the curve readings of validate_training_run and mlflow_get_run.
Expected values come from MlflowClient, not from the server under test."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from support.calls import call, error, ok
from support.curves_world import (
    EXPERIMENT,
    NAN_FROM_STEP,
    NOTE,
    OVERFIT_BEST_STEP,
    SWEEP,
    CurvesWorld,
)
from support.mlflow3_world import EXPERIMENT_NOTE, MODEL, SWEEP_GRID, SWEEP_MODEL, Mlflow3World
from support.mlflow_world import FEATURES_V1, HOSTILE, World

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def mc(curves_world: CurvesWorld) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=curves_world.uri, registry_uri=curves_world.uri)


def truth_runs(mc: Any, world: CurvesWorld) -> list[Any]:
    return mc.search_runs([world.experiment_id], order_by=["attributes.start_time DESC"])


def checks(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


# ---- mlflow_describe_experiment ---------------------------------------------------------------


async def test_describe_counts_runs_keys_and_values_as_mlflow_has_them(curves_client, curves_world, mc):
    answer = await ok(curves_client, "mlflow_describe_experiment")
    data, runs = answer.data, truth_runs(mc, curves_world)
    assert data["experiment"] == EXPERIMENT and data["description"] == NOTE
    assert data["tags"] == {"team": "forecasting"}
    counts = data["runs"]
    assert counts["total"] == counts["read"] == len(runs) and "total_at_least" not in counts
    assert counts["by_status"] == dict(Counter(r.info.status for r in runs))
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert (counts["top_level"], counts["child"]) == (len(runs) - len(children), len(children))
    assert data["sweeps"] == [
        {"parent": "lr_sweep", "parent_run_id": curves_world.runs["lr_sweep"], "children": len(SWEEP)}
    ]
    params = data["params"]
    algorithms = Counter(r.data.params["algorithm"] for r in runs if "algorithm" in r.data.params)
    assert params["algorithm"]["runs"] == sum(algorithms.values())
    assert params["algorithm"]["top"]["xgboost"] == algorithms["xgboost"] == len(curves_world.xgboost_runs)
    rates = [float(r.data.params["learning_rate"]) for r in runs if "learning_rate" in r.data.params]
    assert (params["learning_rate"]["min"], params["learning_rate"]["max"]) == (min(rates), max(rates))
    assert set(data["metrics"]) == {k for r in runs for k in r.data.metrics}
    val_loss = data["metrics"]["val_loss"]
    assert val_loss["runs"] == sum("val_loss" in r.data.metrics for r in runs)
    assert set(data["run_tags"]) >= {"stage"}
    assert "mlflow.parentRunId" not in data["run_tags"]
    assert f"xgboost x{algorithms['xgboost']}" in answer.text
    assert f"runs: {len(runs)} runs (all read)" in answer.text
    assert "lr_sweep (6 children)" in answer.text


async def test_describe_samples_the_newest_runs_and_says_so(curves_settings, curves_world, mc):
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(curves_settings.model_copy(update={"describe_sample": 10}))) as client:
        answer = await ok(client, "mlflow_describe_experiment")
    counts, runs = answer.data["runs"], truth_runs(mc, curves_world)
    assert counts["read"] == 10 and counts["total_at_least"] == 10 and "total" not in counts
    oldest = min(r.info.start_time for r in runs)
    from mlflow_feast_mcp.core.formatting import iso_from_ms

    assert counts["first_start"] == iso_from_ms(oldest)  # read from MLflow, not from the sample
    assert "the newest 10 read" in answer.text and "statistics are over the newest 10 runs" in answer.text


async def test_describe_names_models_sweeps_and_description_of_an_mlflow3_experiment(
    mlflow3_client, mlflow3_world: Mlflow3World
):
    answer = await ok(mlflow3_client, "mlflow_describe_experiment", experiment=mlflow3_world.experiment_name)
    data = answer.data
    assert data["description"] == EXPERIMENT_NOTE
    models = {m["name"]: m["versions"] for m in data["models"]}
    assert models[MODEL] == sorted(mlflow3_world.versions[MODEL].values())
    assert models[SWEEP_MODEL] == sorted(mlflow3_world.versions[SWEEP_MODEL].values())
    sweeps = {s["parent_run_id"]: s["children"] for s in data["sweeps"]}
    assert sweeps[mlflow3_world.runs["sweep"]] == len(SWEEP_GRID)
    assert sweeps[mlflow3_world.runs["grid"]] == len(mlflow3_world.grid_children)
    rates = data["params"]["learning_rate"]
    assert (rates["min"], rates["max"]) == (min(r for r, _ in SWEEP_GRID), max(r for r, _ in SWEEP_GRID))
    assert "churn_gbm v1, v2, v3, v4" in answer.text


async def test_describe_the_seed_experiment_folds_feature_chunks_and_keeps_hostile_tags_quoted(
    client, world: World
):
    answer = await ok(client, "mlflow_describe_experiment")
    params = answer.data["params"]
    assert "features_part*" in params and not any(k.startswith("features_part0") for k in params)
    assert answer.data["models"] == [{"name": "game_winner_model", "versions": [1, 2, 3]}]
    assert HOSTILE not in answer.text and "Ignore previous" not in answer.text  # long values: no top list
    assert all("\n" not in line for line in answer.text.splitlines())
    assert str(len(FEATURES_V1)) in json.dumps(params["feature_count"])


async def test_describe_unknown_experiment_suggests(curves_client):
    text = await error(curves_client, "mlflow_describe_experiment", experiment="curve_la")
    assert "curve_lab" in text


# ---- a filter that names a key no run logs ------------------------------------------------------


async def test_misspelt_filter_key_is_an_error_naming_the_closest_key(curves_client):
    text = await error(curves_client, "mlflow_search_runs", filter="params.algoritm = 'xgboost'")
    assert "'params.algoritm' is not logged by any run" in text and "params.algorithm" in text
    text = await error(curves_client, "mlflow_search_runs", filter="metrics.`val_los` < 0.3")
    assert "metrics.val_loss" in text


async def test_known_keys_that_match_nothing_and_keys_inside_strings_are_not_errors(curves_client):
    empty = await ok(curves_client, "mlflow_search_runs", filter="params.algorithm = 'params.nope'")
    assert empty.data["runs"] == [] and empty.data["total"] == 0
    assert "runs: none match" in empty.text and "coverage: none of 0" in empty.text


# ---- coverage on every list ---------------------------------------------------------------------


async def test_search_says_how_many_runs_match_in_one_call(curves_client, curves_world):
    answer = await ok(curves_client, "mlflow_search_runs", filter="params.algorithm = 'xgboost'")
    n = len(curves_world.xgboost_runs)
    assert answer.data["returned"] == answer.data["total"] == n and answer.data["has_more"] is False
    assert f"coverage: 1-{n} of {n}" in answer.text


async def test_pages_count_what_came_before_and_end_with_the_exact_total(curves_client, curves_world):
    n, seen, token, pages = len(curves_world.xgboost_runs), [], None, []
    while True:
        args = {"filter": "params.algorithm = 'xgboost'", "page_size": 2} | (
            {"page_token": token} if token else {}
        )
        page = await ok(curves_client, "mlflow_search_runs", **args)
        pages.append(page)
        assert page.data["offset"] == len(seen) if seen else "offset" not in page.data
        seen += [r["run_id"] for r in page.data["runs"]]
        token = page.data.get("next_page_token")
        if not token:
            break
        assert page.data["has_more"] is True and page.data["total_at_least"] >= len(seen)
    assert len(seen) == len(set(seen)) == n
    assert pages[-1].data["total"] == n
    assert "coverage: 3-4 of at least" in pages[1].text


async def test_every_kind_of_list_carries_coverage(client, world: World):
    experiments = await ok(client, "mlflow_list_experiments", page_size=1)
    assert experiments.data["returned"] == 1 and experiments.data["has_more"] is True
    assert "coverage: 1-1 of at least 1, more exist" in experiments.text
    models = await ok(client, "mlflow_list_registered_models")
    assert models.data["has_more"] is False and models.data["total"] == models.data["returned"] >= 2
    versions = await ok(client, "mlflow_get_registered_model")
    assert versions.data["total"] == versions.data["returned"] == 3 and not versions.data["has_more"]
    tree = await ok(client, "mlflow_list_artifacts", run_id=world.runs["seed"])
    assert tree.data["total"] == tree.data["returned"] == len(tree.data["entries"])
    assert f"coverage: 1-{tree.data['returned']} of {tree.data['total']}" in tree.text


# ---- several curves in one call -----------------------------------------------------------------


async def test_last_three_runs_train_and_val_loss_in_one_call(curves_client, curves_world, mc):
    answer = await ok(
        curves_client, "mlflow_get_metric_history", metric_keys=["train_loss", "val_loss"], last_runs=3
    )
    data = answer.data
    newest = [r for r in truth_runs(mc, curves_world) if {"train_loss", "val_loss"} & set(r.data.metrics)][:3]
    assert [s["run_id"] for s in data["series"]] == [
        r.info.run_id for r in newest for k in ("train_loss", "val_loss") if k in r.data.metrics
    ]
    assert data["missing"] == [
        {
            "run_id": curves_world.runs["still_running"],
            "run_name": "still_running",
            "key": "val_loss",
            "reason": "not logged",
        }
    ]
    assert data["points_returned"] <= data["point_budget"] == 200
    for s in data["series"]:
        history = sorted(mc.get_metric_history(s["run_id"], s["key"]), key=lambda m: m.step)
        assert s["count"] == len(history)
        assert s["last"] == {
            "step": history[-1].step,
            "value": pytest.approx(history[-1].value, rel=1e-3),
        }  # no wall-clock time in the concise form: the text has none either
        assert s["x"][0] == history[0].step and s["x"][-1] == history[-1].step
    assert "missing: run still_running" in answer.text


async def test_point_budget_is_shared_fairly(curves_client, curves_world):
    answer = await ok(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["train_loss", "val_loss"],
        run_ids=["still_running", "overfit_xgb", "clean_converged"],
        max_points=60,
    )
    sizes = {(s["run_name"], s["key"]): len(s["x"]) for s in answer.data["series"]}
    assert sizes[("still_running", "train_loss")] == 2  # a short series takes only what it has
    long = [v for k, v in sizes.items() if k[0] != "still_running"]
    assert max(long) - min(long) <= 2 and sum(sizes.values()) <= 60 + len(sizes)


async def test_minimum_and_best_steps_of_an_overfitting_run(curves_client, curves_world, mc):
    answer = await ok(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["val_loss", "val_accuracy"],
        run_ids=["overfit_xgb"],
        max_points=30,
    )
    by_key = {s["key"]: s for s in answer.data["series"]}
    history = mc.get_metric_history(curves_world.runs["overfit_xgb"], "val_loss")
    best = min(history, key=lambda m: m.value)
    assert by_key["val_loss"]["min"] == {"step": best.step, "value": pytest.approx(best.value, rel=1e-3)}
    assert best.step == OVERFIT_BEST_STEP and by_key["val_accuracy"]["max"]["step"] == OVERFIT_BEST_STEP
    assert (OVERFIT_BEST_STEP, by_key["val_loss"]["min"]["value"]) in zip(
        by_key["val_loss"]["x"], by_key["val_loss"]["y"], strict=True
    )


async def test_model_versions_and_run_names_in_another_experiment(
    mlflow3_client, mlflow3_world: Mlflow3World
):
    trial_0, trial_3 = mlflow3_world.sweep_children[0], mlflow3_world.sweep_children[3]
    answer = await ok(
        mlflow3_client,
        "mlflow_get_metric_history",
        metric_keys=["val_loss"],
        run_ids=[f"{SWEEP_MODEL}/1", f"{SWEEP_MODEL}@production", "trial_1"],
        experiment=mlflow3_world.experiment_name,
        max_points=20,
    )
    series = answer.data["series"]
    assert [s["run_id"] for s in series] == [trial_0, trial_3, mlflow3_world.best_trial]
    assert series[0]["label"].startswith(f"{SWEEP_MODEL} v1") and "production" in series[1]["label"]
    assert all(s["count"] == 40 for s in series)


async def test_step_window_and_timestamp_axis(curves_client):
    window = await ok(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["val_loss"],
        run_ids=["overfit_xgb"],
        steps="20-40",
    )
    (s,) = window.data["series"]
    assert s["count"] == 21 and set(s["x"]) <= set(range(20, 41))
    assert (s["first"]["step"], s["last"]["step"]) == (20, 40) and "steps 20-40" in window.text
    timed = await ok(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["train_loss", "val_loss"],
        run_ids=["clean_converged"],
        x_axis="timestamp",
    )
    xs = timed.data["series"][0]["x"]
    assert (
        timed.data["x_axis"] == "timestamp" and xs[0] == 0 and xs == sorted(xs) and xs[-1] == 59
    )  # 1 s per step


async def test_nan_and_infinite_values_are_counted_never_sent_as_json_nan(curves_client):
    answer = await ok(
        curves_client, "mlflow_get_metric_history", metric_keys=["train_loss"], run_ids=["nan_blowup"]
    )
    (s,) = answer.data["series"]
    assert s["nonfinite"] == 40 - NAN_FROM_STEP and "value" not in s["last"]
    assert s["min"]["step"] == NAN_FROM_STEP - 1 and max(s["x"]) == NAN_FROM_STEP - 1
    json.dumps(answer.data, allow_nan=False)  # strict JSON: no NaN or Infinity tokens
    assert "10 NaN/inf" in answer.text and "last NaN/inf@39" in answer.text


async def test_metric_history_bad_input(curves_client):
    text = await error(
        curves_client, "mlflow_get_metric_history", metric_keys=["val_los"], run_ids=["overfit_xgb"]
    )
    assert "val_loss" in text
    partial = await ok(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["val_loss", "val_los"],
        run_ids=["overfit_xgb"],
    )
    assert (
        partial.data["missing"][0]["key"] == "val_los"
        and "did you mean 'val_loss'" in partial.data["notes"][0]
    )
    assert "after its end" in await error(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["val_loss"],
        run_ids=["overfit_xgb"],
        steps="9-3",
    )
    assert "not a step window" in await error(
        curves_client, "mlflow_get_metric_history", metric_keys=["val_loss"], steps="nine to three"
    )
    assert "steps 500-end" in await error(
        curves_client,
        "mlflow_get_metric_history",
        metric_keys=["val_loss"],
        run_ids=["overfit_xgb"],
        steps="500-",
    )
    assert (await call(curves_client, "mlflow_get_metric_history", metric_keys=[])).is_error
    assert (await call(curves_client, "mlflow_get_metric_history", metric_keys=["a"] * 11)).is_error


async def test_a_small_response_budget_cuts_points_and_says_how_to_get_more(world: World, tmp_path):
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(tracking_uri=world.uri, feast_repo=tmp_path, response_budget=3_000)
    async with Client(build_server(settings)) as session:
        answer = await ok(
            session,
            "mlflow_get_metric_history",
            metric_keys=["val_loss"],
            run_ids=[world.runs["parts"]],
            max_points=2000,
        )
    assert answer.data["truncated"] is True and answer.data["points_returned"] < 2000
    assert len(answer.text) <= 3_000 and len(json.dumps(answer.data)) <= 3_000
    assert "steps=" in answer.data["hint"]


# ---- curve diagnosis ----------------------------------------------------------------------------


async def test_validation_reads_an_overfitting_run(curves_client, curves_world):
    answer = await ok(
        curves_client,
        "validate_training_run",
        response_format="detailed",
        run_id="overfit_xgb",
        compare_with_previous=False,
    )
    found = checks(answer.data)
    over = found["overfitting"]
    assert over["status"] == "warn"
    assert over["evidence"]["metric"] == "val_loss" and over["evidence"]["best_step"] == OVERFIT_BEST_STEP
    assert over["evidence"]["train_metric"] == "train_loss" and over["evidence"]["also"] == ["val_accuracy"]
    assert f"val_loss was best at step {OVERFIT_BEST_STEP}" in over["summary"]
    assert found["train_val_gap"]["status"] == "warn" and found["curve_values"]["status"] == "pass"
    assert "overfitting" in answer.text.splitlines()[0]  # named among the warnings of the verdict
    assert all(c["status"] != "fail" for c in (over, found["train_val_gap"]))  # warnings, never failures


async def test_validation_reads_convergence_nan_and_gap(curves_client):
    still = checks(
        (
            await ok(
                curves_client, "validate_training_run", response_format="detailed", run_id="still_improving"
            )
        ).data
    )
    assert still["convergence"]["status"] == "warn" and still["convergence"]["evidence"]["last_step"] == 49
    assert still["overfitting"]["status"] == "pass"
    nan = checks(
        (
            await ok(curves_client, "validate_training_run", response_format="detailed", run_id="nan_blowup")
        ).data
    )
    assert nan["curve_values"]["status"] == "warn"
    assert nan["curve_values"]["evidence"] == {
        "metric": "train_loss",
        "nonfinite_points": 40 - NAN_FROM_STEP,
        "first_step": NAN_FROM_STEP,
        "last_finite_step": NAN_FROM_STEP - 1,
    }
    assert nan["overfitting"]["status"] == "skipped"
    gap = checks(
        (
            await ok(curves_client, "validate_training_run", response_format="detailed", run_id="gap_widens")
        ).data
    )
    assert gap["train_val_gap"]["status"] == "warn" and gap["overfitting"]["status"] == "pass"
    assert gap["train_val_gap"]["evidence"]["late_gap"] > 3 * gap["train_val_gap"]["evidence"]["early_gap"]
    clean = checks(
        (
            await ok(
                curves_client, "validate_training_run", response_format="detailed", run_id="clean_converged"
            )
        ).data
    )
    assert {clean[n]["status"] for n in ("curve_values", "overfitting", "convergence", "train_val_gap")} == {
        "pass"
    }


async def test_get_run_detailed_carries_the_diagnosis_concise_does_not(curves_client):
    detailed = await ok(curves_client, "mlflow_get_run", run_id="overfit_xgb", response_format="detailed")
    names = {d["name"]: d["status"] for d in detailed.data["diagnosis"]}
    assert names["overfitting"] == "warn" and "overfitting | warn" in detailed.text
    concise = await ok(curves_client, "mlflow_get_run", run_id="overfit_xgb")
    assert "diagnosis" not in concise.data


async def test_real_boosting_curves_of_the_mlflow3_sweep(mlflow3_client, mlflow3_world: Mlflow3World):
    """GradientBoosting staged curves: the slowest learner (learning_rate 0.003, depth 1) is still
    improving at its last step; the fastest (0.3, depth 3) drives train_loss towards 0 while val_loss
    settles early, so its gap widens; every trial gets the four readings."""
    slowest = mlflow3_world.sweep_children[SWEEP_GRID.index((0.003, 1))]
    fastest = mlflow3_world.sweep_children[SWEEP_GRID.index((0.3, 3))]
    for child in mlflow3_world.sweep_children:
        answer = await ok(mlflow3_client, "mlflow_get_run", run_id=child, response_format="detailed")
        found = {d["name"]: d for d in answer.data["diagnosis"]}
        assert set(found) == {"curve_values", "overfitting", "convergence", "train_val_gap"}
        if child == slowest:
            assert found["convergence"]["status"] == "warn", found["convergence"]
        if child == fastest:
            assert found["train_val_gap"]["status"] == "warn", found["train_val_gap"]
            assert found["overfitting"]["status"] == "pass", found["overfitting"]
