"""Seed the demo world for real: the NBA Feast repo applied, training data read through Feast, and a
history of scikit-learn models logged to MLflow the way the seed's training does.

``seed(workdir, tracking_uri)`` copies ``feature_repo/`` into ``workdir/feature_repo``, generates the
deterministic NBA data there, runs ``feast apply``, reads the training frame point in time with
``get_historical_features`` (labels.parquet as the entity dataframe), turns Feast's MLflow
integration on in the copy (``mlflow: enabled`` with this MLflow), then trains and logs each run
on the features it reads through Feast inside the run, so Feast itself tags it
(``feast.feature_refs``, ``feast.feature_service``, ``feast.entity_df_*``):

====  ======================  ===================  =============  ================================
 #    run name                algorithm            model_version  registry
====  ======================  ===================  =============  ================================
 1    baseline_logreg_v1.0    logistic_regression  v1.0           v1 Archived
 2    random_forest_v1.1      random_forest        v1.1           v2 Archived
 3    rf_travel_v1.2          random_forest        v1.2           v3 Archived (trained on
                                                                  ``home_travel_distance``, which
                                                                  feature_repo does not define)
 4    gbm_momentum_v2.0       gradient_boosting    v2.0           v4 Production (loss curves)
 5    hgb_v2.1_rc             hist_gradient_boost  v2.1           FAILED run, no model
 6    gbm_v2.1                gradient_boosting    v2.1           v5 @champion, no stage (loss
                                                                  curves): the alias disagrees
                                                                  with the Production stage
 7    random_forest_v2.2      random_forest        v2.2           v6 Staging @challenger
====  ======================  ===================  =============  ================================

Data, splits and models are deterministic (fixed seeds); run ids and times are not. The MLflow
store is whatever ``tracking_uri`` points at; the demo and the tests log through a real
``mlflow server`` over ``workdir/mlflow.db`` with ``--artifacts-destination workdir/artifacts`` (see
``start_mlflow_server``), so every artifact URI is ``mlflow-artifacts:/...`` and the same server
serves it later. ``workdir/.seeded.json`` records the report; a second ``seed`` reuses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import nba_data, processes
from .processes import free_port

EXPERIMENT = "nba_game_winner_prediction"
MODEL_NAME = "game_winner_model"
FEATURE_SERVICE = "game_winner_v1"
MARKER = ".seeded.json"
FEATURES_PER_PART = 8
MISSING_FEATURE = "home_travel_distance"  # trained on by run 3, never defined in feature_repo
RANDOM_STATE = 42

# ---------------------------------------------------------------------------------------------
# The history: feature sets per model_version (features added and dropped between versions).

V1_0 = (
    "home_win_pct_l10",
    "away_win_pct_l10",
    "home_point_diff_l10",
    "away_point_diff_l10",
    "home_season_win_pct",
    "away_season_win_pct",
    "rest_days_home",
    "rest_days_away",
    "home_elo",
    "away_elo",
)
# v1.1: + elo_diff, h2h, back-to-backs
V1_1 = (*V1_0, "elo_diff", "h2h_home_win_pct", "home_back_to_back", "away_back_to_back")
# v1.2: + home_travel_distance (an ad-hoc column, never added to feature_repo)
V1_2 = (*V1_1, MISSING_FEATURE)
# v2.0: - home_elo, away_elo; + the 9 momentum features
V2_0 = tuple(f for f in V1_1 if f not in ("home_elo", "away_elo")) + tuple(nba_data.MOMENTUM_FEATURES)
# v2.1: - h2h_home_win_pct, home_back_to_back, away_back_to_back; + home_elo, away_elo
_DROPPED_2_1 = ("h2h_home_win_pct", "home_back_to_back", "away_back_to_back")
V2_1 = (*(f for f in V2_0 if f not in _DROPPED_2_1), "home_elo", "away_elo")
# v2.2: - home_win_streak, away_win_streak; + h2h_home_win_pct
V2_2 = (*(f for f in V2_1 if f not in ("home_win_streak", "away_win_streak")), "h2h_home_win_pct")


@dataclass(frozen=True)
class RunSpec:
    role: str
    run_name: str
    algorithm: str
    model_version: str
    features: tuple[str, ...]
    hyperparams: dict[str, Any] = field(default_factory=dict)
    small_hyperparams: dict[str, Any] = field(default_factory=dict)
    fail: bool = False
    curves: bool = False
    description: str = ""


RUNS: tuple[RunSpec, ...] = (
    RunSpec(
        "baseline",
        "baseline_logreg_v1.0",
        "logistic_regression",
        "v1.0",
        V1_0,
        {"C": 1.0, "max_iter": 1000, "penalty": "l2"},
        description="Baseline: scaled logistic regression on rolling form, season record, rest and ELO.",
    ),
    RunSpec(
        "rf_v1_1",
        "random_forest_v1.1",
        "random_forest",
        "v1.1",
        V1_1,
        {"n_estimators": 200, "max_depth": 8, "min_samples_leaf": 5},
        {"n_estimators": 25},
        description="Random forest; adds elo_diff, head-to-head and back-to-back flags.",
    ),
    RunSpec(
        "misaligned",
        "rf_travel_v1.2",
        "random_forest",
        "v1.2",
        V1_2,
        {"n_estimators": 200, "max_depth": 8, "min_samples_leaf": 5},
        {"n_estimators": 25},
        description=(
            f"Experiment: adds {MISSING_FEATURE} (computed ad hoc in a notebook, "
            "never added to feature_repo)."
        ),
    ),
    RunSpec(
        "production",
        "gbm_momentum_v2.0",
        "gradient_boosting",
        "v2.0",
        V2_0,
        {"n_estimators": 200, "max_depth": 3, "learning_rate": 0.05, "subsample": 0.8},
        {"n_estimators": 110},
        curves=True,
        description="Gradient boosting; adds the 9 momentum features, drops raw ELO ratings.",
    ),
    RunSpec(
        "failed",
        "hgb_v2.1_rc",
        "hist_gradient_boosting",
        "v2.1",
        V2_1,
        {"max_iter": 300, "learning_rate": 0.0, "max_leaf_nodes": 31},
        fail=True,
        description="Release candidate with HistGradientBoosting; failed (learning_rate=0.0 is invalid).",
    ),
    RunSpec(
        "champion",
        "gbm_v2.1",
        "gradient_boosting",
        "v2.1",
        V2_1,
        {"n_estimators": 250, "max_depth": 3, "learning_rate": 0.04, "subsample": 0.8},
        {"n_estimators": 120},
        curves=True,
        description="Gradient boosting v2.1: drops h2h and back-to-backs, brings raw ELO back.",
    ),
    RunSpec(
        "challenger",
        "random_forest_v2.2",
        "random_forest",
        "v2.2",
        V2_2,
        {"n_estimators": 300, "max_depth": 10, "min_samples_leaf": 4},
        {"n_estimators": 30},
        description="Random forest v2.2: drops win streaks, brings h2h back.",
    ),
)

# Registry layout: role -> (stage, aliases). Run roles not listed are not registered.
REGISTRY: dict[str, tuple[str, tuple[str, ...]]] = {
    "baseline": ("Archived", ()),
    "rf_v1_1": ("Archived", ()),
    "misaligned": ("Archived", ()),
    "production": ("Production", ()),
    "champion": ("None", ("champion",)),
    "challenger": ("Staging", ("challenger",)),
}


# ---------------------------------------------------------------------------------------------
# The report


class SeededRun(BaseModel):
    role: str
    run_id: str
    run_name: str
    algorithm: str
    model_version: str
    status: str
    feature_count: int
    features: list[str]
    test_accuracy: float | None = None
    train_accuracy: float | None = None
    registered_version: int | None = None


class SeededVersion(BaseModel):
    version: int
    run_role: str
    run_id: str
    stage: str
    aliases: list[str] = []


class SeedReport(BaseModel):
    workdir: str
    tracking_uri: str
    feast_repo: str
    experiment: str = EXPERIMENT
    experiment_id: str
    model_name: str = MODEL_NAME
    small: bool
    runs: list[SeededRun]
    versions: list[SeededVersion]
    timings: dict[str, float]
    missing_feature: str = MISSING_FEATURE
    reused: bool = False

    @property
    def run_ids(self) -> dict[str, str]:
        return {r.role: r.run_id for r in self.runs}

    def run(self, role: str) -> SeededRun:
        return next(r for r in self.runs if r.role == role)

    def version_with(self, *, stage: str | None = None, alias: str | None = None) -> SeededVersion | None:
        for v in self.versions:
            if (stage and v.stage == stage) or (alias and alias in v.aliases):
                return v
        return None


# ---------------------------------------------------------------------------------------------
# Helpers shared with the runner and the tests


def feature_repo_source() -> Path:
    """The packaged `_feature_repo` of an installed wheel, else the repo's `feature_repo/`."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "_feature_repo", package_dir.parent.parent / "feature_repo"):
        if (candidate / "feature_store.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"feature_repo not found (looked in {package_dir / '_feature_repo'} and "
        f"{package_dir.parent.parent / 'feature_repo'})"
    )


def mlflow_db_uri(workdir: Path) -> str:
    return f"sqlite:///{Path(workdir).resolve() / 'mlflow.db'}"


def start_demo_mlflow(workdir: Path, port: int, log_file: Path | None = None) -> subprocess.Popen:
    """Start `mlflow server` over workdir's sqlite db and served artifacts (not waiting for it)."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    return processes.start_mlflow_server(
        port,
        mlflow_db_uri(workdir),
        artifacts_destination=workdir / "artifacts",
        log=log_file or workdir / "mlflow-server.log",
        cwd=workdir,
    )


@contextlib.contextmanager
def running_mlflow_server(workdir: Path, port: int | None = None) -> Iterator[str]:
    """`mlflow server` over workdir for the duration of the block; yields its URL."""
    port = port or free_port()
    proc = start_demo_mlflow(workdir, port)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_http(f"{url}/health", 180, proc)
        yield url
    finally:
        processes.stop_process(proc)


def load_report(workdir: Path) -> SeedReport | None:
    marker = Path(workdir) / MARKER
    if not marker.is_file():
        return None
    try:
        return SeedReport.model_validate_json(marker.read_text())
    except ValueError:
        return None


def reset_workdir(workdir: Path) -> None:
    """Delete everything seeding writes (the db, artifacts, feature repo, marker, server log)."""
    workdir = Path(workdir)
    for name in (MARKER, "mlflow.db", "mlflow.db-journal", "mlflow-server.log", "predictions.db"):
        (workdir / name).unlink(missing_ok=True)
    for name in ("artifacts", "feature_repo", "mlruns"):
        shutil.rmtree(workdir / name, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Seeding


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence MLflow's own chatter ('View run ...', INFO logs) around a call."""
    import io
    import logging

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _feast_apply_command(repo: Path) -> list[str]:
    code = "import sys; from feast.cli.cli import cli; sys.exit(cli())"
    return [sys.executable, "-c", code, "-c", str(repo), "apply"]


def _chunks(names: list[str], size: int = FEATURES_PER_PART) -> list[str]:
    return [",".join(names[i : i + size]) for i in range(0, len(names), size)]


def _travel_distance(game_ids: Any) -> Any:
    """A deterministic pseudo 'travel distance' (km) per game for the misaligned run."""
    import numpy as np

    ids = np.asarray(game_ids, dtype="int64")
    return ((ids * 2654435761) % 4000).astype("float64") + 150.0


def _make_model(spec: RunSpec, small: bool):
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    hp = {**spec.hyperparams, **(spec.small_hyperparams if small else {})}
    if spec.algorithm == "logistic_regression":
        clf = LogisticRegression(C=hp["C"], max_iter=hp["max_iter"], random_state=RANDOM_STATE)
        return make_pipeline(StandardScaler(), clf), hp
    if spec.algorithm == "random_forest":
        model = RandomForestClassifier(**hp, random_state=RANDOM_STATE, n_jobs=2)
        return model, hp
    if spec.algorithm == "gradient_boosting":
        return GradientBoostingClassifier(**hp, random_state=RANDOM_STATE), hp
    if spec.algorithm == "hist_gradient_boosting":
        return HistGradientBoostingClassifier(**hp, random_state=RANDOM_STATE), hp
    raise ValueError(spec.algorithm)


def _importances(model: Any, features: list[str]) -> dict[str, float]:
    import numpy as np

    est = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(est, "feature_importances_"):
        raw = np.asarray(est.feature_importances_, dtype=float)
    else:
        raw = np.abs(np.asarray(est.coef_, dtype=float)).ravel()
    total = float(raw.sum()) or 1.0
    pairs = sorted(zip(features, raw / total, strict=True), key=lambda p: (-p[1], p[0]))
    return {name: round(float(v), 4) for name, v in pairs}


def _log_curves(client: Any, run_id: str, model: Any, X_train, y_train, X_test, y_test) -> None:
    from mlflow.entities import Metric
    from sklearn.metrics import log_loss

    now = int(time.time() * 1000)
    metrics: list[Metric] = []
    train_stages = model.staged_predict_proba(X_train)
    test_stages = model.staged_predict_proba(X_test)
    for step, (p_train, p_test) in enumerate(zip(train_stages, test_stages, strict=True), start=1):
        metrics.append(Metric("train_logloss", round(float(log_loss(y_train, p_train)), 6), now + step, step))
        metrics.append(Metric("val_logloss", round(float(log_loss(y_test, p_test)), 6), now + step, step))
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i : i + 1000])


