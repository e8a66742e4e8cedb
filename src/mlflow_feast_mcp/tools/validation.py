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
from .common import ResponseFormat, RunRef
from .deps import Deps
from .respond import respond


async def validate_training_run(
    run_id: RunRef = "latest",
    expected_model_version: Annotated[
        str | None,
        Field(description="e.g. 'v2.1'", max_length=200),
    ] = None,
    expected_feature_count: Annotated[int | None, Field(ge=0, description="e.g. 14")] = None,
    expected_algorithm: Annotated[
        str | None,
        Field(
            description="e.g. 'xgboost'",
            max_length=200,
        ),
    ] = None,
    compare_with_previous: Annotated[
        bool,
        Field(description="vs the previous top-level run"),
    ] = True,
    check_predictions: Annotated[bool, Field(description="also spot-check predictions")] = False,
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ValidationReport]:
    """The validation checklist for a run (default newest): params, metrics, artifacts, registry, Feast alignment and freshness, curves, changes since the last run; verdict first."""
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
    return respond(fit_report(report, settings.response_budget), response_format == "detailed")


TOOLS = (validate_training_run,)
