"""MLflow 3 LoggedModels: search an experiment's models, or read one by id."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..services.logged_models import LoggedModelPage, describe_model, search_models
from ..services.mlflow_lookup import resolve_experiment
from .common import PageToken
from .deps import Deps
from .respond import respond
from .runs import ExperimentRef


async def mlflow_search_logged_models(
    experiment: ExperimentRef = None,
    model_id: Annotated[
        str | None,
        Field(
            description="e.g. 'm-3f2a...'",
            max_length=40,
        ),
    ] = None,
    filter: Annotated[
        str | None,
        Field(
            description='AND only, e.g. "metrics.val_accuracy > 0.9"',
            max_length=2000,
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        Field(
            description="e.g. 'test'",
            max_length=500,
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        Field(description="e.g. ['metrics.val_accuracy DESC']", max_length=5),
    ] = None,
    page_size: Annotated[int, Field(ge=1, le=100)] = 20,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, LoggedModelPage]:
    """MLflow 3 LoggedModels (m-...): run, status, metrics per dataset, versions; model_id gives one with params, signature, files."""
    api, s = await deps.mlflow(), deps.settings
    if model_id:
        return respond(await describe_model(api, model_id, s.key_metrics, s.response_budget))
    exp = await resolve_experiment(api, experiment or s.default_experiment)
    page = await search_models(
        api, exp, filter, dataset, order_by, page_size, page_token, s.response_budget, s.key_metrics
    )
    return respond(page)


TOOLS = (mlflow_search_logged_models,)