# ---------------------------------------------------------------------------------------------
# One run: split, fit, log params, metrics, artifacts and the model


@dataclass(frozen=True)
class _Split:
    X_train: Any
    X_test: Any
    y_train: Any
    y_test: Any
    dates: Any  # the frame's event timestamps, for the windows in run_info.txt
    train_mask: Any

    def window(self, train: bool) -> str:
        dates = self.dates[self.train_mask] if train else self.dates[~self.train_mask]
        return f"{dates.min().date()} .. {dates.max().date()}"


@dataclass(frozen=True)
class _Scores:
    train_accuracy: float
    test_accuracy: float
    proba_test: Any
    importances: dict[str, float]


def _split(frame: Any, train_mask: Any, features: list[str]) -> _Split:
    X = frame[features].astype("float64")
    y = frame[nba_data.LABEL].astype("int64").to_numpy()
    return _Split(
        X[train_mask],
        X[~train_mask],
        y[train_mask],
        y[~train_mask],
        frame[nba_data.TIMESTAMP_FIELD],
        train_mask,
    )


def _feast_refs(features: list[str]) -> list[str]:
    """The Feast refs of a run's features (MISSING_FEATURE has none: it is not in Feast)."""
    view_of = {f: "game_features" for f in nba_data.GAME_FEATURES} | {
        f: "game_momentum_features" for f in nba_data.MOMENTUM_FEATURES
    }
    return [f"{view_of[f]}:{f}" for f in features if f in view_of]


