"""The names the server looks for in MLflow, in one place: the seed's convention first, then MLflow's
autolog names, then Feast's MLflow integration. A team that logs under other names adds them here
(earlier entries win); nothing else in the server spells these names.

Each helper answers from a run's params, tags and metrics and says where the answer came from, so a
check can report the evidence and skip, with the reason, what a run's convention does not record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..backends.mlflow_models import Run

# -- the seed's convention ------------------------------------------------------------------------
SEED_PARAMS = ("model_version", "feature_count", "algorithm", "top_features")
SEED_METRICS = ("train_accuracy", "test_accuracy", "training_samples", "test_samples")
FEATURE_PART = re.compile(r"^features_part(\d+)$")
FEATURE_COUNT = "feature_count"
TOP_FEATURES = "top_features"
MODEL_VERSION = "model_version"
FEATURES_JSON = "training_artifacts/features.json"
IMPORTANCES_JSON = "training_artifacts/feature_importances.json"
SEED_ARTIFACTS = (FEATURES_JSON, IMPORTANCES_JSON)
SEED_ARTIFACT_FOLDER = "training_artifacts"

# -- algorithm names: params first, then tags (autolog: estimator_name, estimator_class) ----------
ALGORITHM_PARAMS = ("algorithm", "model_type", "model_class", "algo")
ALGORITHM_TAGS = ("estimator_name", "estimator_class", "model_type", "algorithm")

# -- scores: the seed's, then autolog's training_* and post-training `<Estimator>_score_<X>` ------
TRAIN_SCORES = ("train_accuracy", "training_accuracy_score", "training_score", "train_score", "train_acc")
TEST_SCORES = ("test_accuracy", "val_accuracy", "test_score", "val_score", "test_acc", "validation_accuracy")
# autolog names a post-training metric after the estimator and the caller's variable: `..._score_X_test`
POST_TRAINING_SCORE = re.compile(r"^[A-Za-z][A-Za-z0-9]*_score_.+$")
SAMPLE_COUNTS = ("training_samples", "test_samples")
HELD_OUT_PREFIXES = ("test_", "val_", "valid", "eval_", "holdout")
BOUNDED_SCORE = re.compile(r"accuracy|roc_auc|(^|_)auc|f1|precision|recall", re.IGNORECASE)
LOWER_IS_BETTER = re.compile(r"loss|error|rmse|mse|mae|mape|rank|deviance|time", re.IGNORECASE)
SWEEP_METRIC_PARAMS = ("metric", "scoring", "objective", "optimize_metric", "target_metric")
SEARCH_METRICS = ("rank_test_score", "mean_test_score")  # GridSearchCV's candidates, best first

# -- labels: never features -----------------------------------------------------------------------
TARGET_PARAMS = ("target", "label", "target_column", "label_column", "target_col", "label_col")
LABEL_NAMES = ("target", "label", "labels", "y", "class", "outcome", "is_target")

# -- Feast's MLflow integration, and MLflow's own tags --------------------------------------------
FEAST_FEATURE_REFS = "feast.feature_refs"
FEAST_TAGS = (FEAST_FEATURE_REFS, "feast.feature_service", "feast.feature_views")
PARENT_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"
AUTOLOG_TAG = "mlflow.autologging"
AUTOLOG_DATASET = "dataset"  # the name autolog gives the data a fit saw
LOGGED_MODELS_PREFIX = "models/"  # where the artifact tools show a run's LoggedModels

Convention = Literal["seed", "autolog", "other"]


@dataclass(frozen=True)
class Named:
    """A value the run records and the key that recorded it (`param algorithm`, `tag estimator_name`)."""

    value: str
    source: str


def convention_of(run: Run) -> Convention:
    """`seed` when the run logs any of the seed's params or feature chunks; `autolog` when MLflow's
    autolog left its tags; else `other` (a team's own names)."""
    params = run.params
    if any(p in params for p in SEED_PARAMS) or any(FEATURE_PART.match(k) for k in params):
        return "seed"
    if AUTOLOG_TAG in run.tags or "estimator_name" in run.tags or "estimator_class" in run.tags:
        return "autolog"
    return "other"


def algorithm_names(run: Run) -> list[Named]:
    """Every algorithm name the run records, in convention order."""
    found = [Named(run.params[k], f"param {k}") for k in ALGORITHM_PARAMS if run.params.get(k, "").strip()]
    found += [Named(run.tags[k], f"tag {k}") for k in ALGORITHM_TAGS if run.tags.get(k, "").strip()]
    return found


def algorithm_of(run: Run) -> str | None:
    names = algorithm_names(run)
    return names[0].value if names else None


def matches_algorithm(expected: str, names: list[Named]) -> Named | None:
    """The recorded name equal to `expected` (case-insensitive), a dotted class path matching by
    its last part (`sklearn.ensemble._forest.RandomForestClassifier` is `RandomForestClassifier`)."""
    wanted = expected.strip().lower()
    for named in names:
        value = named.value.strip().lower()
        if wanted in (value, value.rsplit(".", 1)[-1]):
            return named
    return None


def post_training_scores(metrics: dict[str, float | int]) -> list[str]:
    """autolog's `<Estimator>_score_<X>` metrics (the training_* ones are not post-training)."""
    return sorted(
        k for k in metrics if POST_TRAINING_SCORE.match(k) and not k.startswith(("training_", "train_"))
    )


def train_score_key(metrics: dict[str, float | int], test_key: str | None = None) -> str | None:
    """The training score to compare with `test_key`: `training_score` pairs with an estimator's
    `.score()` (`<Estimator>_score_X_test`), else the first convention name present."""
    if test_key and POST_TRAINING_SCORE.match(test_key) and "training_score" in metrics:
        return "training_score"
    return next((k for k in TRAIN_SCORES if k in metrics), None)


def test_score_key(metrics: dict[str, float | int]) -> str | None:
    return next((k for k in TEST_SCORES if k in metrics), None) or next(
        iter(post_training_scores(metrics)), None
    )


def is_bounded_score(key: str, run: Run) -> bool:
    """Scores that live in [0, 1]: accuracies, AUCs, F1, precision, recall; an estimator's `.score()`
    only for classifiers (a regressor's is R², which can be negative)."""
    if key == "training_score" or key in post_training_scores({key: 0}):
        estimator = run.tags.get("estimator_class", "") + run.tags.get("estimator_name", "")
        return "Classifier" in estimator
    return bool(BOUNDED_SCORE.search(key))


def metric_order(keys: list[str], key_metrics: tuple[str, ...] | list[str]) -> list[str]:
    """Metrics in reading order: the configured key metrics; held-out scores (the convention's test
    scores, autolog's post-training ones, then any test_/val_ metric); training scores; the rest;
    other training metrics last."""
    present = set(keys)
    held_out = sorted(k for k in present if k.lower().startswith(HELD_OUT_PREFIXES))
    training = sorted(k for k in present if k.lower().startswith(("train", "training")))
    groups = (
        [k for k in key_metrics if k in present],
        [k for k in TEST_SCORES if k in present],
        post_training_scores(dict.fromkeys(keys, 0)),
        [k for k in SEARCH_METRICS if k in present],
        held_out,
        [k for k in TRAIN_SCORES if k in present],
        sorted(present - set(held_out) - set(training)),
        training,
    )
    return list(dict.fromkeys(k for group in groups for k in group))


def lower_is_better(metric: str) -> bool:
    return bool(LOWER_IS_BETTER.search(metric))


def target_columns(run: Run) -> set[str]:
    """Label columns the run names in its params (`target=home_team_won`)."""
    return {run.params[k] for k in TARGET_PARAMS if run.params.get(k, "").strip()}


def looks_like_label(column: str) -> bool:
    return column.strip().lower() in LABEL_NAMES


def parent_of(run: Run) -> str | None:
    return run.tags.get(PARENT_TAG) or None


def description_of(tags: dict[str, str]) -> str | None:
    return tags.get(NOTE_TAG) or None
