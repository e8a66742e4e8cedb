"""The Model Registry: models with aliases and latest versions, every version of one model, and
one version resolved from a number, alias, stage or 'latest'."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..services.registry import parse_model_ref
from ..services.registry_answers import (
    ModelDetail,
    ModelList,
    ModelVersionAnswer,
    describe_model_version,
    describe_registered_model,
    fit_model_version,
    list_registered_models,
)
from .common import PageToken, ResponseFormat
from .deps import Deps
from .respond import respond

ModelName = Annotated[
    str | None,
    Field(description="default if omitted", max_length=500),
]

VERSIONS_PER_PAGE = 50  # a page is also cut to the response budget


async def mlflow_list_registered_models(
    name_contains: Annotated[
        str | None, Field(description="part of the name, e.g. 'winner'", max_length=200)
    ] = None,
    page_size: Annotated[int, Field(ge=1, le=500)] = 100,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ModelList]:
    """Registered models, their aliases and newest version per stage."""
    api = await deps.mlflow()
    return respond(
        await list_registered_models(api, name_contains, page_size, page_token, deps.settings.response_budget)
    )


async def mlflow_get_registered_model(
    model_name: ModelName = None,
    stage: Annotated[str | None, Field(description="e.g. 'Production'", max_length=50)] = None,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ModelDetail]:
    """Every version of a registered model, newest first: stage, aliases, run, status, key metrics."""
    api, s = await deps.mlflow(), deps.settings
    detail = await describe_registered_model(
        api,
        model_name or s.default_model,
        stage,
        VERSIONS_PER_PAGE,
        page_token,
        s.response_budget,
        s.key_metrics,
    )
    return respond(detail)


async def mlflow_get_model_version(
    version_ref: Annotated[
        str,
        Field(
            description="e.g. 'Production', '3', '@champion', 'm-...'",
            min_length=1,
            max_length=500,
        ),
    ] = "Production",
    model_name: ModelName = None,
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ModelVersionAnswer]:
    """One model version from any MLflow reference (stages resolve as in MLflow): how it resolved, alias/stage conflicts, metrics, features."""
    api, s = await deps.mlflow(), deps.settings
    name, ref = parse_model_ref(version_ref, model_name or s.default_model)
    answer = await describe_model_version(api, name, ref, response_format == "detailed", s.key_metrics)
    return respond(fit_model_version(answer, s.response_budget), response_format == "detailed")


TOOLS = (mlflow_list_registered_models, mlflow_get_registered_model, mlflow_get_model_version)
