"""The MLflow 3 world is what it claims, read back through `MlflowClient` (not through our server):
the facts the MCP tests and evals over it will take as truth."""

from __future__ import annotations

import json
import os
from itertools import product
from pathlib import Path

import pytest

from support.mlflow3_world import (
    EXPERIMENT_NOTE,
    GRID,
    MODEL,
    RUN_NOTE,
    SWEEP_GRID,
    SWEEP_METRIC,
    SWEEP_MODEL,
    SWEEP_STEPS,
    Mlflow3World,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mc(mlflow3_world: Mlflow3World):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=mlflow3_world.uri, registry_uri=mlflow3_world.uri)


def test_fluent_globals_are_restored(mlflow3_world: Mlflow3World) -> None:
    import mlflow
    from mlflow.utils.autologging_utils import autologging_is_disabled

    assert mlflow.get_tracking_uri() != mlflow3_world.uri
    assert mlflow.get_registry_uri() != mlflow3_world.uri
    assert os.environ.get("MLFLOW_TRACKING_URI") != mlflow3_world.uri
    assert autologging_is_disabled("sklearn")
    assert mlflow.active_run() is None


def test_experiment_is_not_the_seeds_and_carries_a_note(mc, mlflow3_world: Mlflow3World) -> None:
    exp = mc.get_experiment(mlflow3_world.experiment_id)
    assert exp.name == "churn_autolog"
    assert exp.tags["mlflow.note.content"] == EXPERIMENT_NOTE
    assert mc.get_run(mlflow3_world.runs["rf_champion"]).data.tags["mlflow.note.content"] == RUN_NOTE


def test_newest_top_level_run_is_the_champions(mc, mlflow3_world: Mlflow3World) -> None:
    runs = mc.search_runs([mlflow3_world.experiment_id], order_by=["attributes.start_time DESC"])
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [r.info.run_name for r in top] == [
        "rf_champion",
        "rf_grid_search",
        "gbm_sweep",
        "lr_baseline",
        "rf_autolog",
    ]
    assert len(runs) == len(top) + len(SWEEP_GRID) + len(list(product(*GRID.values())))


def test_autolog_run_uses_autologs_names(mc, mlflow3_world: Mlflow3World) -> None:
    run = mc.get_run(mlflow3_world.runs["rf_autolog"])
    assert run.data.tags["estimator_name"] == "RandomForestClassifier"
    assert run.data.tags["estimator_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert {"training_accuracy_score", "training_roc_auc", "RandomForestClassifier_score_X_test"} <= set(
        run.data.metrics
    )
    assert run.data.params["n_estimators"] == "40" and run.data.params["max_depth"] == "6"
    # autolog logged the model as a LoggedModel, linked from the run's outputs, not as run artifacts
    assert [o.model_id for o in run.outputs.model_outputs] == [mlflow3_world.logged_models["rf_autolog"]]
    assert "model" not in {a.path for a in mc.list_artifacts(run.info.run_id)}


def test_logged_input_keeps_the_label_in_its_schema(mc, mlflow3_world: Mlflow3World) -> None:
    """`from_pandas(targets=...)` does not store `targets`: the schema lists the label column."""
    run = mc.get_run(mlflow3_world.runs["rf_autolog"])
    logged = {
        (i.dataset.name, i.tags[0].value if i.tags else None): i.dataset for i in run.inputs.dataset_inputs
    }
    train = logged[("churn_train", "training")]
    columns = [c["name"] for c in json.loads(train.schema)["mlflow_colspec"]]
    assert columns == [*mlflow3_world.features, mlflow3_world.target]
    assert "targets" not in train.schema and "target" in columns
    autolog_train = logged[("dataset", "train")]  # autolog's own: features only
    assert [c["name"] for c in json.loads(autolog_train.schema)["mlflow_colspec"]] == mlflow3_world.features


