"""Runs for the validation checklist, in their own experiment and registered model so the shared
world's assertions are not disturbed: a previous run, a valid run, and one run per failure the
checklist must catch (no features.json, a metric out of range, not registered, a feature Feast
does not define)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from support.mlflow_world import FEATURES_V1, FEATURES_V2, chunk

EXPERIMENT = "validation_checks"
MODEL = "validation_model"
MISALIGNED_FEATURE = "home_travel_distance"  # not defined in feature_repo/
FEATURES_MISALIGNED = [*FEATURES_V2, MISALIGNED_FEATURE]
BAD_TEST_ACCURACY = 1.7


@dataclass
class ValidationWorld:
    uri: str
    experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)  # role -> run id
    versions: dict[str, int] = field(default_factory=dict)  # role -> registered version


def log_validation_world(uri: str, scratch: Path) -> ValidationWorld:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    # registry_uri explicitly: an in-process mlflow.set_registry_uri elsewhere must not redirect us
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp_id = client.create_experiment(EXPERIMENT)
    world = ValidationWorld(uri=uri, experiment_id=exp_id)
    client.create_registered_model(MODEL)

    def log(
        role: str,
        features: list[str],
        *,
        algorithm: str = "gradient_boosting",
        model_version: str = "v2.0",
        metrics: dict | None = None,
        features_json: bool = True,
        register: bool = True,
    ) -> None:
        run = client.create_run(exp_id, run_name=role)
        rid = run.info.run_id
        importances = {f: round(1 / (i + 2), 4) for i, f in enumerate(features)}
        params = {
            "algorithm": algorithm,
            "model_version": model_version,
            "feature_count": len(features),
            "max_depth": 4 if algorithm == "gradient_boosting" else None,
            "top_features": json.dumps(dict(list(importances.items())[:10])),
            **chunk(features, 5),
        }
        values = metrics or {
            "train_accuracy": 0.742,
            "test_accuracy": 0.6634,
            "training_samples": 2952,
            "test_samples": 738,
        }
        now = int(time.time() * 1000)
        client.log_batch(
            rid,
            metrics=[Metric(k, float(v), now, 0) for k, v in values.items()],
            params=[Param(k, str(v)) for k, v in params.items() if v is not None],
        )
        folder = scratch / rid / "training_artifacts"
        folder.mkdir(parents=True)
        files = {"feature_importances.json": json.dumps(importances)}
        if features_json:
            files["features.json"] = json.dumps(features)
        for name, content in files.items():
            (folder / name).write_text(content)
            client.log_artifact(rid, str(folder / name), "training_artifacts")
        client.set_terminated(rid, "FINISHED")
        world.runs[role] = rid
        if register:
            version = client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run_id=rid)
            world.versions[role] = int(version.version)
        time.sleep(0.02)  # distinct start times: 'previous' and 'latest' are unambiguous

    log(
        "previous",
        FEATURES_V1,
        algorithm="logistic_regression",
        model_version="v1.0",
        metrics={
            "train_accuracy": 0.701,
            "test_accuracy": 0.6512,
            "training_samples": 2952,
            "test_samples": 738,
        },
    )
    log("valid", FEATURES_V2)
    log("no_features_json", FEATURES_V2, features_json=False)
    log(
        "bad_metric",
        FEATURES_V2,
        metrics={
            "train_accuracy": 0.74,
            "test_accuracy": BAD_TEST_ACCURACY,
            "training_samples": 2952,
            "test_samples": 738,
        },
    )
    log("unregistered", FEATURES_V2, register=False)
    log("misaligned", FEATURES_MISALIGNED)
    return world
