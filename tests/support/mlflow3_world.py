"""MLflow 3 as teams log it today, with MLflow's ordinary APIs and none of the seed's conventions:
`mlflow.sklearn.autolog()` on a fit and on a `GridSearchCV`, `log_model(name=..., registered_model_name=...)`
(LoggedModels `m-...` with signatures), aliases without stages, a stage and a same-named alias that
disagree, `log_input(from_pandas(..., targets=...))`, a hand-made nested sweep, metrics logged to a
LoggedModel per dataset, and `mlflow.note.content` on the experiment and on a run.

Runs, oldest first (all top-level runs and their children in one experiment, `churn_autolog`):
`rf_autolog` (autolog logs the model), `lr_baseline` (-> churn_classifier v1, @challenger),
`gbm_sweep` with `trial_0..3` (-> churn_gbm v1..v4), `rf_grid_search` with autolog's candidate runs,
`rf_champion` (-> churn_classifier v2, @champion; the newest top-level run)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

EXPERIMENT = "churn_autolog"
MODEL = "churn_classifier"  # aliases champion/challenger only, no stages
SWEEP_MODEL = "churn_gbm"  # stage Production on v2, alias `production` on v4
TARGET = "target"
FEATURES = [
    "tenure_months", "monthly_charges", "total_charges", "num_products", "support_calls_90d",
    "late_payments_12m", "avg_session_minutes", "logins_30d", "days_since_last_login", "discount_pct",
    "contract_length_months", "autopay_enabled", "paperless_billing", "num_devices", "data_usage_gb",
    "voice_minutes", "sms_count", "roaming_charges", "complaints_12m", "nps_score",
    "referrals", "plan_upgrades", "plan_downgrades", "age_years", "household_size",
    "credit_score", "region_code", "acquisition_channel", "promo_redemptions", "app_rating",
]  # fmt: skip
EXPERIMENT_NOTE = "Churn model: autologged scikit-learn baselines, a grid search and a GBM sweep."
RUN_NOTE = "Champion candidate: random forest retrained on the full training window."
# (learning_rate, max_depth) per trial; trial_1 wins by a wide margin, and is neither first nor last.
SWEEP_GRID = [(0.01, 2), (0.3, 3), (0.003, 1), (0.05, 1)]
SWEEP_METRIC = "val_roc_auc"
SWEEP_STEPS = 40
GRID = {"n_estimators": [20, 40], "max_depth": [3, 6]}
SEED = 7
# MLflow 3.17 saves sklearn models with skops by default and refuses tree models without this.
TRUSTED = ["sklearn.tree._tree.Tree"]


@dataclass
class Mlflow3World:
    """What `log_mlflow3_world` made, for tests to look up (ids are MLflow's)."""

    uri: str
    experiment_id: str
    experiment_name: str = EXPERIMENT
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    target: str = TARGET
    runs: dict[str, str] = field(default_factory=dict)  # role -> run id (top-level runs)
    grid_children: list[str] = field(default_factory=list)  # autolog's GridSearchCV candidate runs
    sweep_children: list[str] = field(default_factory=list)  # the hand-made sweep's trials, in order
    best_trial: str = ""  # the sweep child with the highest val_roc_auc
    sweep_scores: dict[str, float] = field(default_factory=dict)  # trial run id -> val_roc_auc
    logged_models: dict[str, str] = field(default_factory=dict)  # role -> LoggedModel id (m-...)
    versions: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> role -> version
    aliases: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> alias -> version
    stages: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> stage -> version
    datasets: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (name, digest)
    model_metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # role -> per-dataset metrics


@contextmanager
def _fluent_globals(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at `uri`, then restore its process-wide URIs (and the environment
    variables `set_tracking_uri`/`set_registry_uri` also write) and turn sklearn autolog off."""
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_uris = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    saved_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.sklearn.autolog(disable=True)
        while mlflow.active_run() is not None:
            mlflow.end_run("FAILED")
        mlflow.set_tracking_uri(saved_uris[0])
        registry_utils._registry_uri = saved_uris[1]
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _frames() -> tuple[Any, Any]:
    """A deterministic churn-like table, split: 30 named features and a binary `target`."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(
        n_samples=600, n_features=len(FEATURES), n_informative=8, n_redundant=4, random_state=SEED
    )
    frame = pd.DataFrame(x.round(4), columns=FEATURES)
    frame[TARGET] = y
    train, test = train_test_split(frame, test_size=0.25, random_state=SEED, stratify=frame[TARGET])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _log_loss(y: Any, p: Any) -> float:
    """Binary log loss (sklearn's `log_loss` validates its arguments: 10x slower in a 40-step loop)."""
    import numpy as np

    p = np.clip(np.asarray(p, dtype=float), 1e-15, 1 - 1e-15)
    y = np.asarray(y, dtype=float)
    return round(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), 5)


