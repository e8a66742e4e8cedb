"""Validation checks for runs that do not follow the seed's convention (autolog, a team's own names):
what the run's convention records is checked under the names in `conventions`; what it does not
record is skipped with the reason, never failed. Also which run a run is compared with: the previous
top-level run of its experiment, or the previous trial of its own sweep."""

from __future__ import annotations

import math
from typing import Any

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import Run
from ..core.formatting import round_number
from ..core.render import scalar
from . import conventions as conv
from .artifacts import list_dir
from .checks import Check, CheckStatus, Evidence, names
from .features import RunFeatures
from .runs import metrics_of

OVERFIT_GAP = 0.15  # a training score above the held-out one by more than this is suspicious
ACCURACY_DROP = 0.01  # a held-out score drop against the previous run worth a warning
SEED_ONLY = "model_version, feature_count and top_features are the seed's params, not this convention's"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_params_by_convention(run: Run, features: RunFeatures) -> Check:
    """An algorithm name under any convention name, and a recorded feature list."""
    convention = conv.convention_of(run)
    found = conv.algorithm_names(run)
    evidence: dict[str, Evidence] = {
        "convention": convention,
        "algorithm_names": [f"{n.source}={n.value}" for n in found],
        "feature_list_source": features.source,
        "feature_count": features.feature_count,
    }
    algorithm = f"algorithm {scalar(found[0].value)} ({found[0].source})" if found else "no algorithm name"
    feature_note = f"features from {features.source} ({features.feature_count})"
    missing = (
        []
        if found
        else [
            f"an algorithm name (param {', '.join(conv.ALGORITHM_PARAMS)}; tag {', '.join(conv.ALGORITHM_TAGS)})"
        ]
    )
    if features.source == "none":
        missing.append("a feature list")
    summary = f"{convention} convention: {algorithm}; {feature_note}; {SEED_ONLY}"
    status: CheckStatus = "pass"
    if missing:
        # a team's own convention may name its algorithm otherwise: only a missing feature list fails
        status = "fail" if convention == "autolog" or features.source == "none" else "warn"
        summary = f"{convention} convention: missing {'; '.join(missing)}; {feature_note}"
    return Check(name="params", status=status, summary=summary, evidence=evidence)


def check_metrics_by_convention(run: Run) -> Check:
    """A training and a held-out score under the convention's names, in range, not far apart."""
    metrics = metrics_of(run)
    convention = conv.convention_of(run)
    test_key = conv.test_score_key(metrics)
    train_key = conv.train_score_key(metrics, test_key)
    evidence: dict[str, Evidence] = {"convention": convention}
    evidence.update({k: metrics[k] for k in (train_key, test_key) if k})
    if not metrics:
        return Check(name="metrics", status="fail", summary="the run logged no metrics", evidence=evidence)
    if not (train_key or test_key):
        return Check(
            name="metrics",
            status="skipped",
            summary=f"{convention} convention: no training or held-out score under a known name "
            f"({', '.join(conv.TRAIN_SCORES + conv.TEST_SCORES)}, <Estimator>_score_<X>); "
            f"{len(metrics)} metrics logged",
            evidence=evidence,
        )
    fails, warns = [], []
    for key in (train_key, test_key):
        value = metrics.get(key) if key else None
        if key and conv.is_bounded_score(key, run) and (not _is_number(value) or not 0 <= value <= 1):
            fails.append(f"{key}={scalar(value)} outside [0, 1]")
    train, test = metrics.get(train_key or ""), metrics.get(test_key or "")
    comparable = (
        train_key
        and test_key
        and conv.is_bounded_score(train_key, run) == conv.is_bounded_score(test_key, run)
    )
    if comparable and _is_number(train) and _is_number(test) and not fails:
        gap = round_number(train - test)
        evidence["train_test_gap"] = gap
        if gap > OVERFIT_GAP:
            warns.append(f"{train_key} exceeds {test_key} by {gap} (> {OVERFIT_GAP}): overfitting?")
    values = ", ".join(f"{k}={scalar(metrics[k])}" for k in (train_key, test_key) if k)
    absent = "no held-out score" if not test_key else ("no training score" if not train_key else "")
    tail = f"; {absent}" if absent else ""
    tail += "; sample counts (training_samples, test_samples) are the seed's, not this convention's"
    status: CheckStatus = "fail" if fails else ("warn" if warns or absent else "pass")
    head = "; ".join(fails + warns) or f"{convention} convention: {values}"
    return Check(name="metrics", status=status, summary=f"{head}{tail}", evidence=evidence)


async def check_artifacts_by_convention(api: MlflowApi, run: Run) -> Check:
    """The run's LoggedModels hold its files in MLflow 3: each should have an MLmodel."""
    root = await list_dir(api, run.run_id, "")
    evidence: dict[str, Evidence] = {"root": names([f.path + ("/" if f.is_dir else "") for f in root])}
    if not run.model_ids:
        return Check(
            name="artifacts",
            status="skipped",
            summary=f"{conv.convention_of(run)} convention: no training_artifacts/ (the seed's) and no "
            f"logged model to check; {len(root)} top-level artifacts",
            evidence=evidence,
        )
    present, broken = [], []
    for model_id in run.model_ids[:10]:
        try:
            files = {f.path for f in await api.list_logged_model_artifacts(model_id, None)}
        except MlflowMissing:
            files = set()
        (present if "MLmodel" in files else broken).append(model_id)
        evidence[model_id] = names(sorted(files), 12)
    if broken:
        return Check(
            name="artifacts",
            status="fail",
            summary=f"logged model {', '.join(broken)} has no MLmodel file",
            evidence=evidence,
        )
    return Check(
        name="artifacts",
        status="pass",
        summary=f"logged model {', '.join(present)} with MLmodel (files under models/<id>/); "
        "training_artifacts/ is the seed's convention, not this one's",
        evidence=evidence,
    )


async def previous_run(api: MlflowApi, run: Run) -> Run | None:
    """What a run is compared with: for a sweep's trial, the trial of the same sweep started just
    before it; else the newest finished top-level run of the experiment started before it."""
    if not run.start_time:
        return None
    parent = conv.parent_of(run)
    scope = f"tags.{conv.PARENT_TAG} = '{parent}'" if parent else f"tags.{conv.PARENT_TAG} IS NULL"
    rows, _ = await api.search_runs(
        [run.experiment_id],
        f"{scope} and attributes.start_time <= {run.start_time}",
        ["attributes.start_time DESC"],
        100,
        None,
        "ACTIVE_ONLY",
    )
    # trials of one search (autolog's GridSearchCV) share a start time: ties go by end time
    mine = (run.start_time, run.end_time or 0)
    earlier = [
        r
        for r in rows
        if r.run_id != run.run_id and r.status == "FINISHED" and (r.start_time or 0, r.end_time or 0) < mine
    ]
    return max(earlier, key=lambda r: (r.start_time or 0, r.end_time or 0), default=None)


def comparison_metric(previous: dict[str, float | int], current: dict[str, float | int]) -> str | None:
    """The held-out score both runs logged: the seed's test_accuracy, else the convention's."""
    key = conv.test_score_key(current)
    return key if key and key in previous else None