def test_champion_logged_model_has_signature_and_per_dataset_metrics(
    mc, mlflow3_world: Mlflow3World, tmp_path: Path
) -> None:
    import mlflow
    from mlflow.models import Model

    model_id = mlflow3_world.logged_models["rf_champion"]
    model = mc.get_logged_model(model_id)
    assert model.name == "model" and model.source_run_id == mlflow3_world.runs["rf_champion"]
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"{model.artifact_location}/MLmodel",
        dst_path=str(tmp_path),
        tracking_uri=mlflow3_world.uri,
    )
    signature = Model.load(local).signature
    assert signature.inputs.input_names() == mlflow3_world.features
    assert signature.outputs.input_names() == [mlflow3_world.target]
    name, digest = mlflow3_world.datasets["test"]
    scoped = {m.key: m.value for m in model.metrics if m.dataset_name == name and m.dataset_digest == digest}
    assert scoped == mlflow3_world.model_metrics["rf_champion"]
    assert model.params["feature_set"] == "churn_v3"
    files = {f.path for f in mc.list_logged_model_artifacts(model_id)}
    assert {"MLmodel", "input_example.json", "requirements.txt", "model.skops"} <= files


def test_aliases_without_stages(mc, mlflow3_world: Mlflow3World) -> None:
    for alias, number in mlflow3_world.aliases[MODEL].items():
        mv = mc.get_model_version_by_alias(MODEL, alias)
        assert int(mv.version) == number
        assert mv.source == f"models:/{mlflow3_world.logged_models[_role_of(mlflow3_world, MODEL, number)]}"
    versions = mc.search_model_versions(f"name = '{MODEL}'")
    assert {v.current_stage for v in versions} == {"None"}
    champion = mc.get_model_version_by_alias(MODEL, "champion")
    assert champion.run_id == mlflow3_world.runs["rf_champion"]
    assert champion.model_id is None  # OSS registry stores only the source; the id is in it


def test_stage_and_same_named_alias_disagree(mc, mlflow3_world: Mlflow3World) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        in_stage = mc.get_latest_versions(SWEEP_MODEL, stages=["Production"])
    assert [int(v.version) for v in in_stage] == [mlflow3_world.stages[SWEEP_MODEL]["Production"]] == [2]
    assert int(mc.get_model_version_by_alias(SWEEP_MODEL, "production").version) == 4


def test_sweep_has_one_clearly_best_trial(mc, mlflow3_world: Mlflow3World) -> None:
    parent = mlflow3_world.runs["sweep"]
    children = mc.search_runs([mlflow3_world.experiment_id], f"tags.mlflow.parentRunId = '{parent}'")
    assert {r.info.run_id for r in children} == set(mlflow3_world.sweep_children)
    scores = sorted((r.data.metrics[SWEEP_METRIC], r.info.run_id) for r in children)
    assert scores[-1][1] == mlflow3_world.best_trial
    assert scores[-1][0] - scores[-2][0] >= 0.03, scores
    assert mlflow3_world.best_trial not in (mlflow3_world.sweep_children[0], mlflow3_world.sweep_children[-1])
    best = mc.get_run(mlflow3_world.best_trial)
    assert {k: float(best.data.params[k]) for k in ("learning_rate", "max_depth")} == dict(
        zip(("learning_rate", "max_depth"), SWEEP_GRID[1], strict=True)
    )
    curve = mc.get_metric_history(mlflow3_world.best_trial, "val_loss")
    assert [m.step for m in curve] == list(range(SWEEP_STEPS))


def test_grid_search_parent_and_candidates(mc, mlflow3_world: Mlflow3World) -> None:
    parent = mc.get_run(mlflow3_world.runs["grid"])
    assert parent.data.tags["estimator_name"] == "GridSearchCV"
    assert {"best_n_estimators", "best_max_depth"} <= set(parent.data.params)
    assert {"best_cv_score", "GridSearchCV_score_X_test"} <= set(parent.data.metrics)
    assert len(mlflow3_world.grid_children) == len(list(product(*GRID.values())))
    ranks = [mc.get_run(c).data.metrics["rank_test_score"] for c in mlflow3_world.grid_children]
    assert sorted(ranks)[0] == 1.0
    names = {
        mc.get_logged_model(m).name for k, m in mlflow3_world.logged_models.items() if k.startswith("grid_")
    }
    assert names == {"model", "best_estimator"}


def _role_of(world: Mlflow3World, model: str, number: int) -> str:
    return next(role for role, v in world.versions[model].items() if v == number)