def _run_tags(spec: RunSpec, features: list[str]) -> dict[str, str]:
    """The seed's own tags; the feast.* tags are Feast's, set when the run reads its features."""
    return {
        "mlflow.runName": spec.run_name,
        "mlflow.note.content": spec.description,
        "mlflow.source.name": "orchestration/dagster/assets/ml/training.py",
        "mlflow.source.type": "LOCAL",
        "mlflow.user": "dagster",
        "model_type": spec.algorithm,
        "training_data": f"{nba_data.GAME_FEATURES_TABLE} + {nba_data.MOMENTUM_FEATURES_TABLE}",
    }


def _run_params(spec: RunSpec, hp: dict[str, Any], features: list[str]) -> dict[str, str]:
    return {
        "algorithm": spec.algorithm,
        "model_version": spec.model_version,
        "feature_count": str(len(features)),
        "random_state": str(RANDOM_STATE),
        **{k: str(v) for k, v in hp.items()},
        **{f"features_part{i}": chunk for i, chunk in enumerate(_chunks(features))},
    }


def _seeded_run(spec: RunSpec, run_id: str, features: list[str], scores: _Scores | None) -> SeededRun:
    return SeededRun(
        role=spec.role,
        run_id=run_id,
        run_name=spec.run_name,
        algorithm=spec.algorithm,
        model_version=spec.model_version,
        status="FINISHED" if scores else "FAILED",
        feature_count=len(features),
        features=features,
        test_accuracy=scores.test_accuracy if scores else None,
        train_accuracy=scores.train_accuracy if scores else None,
    )


