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
    list_registered_models,
)
from .common import PageToken, ResponseFormat
from .deps import Deps
from .respond import respond

ModelName = Annotated[
    str | None,
    Field(
        description="registered model name, e.g. 'game_winner_model'; omit for the default", max_length=500
    ),
]


async def mlflow_list_registered_models(
    name_contains: Annotated[
        str | None, Field(description="case-insensitive part of the name, e.g. 'winner'", max_length=200)
    ] = None,
    page_size: Annotated[int, Field(ge=1, le=500, description="models per page, e.g. 50")] = 100,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ModelList]:
    """Registered models with their aliases (alias -> version) and the newest version in each stage."""
    api = await deps.mlflow()
    return respond(
        await list_registered_models(api, name_contains, page_size, page_token, deps.settings.response_budget)
    )


async def mlflow_get_registered_model(
    model_name: ModelName = None,
    stage: Annotated[
        str | None, Field(description="only versions in this stage, e.g. 'Production'", max_length=50)
    ] = None,
    page_size: Annotated[int, Field(ge=1, le=200, description="versions per page, newest first")] = 50,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ModelDetail]:
    """Every version of a registered model, newest first: stage, aliases, source run, LoggedModel,
    status, creation time and its run's metrics (the key metrics first)."""
    api, s = await deps.mlflow(), deps.settings
    detail = await describe_registered_model(
        api, model_name or s.default_model, stage, page_size, page_token, s.response_budget, s.key_metrics
    )
    return respond(detail)


async def mlflow_get_model_version(
    version_ref: Annotated[
        str,
        Field(
            description="a number ('3'), an alias ('champion', '@champion'), a stage ('Production'), "
            "'latest', a LoggedModel id ('m-...'), or a full ref ('game_winner_model@champion', "
            "'models:/game_winner_model/Production', 'models:/m-...')",
            min_length=1,
            max_length=500,
        ),
    ] = "Production",
    model_name: ModelName = None,
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ModelVersionAnswer]:
    """One model version from any reference MLflow accepts ("what is in Production?"), with MLflow's
    semantics: a stage name answers as models:/name/<Stage> does; only an empty stage lets a same-named
    alias answer. Says what resolved it, flags alias/stage conflicts; includes the run's metrics, the
    LoggedModel's per-dataset metrics and the features."""
    api, s = await deps.mlflow(), deps.settings
    name, ref = parse_model_ref(version_ref, model_name or s.default_model)
    return respond(await describe_model_version(api, name, ref, response_format == "detailed", s.key_metrics))


TOOLS = (mlflow_list_registered_models, mlflow_get_registered_model, mlflow_get_model_version)