def log_mlflow3_world(uri: str, scratch: Path) -> Mlflow3World:
    """Fill the MLflow tracking server at `uri` (http, served artifacts) with the world."""
    import mlflow
    from mlflow.entities import Metric
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.base import ClassifierMixin
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV

    scratch.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp_id = client.create_experiment(EXPERIMENT, tags={"team": "retention"})
    client.set_experiment_tag(exp_id, "mlflow.note.content", EXPERIMENT_NOTE)
    world = Mlflow3World(uri=uri, experiment_id=exp_id)
    train, test = _frames()
    # Autolog names post-training metrics after the caller's variable: `<Estimator>_score_X_test`.
    X_train, y_train = train[FEATURES], train[TARGET]
    X_test, y_test = test[FEATURES], test[TARGET]
    train_ds = mlflow.data.from_pandas(train, targets=TARGET, name="churn_train")
    test_ds = mlflow.data.from_pandas(test, targets=TARGET, name="churn_test")
    world.datasets = {"train": ("churn_train", train_ds.digest), "test": ("churn_test", test_ds.digest)}
    # Requirements inference spawns a Python per model (~7 s each): the explicit log_model calls
    # state them instead; the models autolog logs still infer theirs.
    pins = [f"{p}=={version(p)}" for p in ("mlflow", "scikit-learn", "skops", "pandas", "numpy")]

    def registered_fit(role: str, estimator: ClassifierMixin, signature_output: Any, alias: str) -> None:
        """Autolog for params and metrics, an explicit log_model for the registered model."""
        with mlflow.start_run(experiment_id=exp_id, run_name=role) as run:
            mlflow.log_input(train_ds, context="training")
            estimator.fit(X_train, y_train)
            estimator.score(X_test, y_test)
            info = mlflow.sklearn.log_model(
                estimator,
                name="model",
                registered_model_name=MODEL,
                input_example=X_train.head(3),
                signature=infer_signature(X_train, signature_output(estimator)),
                params={"feature_set": "churn_v3", "decision_threshold": 0.5},
                pip_requirements=pins,
                skops_trusted_types=TRUSTED,
            )
            proba = estimator.predict_proba(X_test)[:, 1]
            metrics = {
                "test_roc_auc": round(float(roc_auc_score(y_test, proba)), 4),
                "test_log_loss": _log_loss(y_test, proba),
            }
            mlflow.log_metrics(metrics, model_id=info.model_id, dataset=test_ds)
        world.runs[role] = run.info.run_id
        world.logged_models[role] = info.model_id
        world.model_metrics[role] = metrics
        number = int(info.registered_model_version)
        world.versions.setdefault(MODEL, {})[role] = number
        client.set_registered_model_alias(MODEL, alias, str(number))
        world.aliases.setdefault(MODEL, {})[alias] = number

    with _fluent_globals(uri):
        # 1. A plain autologged fit (autolog logs the model as a LoggedModel), scored on test data.
        mlflow.sklearn.autolog(silent=True)
        with mlflow.start_run(experiment_id=exp_id, run_name="rf_autolog") as run:
            mlflow.log_input(train_ds, context="training")
            rf = RandomForestClassifier(n_estimators=40, max_depth=6, random_state=SEED)
            rf.fit(X_train, y_train)
            rf.score(X_test, y_test)
        world.runs["rf_autolog"] = run.info.run_id
        world.logged_models["rf_autolog"] = mlflow.last_logged_model().model_id

        # 2. The challenger: the signature's output is the prediction (an unnamed tensor).
        mlflow.sklearn.autolog(log_models=False, silent=True)
        registered_fit(
            "lr_baseline",
            LogisticRegression(max_iter=2000, C=0.5),
            lambda m: m.predict(X_train),
            "challenger",
        )

        # 3. A hand-made sweep: nested trials with loss curves per step and a final val_roc_auc.
        mlflow.sklearn.autolog(disable=True)
        with mlflow.start_run(experiment_id=exp_id, run_name="gbm_sweep") as parent:
            mlflow.log_params({"search": "manual", "n_trials": len(SWEEP_GRID), "metric": SWEEP_METRIC})
            for i, (lr, depth) in enumerate(SWEEP_GRID):
                with mlflow.start_run(experiment_id=exp_id, run_name=f"trial_{i}", nested=True) as child:
                    mlflow.log_params({"learning_rate": lr, "max_depth": depth, "n_estimators": SWEEP_STEPS})
                    gbm = GradientBoostingClassifier(
                        n_estimators=SWEEP_STEPS, learning_rate=lr, max_depth=depth, random_state=SEED
                    ).fit(X_train, y_train)
                    # One batch per trial (the same stored curve as a log_metrics per step, 40x faster).
                    staged = zip(
                        gbm.staged_predict_proba(X_train), gbm.staged_predict_proba(X_test), strict=True
                    )
                    now = int(time.time() * 1000)
                    curves = [
                        Metric(key, _log_loss(y, p[:, 1]), now + step, step)
                        for step, (p_train, p_val) in enumerate(staged)
                        for key, y, p in (("train_loss", y_train, p_train), ("val_loss", y_test, p_val))
                    ]
                    client.log_batch(child.info.run_id, metrics=curves)
                    auc = round(float(roc_auc_score(y_test, gbm.predict_proba(X_test)[:, 1])), 4)
                    mlflow.log_metric(SWEEP_METRIC, auc)
                    mlflow.sklearn.log_model(
                        gbm,
                        name="model",
                        input_example=X_train.head(3),
                        pip_requirements=pins,
                        skops_trusted_types=TRUSTED,
                    )
                world.sweep_children.append(child.info.run_id)
                world.sweep_scores[child.info.run_id] = auc
                world.logged_models[f"trial_{i}"] = mlflow.last_logged_model().model_id
        world.runs["sweep"] = parent.info.run_id
        world.best_trial = max(world.sweep_scores, key=world.sweep_scores.__getitem__)

        # 4. autolog on a GridSearchCV: a parent run, a child run per candidate (same start time).
        mlflow.sklearn.autolog(silent=True)
        with mlflow.start_run(experiment_id=exp_id, run_name="rf_grid_search") as run:
            grid = GridSearchCV(RandomForestClassifier(random_state=SEED), GRID, cv=3, scoring="roc_auc")
            grid.fit(X_train, y_train)
            grid.score(X_test, y_test)
        world.runs["grid"] = run.info.run_id
        for model in client.search_logged_models(
            [exp_id], filter_string=f"source_run_id = '{run.info.run_id}'"
        ):
            world.logged_models[f"grid_{model.name}"] = model.model_id  # grid_model, grid_best_estimator
        children = client.search_runs([exp_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
        world.grid_children = [r.info.run_id for r in children]

        # 5. The champion, the newest top-level run: the signature's output is the named label column.
        mlflow.sklearn.autolog(log_models=False, silent=True)
        champion = RandomForestClassifier(n_estimators=60, max_depth=8, random_state=SEED)
        registered_fit("rf_champion", champion, lambda m: y_train, "champion")
        client.set_tag(world.runs["rf_champion"], "mlflow.note.content", RUN_NOTE)
        mlflow.sklearn.autolog(disable=True)

        # 6. "Production" two ways: versions registered the classic way (runs:/<run>/model, which
        # MLflow 3 turns into models:/m-...), stage Production on v2, alias `production` on v4.
        for i, child_id in enumerate(world.sweep_children):
            mv = mlflow.register_model(f"runs:/{child_id}/model", SWEEP_MODEL)
            world.versions.setdefault(SWEEP_MODEL, {})[f"trial_{i}"] = int(mv.version)
        client.transition_model_version_stage(SWEEP_MODEL, "2", "Production")
        client.set_registered_model_alias(SWEEP_MODEL, "production", "4")
        world.stages[SWEEP_MODEL] = {"Production": 2}
        world.aliases[SWEEP_MODEL] = {"production": 4}
    return world