def _log_failed_fit(
    client: Any, run_id: str, spec: RunSpec, model: Any, split: _Split, params: dict[str, str]
) -> SeededRun:
    """Log the params, fit (which must fail), record the real sklearn error and end the run FAILED."""
    from mlflow.entities import Param, RunTag

    client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()])
    try:
        model.fit(split.X_train, split.y_train)
    except Exception as exc:  # the real sklearn error is the failure this run records
        message = f"{type(exc).__name__}: {exc}"
        client.log_batch(run_id, tags=[RunTag("error", message[:4000])])
        with _quiet():
            client.set_terminated(run_id, status="FAILED")
        return _seeded_run(spec, run_id, list(spec.features), None)
    raise RuntimeError(f"run {spec.run_name} was meant to fail but trained")


def _fit_and_score(model: Any, split: _Split, features: list[str]) -> _Scores:
    from sklearn.metrics import accuracy_score

    model.fit(split.X_train, split.y_train)
    train_acc = round(float(accuracy_score(split.y_train, model.predict(split.X_train))), 4)
    proba_test = model.predict_proba(split.X_test)[:, 1]
    test_acc = round(float(accuracy_score(split.y_test, (proba_test >= 0.5).astype(int))), 4)
    return _Scores(train_acc, test_acc, proba_test, _importances(model, features))


