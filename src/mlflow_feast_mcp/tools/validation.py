"""The seed's validation checklist as one tool: is this training run valid?"""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from ..core.errors import DomainError
from ..services.features import run_features
from ..services.mlflow_lookup import resolve_run
from ..services.predictions import predictions_step, skipped_predictions, with_check
from ..services.validation import (
    ValidationReport,
    check_feast_alignment,
    fit_report,
    skipped_alignment,
    validate_run,
)
from .common import RunRef
from .deps import Deps
from .respond import respond


async def validate_training_run(
    run_id: RunRef = "latest",
    expected_model_version: Annotated[
        str | None,
        Field(description="the model_version param the run should have, e.g. 'v2.1'", max_length=200),
    ] = None,
    expected_feature_count: Annotated[
        int | None, Field(ge=0, le=1_000_000, description="how many features it should use, e.g. 14")
    ] = None,
    expected_algorithm: Annotated[
        str | None,
        Field(
            description="an algorithm name it should record, e.g. 'xgboost' or 'RandomForestClassifier'",
            max_length=200,
        ),
    ] = None,
    compare_with_previous: Annotated[
        bool,
        Field(description="also compare with the previous top-level run (a trial: the previous trial)"),
    ] = True,
    check_predictions: Annotated[
        bool, Field(description="also spot-check ml_dev.predictions (predictions_spot_check), e.g. true")
    ] = False,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ValidationReport]:
    """The seed's validation checklist for a training run (default: the newest run of the default
    experiment), each check pass/fail/warn/skipped with its evidence: the run finished; params
    (algorithm, features; the seed's model_version, feature_count, top_features); metrics present and
    sane (scores in [0, 1], train not far above test, sample counts); artifacts (training_artifacts/
    or the logged model's MLmodel); feature_count; a registry version; Feast alignment; optional
    expectations; changes since the previous top-level run; curves (overfitting, convergence, NaN, train/val gap); optionally the predictions spot-check. Checks a run's convention (seed, autolog)
    does not record are skipped with the reason. The first line is the verdict."""
    api, settings = await deps.mlflow(), deps.settings
    run = await resolve_run(api, run_id, settings.default_experiment)
    features = await run_features(api, run)
    try:
        registry = await deps.feast()
    except DomainError as exc:
        alignment = skipped_alignment(f"Feast unavailable: {exc}")
    else:
        alignment = await anyio.to_thread.run_sync(check_feast_alignment, features, registry, run)
    report = await validate_run(
        api,
        run,
        default_experiment=settings.default_experiment,
        default_model=settings.default_model,
        alignment=alignment,
        expected_model_version=expected_model_version,
        expected_feature_count=expected_feature_count,
        expected_algorithm=expected_algorithm,
        compare_with_previous=compare_with_previous,
        features=features,
        key_metrics=settings.key_metrics,
    )
    if check_predictions:
        try:
            store = await deps.predictions()
        except DomainError as exc:
            step = skipped_predictions(f"predictions not checked: {exc}")
        else:
            step = await predictions_step(api, store, run, settings.default_model, settings.response_budget)
        report = with_check(report, step)
    return respond(fit_report(report, settings.response_budget))


TOOLS = (validate_training_run,)