def _log_params_and_metrics(
    client: Any, run_id: str, params: dict[str, str], scores: _Scores, split: _Split
) -> None:
    from mlflow.entities import Metric, Param

    top = dict(list(scores.importances.items())[:10])
    params = {**params, "top_features": json.dumps({k: round(v, 4) for k, v in top.items()})}
    client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()], metrics=[])
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[
            Metric("train_accuracy", scores.train_accuracy, now, 0),
            Metric("test_accuracy", scores.test_accuracy, now, 0),
            Metric("training_samples", float(len(split.y_train)), now, 0),
            Metric("test_samples", float(len(split.y_test)), now, 0),
        ],
    )


def _run_info(spec: RunSpec, hp: dict[str, Any], features: list[str], split: _Split, scores: _Scores) -> str:
    return "\n".join(
        [
            f"run_name: {spec.run_name}",
            f"algorithm: {spec.algorithm}",
            f"model_version: {spec.model_version}",
            f"feature_count: {len(features)}",
            f"feature_service: {FEATURE_SERVICE} (Feast get_historical_features)",
            f"training_data: {nba_data.GAME_FEATURES_TABLE}, {nba_data.MOMENTUM_FEATURES_TABLE}",
            f"train_window: {split.window(train=True)}",
            f"test_window: {split.window(train=False)}",
            f"training_samples: {len(split.y_train)}",
            f"test_samples: {len(split.y_test)}",
            f"train_accuracy: {scores.train_accuracy}",
            f"test_accuracy: {scores.test_accuracy}",
            f"hyperparameters: {json.dumps(hp, sort_keys=True)}",
            f"notes: {spec.description}",
            "",
        ]
    )


def _model_save_kwargs(
    spec: RunSpec, model: Any, split: _Split, pip_requirements: list[str]
) -> dict[str, Any]:
    from mlflow.models import infer_signature

    sample = split.X_train.head(5)
    kwargs: dict[str, Any] = {
        "signature": infer_signature(sample, model.predict(sample)),
        "pip_requirements": pip_requirements,
    }
    if spec.algorithm in ("random_forest", "gradient_boosting"):
        kwargs["skops_trusted_types"] = ["sklearn.tree._tree.Tree"]  # our own, just trained
    return kwargs


def _log_run_artifacts(
    client: Any,
    run_id: str,
    spec: RunSpec,
    hp: dict[str, Any],
    model: Any,
    split: _Split,
    scores: _Scores,
    save_kwargs: dict[str, Any],
) -> None:
    """training_artifacts/ (features, importances, run_info, calibrator), calibrator.pkl and model/."""
    import mlflow.sklearn
    from sklearn.isotonic import IsotonicRegression

    features = list(spec.features)
    # Calibrator: isotonic regression of the model's test-set probabilities (as the seed's training).
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    calibrator.fit(scores.proba_test, split.y_test)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ta = tmpdir / "training_artifacts"
        ta.mkdir()
        (ta / "features.json").write_text(json.dumps(features, indent=2))
        (ta / "feature_importances.json").write_text(json.dumps(scores.importances, indent=2))
        (ta / "run_info.txt").write_text(_run_info(spec, hp, features, split, scores))
        blob = pickle.dumps(calibrator)
        (ta / "calibrator.pkl").write_bytes(blob)
        (tmpdir / "calibrator.pkl").write_bytes(blob)
        client.log_artifacts(run_id, str(ta), "training_artifacts")
        client.log_artifact(run_id, str(tmpdir / "calibrator.pkl"))
        # The seed's runs show `model/` in the run's artifacts; MLflow 3 stores a logged model under
        # the LoggedModel, so the MLmodel directory is also saved into the run for the artifact view.
        mlflow.sklearn.save_model(model, str(tmpdir / "model"), **save_kwargs)
        client.log_artifacts(run_id, str(tmpdir / "model"), "model")


def enable_feast_mlflow(repo: Path, tracking_uri: str) -> None:
    """Turn Feast's MLflow integration on in the demo's copy of feature_repo, against this MLflow."""
    yaml_file = Path(repo) / "feature_store.yaml"
    head = yaml_file.read_text().split("\nmlflow:\n", 1)[0]
    yaml_file.write_text(
        f"{head}\n# this copy: on, against the demo's MLflow (mlflow-feast-mcp demo)\nmlflow:\n"
        f"  enabled: true\n  tracking_uri: {tracking_uri}\n  auto_log: true\n  log_operations: true\n"
    )


def _read_through_feast(store: Any, run_id: str, features: list[str], frame: Any) -> Any:
    """The run's features read point in time through Feast while the run is active, so Feast's MLflow
    integration tags it; rows in the frame's order, the ad-hoc MISSING_FEATURE column from it."""
    import mlflow

    keys = [nba_data.TIMESTAMP_FIELD, nba_data.ENTITY_KEY]
    entity_df = frame[[nba_data.ENTITY_KEY, nba_data.TIMESTAMP_FIELD, nba_data.LABEL]]
    with _quiet(), mlflow.start_run(run_id=run_id):
        read = store.get_historical_features(entity_df=entity_df, features=_feast_refs(features)).to_df()
    read = read.sort_values(keys).reset_index(drop=True).fillna(0)
    if MISSING_FEATURE in features:
        read[MISSING_FEATURE] = frame[MISSING_FEATURE].to_numpy()
    return read


def _train_and_log(
    client: Any,
    experiment_id: str,
    spec: RunSpec,
    frame: Any,
    train_mask: Any,
    small: bool,
    pip_requirements: list[str],
    store: Any,
) -> SeededRun:
    """One run of the history: created, its features read through Feast, trained (or failed),
    logged, its model logged, ended."""
    import mlflow
    import mlflow.sklearn

    features = list(spec.features)
    model, hp = _make_model(spec, small)
    run_id = client.create_run(
        experiment_id, run_name=spec.run_name, tags=_run_tags(spec, features)
    ).info.run_id
    split = _split(_read_through_feast(store, run_id, features, frame), train_mask, features)
    params = _run_params(spec, hp, features)
    if spec.fail:
        return _log_failed_fit(client, run_id, spec, model, split, params)

    scores = _fit_and_score(model, split, features)
    _log_params_and_metrics(client, run_id, params, scores, split)
    if spec.curves:
        _log_curves(client, run_id, model, split.X_train, split.y_train, split.X_test, split.y_test)
    save_kwargs = _model_save_kwargs(spec, model, split, pip_requirements)
    _log_run_artifacts(client, run_id, spec, hp, model, split, scores, save_kwargs)
    with _quiet(), mlflow.start_run(run_id=run_id):
        mlflow.sklearn.log_model(model, name="model", **save_kwargs)
    with _quiet():
        client.set_terminated(run_id, status="FINISHED")
    return _seeded_run(spec, run_id, features, scores)


# ---------------------------------------------------------------------------------------------
# The seed: named steps


@contextlib.contextmanager
def restoring_process_mlflow_uris() -> Iterator[None]:
    """Seeding sets MLflow's process-wide URIs for its fluent calls (and `set_tracking_uri` writes
    MLFLOW_TRACKING_URI into the environment, which subprocesses inherit); put the caller's back
    after, so a later `MlflowClient(tracking_uri=X)` or child process is not sent to the demo server."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    saved_env = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    try:
        yield
    finally:
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def seed(
    workdir: Path,
    tracking_uri: str,
    *,
    small: bool = False,
    progress: Callable[[str], None] = print,
    reset: bool = False,
    mlflow_ready: Callable[[], None] | None = None,
) -> SeedReport:
    """Build the demo world in `workdir` and log its history to `tracking_uri` (see module doc);
    `mlflow_ready` (e.g. waiting for a server just started) is called before the first MLflow call,
    after the Feast steps.

    Idempotent: if `workdir/.seeded.json` exists, its report is returned (``reused=True``, MLflow
    not imported nor called) unless `reset` (which only deletes the feature repo copy and the
    marker: reset the MLflow store yourself, e.g. with `reset_workdir` before starting the server)."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if reset:
        (workdir / MARKER).unlink(missing_ok=True)
        shutil.rmtree(workdir / "feature_repo", ignore_errors=True)
    existing = load_report(workdir)
    if existing is not None:
        progress(f"reusing the seeded demo in {workdir} (seeded {len(existing.runs)} runs; --reset rebuilds)")
        return existing.model_copy(update={"reused": True})
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # nothing leaves loopback
    with restoring_process_mlflow_uris():
        return _seed(workdir, tracking_uri, small=small, progress=progress, mlflow_ready=mlflow_ready)


def _import_training_stack() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow
        import mlflow.sklearn
        import sklearn
        from mlflow.tracking import MlflowClient
    del mlflow, sklearn, MlflowClient


def apply_example_repo(repo: Path, log: Path, meanwhile: Callable[[], None] | None = None) -> Path:
    """Copy the bundled NBA feature_repo to `repo` (replacing it), generate its data into
    `repo/data` and `feast apply` it, output to `log`; `meanwhile` runs while Feast applies.

    The apply runs in a subprocess: parse_repo imports the repo's modules by name, which a second
    apply in the same process would otherwise reuse from sys.modules."""
    repo = Path(repo).resolve()
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(
        feature_repo_source(), repo, ignore=shutil.ignore_patterns("data", "__pycache__", "*.pyc", ".ipynb*")
    )
    data_dir = repo / "data"
    nba_data.generate(data_dir)
    env = {**os.environ, "NBA_FEATURE_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
    Path(log).unlink(missing_ok=True)
    apply_proc = processes.start_process(_feast_apply_command(repo), log=Path(log), env=env, cwd=repo)
    try:
        if meanwhile is not None:
            meanwhile()
        rc = apply_proc.wait(timeout=300)
    finally:
        processes.stop_process(apply_proc)  # still running only after a timeout or an error meanwhile
    if rc != 0:
        raise RuntimeError(f"feast apply failed (exit {rc}); see {log}:\n{Path(log).read_text()[-3000:]}")
    return repo


def _training_frame(repo: Path) -> tuple[Any, Any]:
    """Step 2: the training frame, point in time, through Feast; and the 80/20 time split mask."""
    import pandas as pd
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(repo))
    labels = pd.read_parquet(repo / "data" / nba_data.LABELS_FILE)
    frame = store.get_historical_features(
        entity_df=labels, features=store.get_feature_service(FEATURE_SERVICE)
    ).to_df()
    frame = frame.sort_values([nba_data.TIMESTAMP_FIELD, nba_data.ENTITY_KEY]).reset_index(drop=True)
    frame[MISSING_FEATURE] = _travel_distance(frame[nba_data.ENTITY_KEY])
    frame = frame.fillna(0)
    cut = frame[nba_data.TIMESTAMP_FIELD].quantile(0.8)
    return frame, (frame[nba_data.TIMESTAMP_FIELD] <= cut).to_numpy()


def _open_experiment(workdir: Path, tracking_uri: str) -> tuple[Any, str]:
    """Step 3a: a client on `tracking_uri` (and the process-wide URIs the fluent log_model needs;
    `seed` restores them) and the experiment, created unless it exists without runs."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None and client.search_runs([experiment.experiment_id], max_results=1):
        raise RuntimeError(
            f"experiment {EXPERIMENT!r} already has runs at {tracking_uri} but {workdir / MARKER} is missing "
            "(an interrupted seed?): reset the store (mlflow-feast-mcp demo --reset) and seed again"
        )
    if experiment is not None:
        return client, experiment.experiment_id
    note = {"mlflow.note.content": "NBA game winner model (seeded by mlflow-feast-mcp demo)"}
    return client, client.create_experiment(EXPERIMENT, tags=note)


def _train_runs(
    client: Any,
    experiment_id: str,
    frame: Any,
    train_mask: Any,
    *,
    small: bool,
    progress: Callable[[str], None],
    timings: dict[str, float],
    store: Any,
) -> list[SeededRun]:
    """Step 3b: every run of RUNS, in order, timed."""
    import mlflow
    import sklearn

    pip_requirements = [f"mlflow=={mlflow.__version__}", f"scikit-learn=={sklearn.__version__}"]
    total = 3 + len(RUNS)
    runs: list[SeededRun] = []
    for i, spec in enumerate(RUNS, start=3):
        t = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = _train_and_log(
                client, experiment_id, spec, frame, train_mask, small, pip_requirements, store
            )
        runs.append(result)
        took = time.monotonic() - t
        timings[f"run_{spec.role}_s"] = round(took, 1)
        outcome = (
            f"test_accuracy={result.test_accuracy:.3f}"
            if result.status == "FINISHED"
            else "FAILED (as planned)"
        )
        progress(
            f"[{i}/{total}] training {spec.algorithm} {spec.model_version} "
            f"({len(spec.features)} features) ... {outcome} ({took:.1f}s)"
        )
    return runs


def _register_version(client: Any, run: SeededRun, stage: str, aliases: tuple[str, ...]) -> SeededVersion:
    artifact_uri = client.get_run(run.run_id).info.artifact_uri
    with _quiet():
        mv = client.create_model_version(MODEL_NAME, source=f"{artifact_uri}/model", run_id=run.run_id)
    version = str(mv.version)
    client.update_model_version(
        MODEL_NAME, version, description=f"{run.run_name}: {run.algorithm} {run.model_version}"
    )
    client.set_model_version_tag(MODEL_NAME, version, "model_version", run.model_version)
    if stage != "None":
        client.transition_model_version_stage(MODEL_NAME, version, stage)
    for alias in aliases:
        client.set_registered_model_alias(MODEL_NAME, alias, version)
    run.registered_version = int(version)
    return SeededVersion(
        version=int(version), run_role=run.role, run_id=run.run_id, stage=stage, aliases=list(aliases)
    )


def _register(client: Any, runs: list[SeededRun]) -> list[SeededVersion]:
    """Step 4: the registered model, then versions in run order with their stages and aliases."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(Exception):  # exists already
            client.create_registered_model(
                MODEL_NAME, description="Predicts the home team's win probability for an NBA game."
            )
        return [_register_version(client, run, *REGISTRY[run.role]) for run in runs if run.role in REGISTRY]


def _seed(
    workdir: Path,
    tracking_uri: str,
    *,
    small: bool,
    progress: Callable[[str], None],
    mlflow_ready: Callable[[], None] | None,
) -> SeedReport:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    total = 3 + len(RUNS)

    progress(f"[1/{total}] generating NBA data and applying feature_repo ({workdir / 'feature_repo'})")
    # meanwhile: the heavy imports
    repo = apply_example_repo(workdir / "feature_repo", workdir / "feast-apply.log", _import_training_stack)
    timings["feast_apply_s"] = round(time.monotonic() - t0, 1)

    t1 = time.monotonic()
    progress(f"[2/{total}] reading training data with Feast get_historical_features ({FEATURE_SERVICE})")
    frame, train_mask = _training_frame(repo)
    timings["historical_features_s"] = round(time.monotonic() - t1, 1)

    if mlflow_ready is not None:
        mlflow_ready()
    client, experiment_id = _open_experiment(workdir, tracking_uri)
    enable_feast_mlflow(repo, tracking_uri)
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(repo))  # its MLflow integration tags each run's reads
    runs = _train_runs(
        client, experiment_id, frame, train_mask, small=small, progress=progress, timings=timings, store=store
    )

    t2 = time.monotonic()
    progress(f"[{total}/{total}] registering {MODEL_NAME}: stages and aliases")
    versions = _register(client, runs)
    timings["registry_s"] = round(time.monotonic() - t2, 1)
    timings["total_s"] = round(time.monotonic() - t0, 1)

    report = SeedReport(
        workdir=str(workdir),
        tracking_uri=tracking_uri,
        feast_repo=str(repo),
        experiment_id=str(experiment_id),
        small=small,
        runs=runs,
        versions=versions,
        timings=timings,
    )
    (workdir / MARKER).write_text(report.model_dump_json(indent=2))
    progress(f"seeded {len(runs)} runs and {len(versions)} model versions in {timings['total_s']:.0f}s")
    return report


def main(argv: list[str] | None = None) -> int:
    """`python -m mlflow_feast_mcp.demo.seeder DIR [--small]`: seed through a temporary mlflow server."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m mlflow_feast_mcp.demo.seeder")
    p.add_argument("dir", type=Path)
    p.add_argument("--small", action="store_true")
    p.add_argument("--reset", action="store_true")
    args = p.parse_args(argv)
    if args.reset:
        reset_workdir(args.dir)
    if load_report(args.dir) is None:
        reset_workdir(args.dir)
    with running_mlflow_server(args.dir) as url:
        report = seed(args.dir, url, small=args.small)
    print(json.dumps(report.timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
