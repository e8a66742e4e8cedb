"""Experiments and runs: list, search, one run in full, its features, comparisons."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..services.comparison import RunComparison, compare_runs, fit_comparison
from ..services.experiments import ExperimentList, list_experiments
from ..services.features import RunFeatures, fit_run_features, run_features
from ..services.mlflow_lookup import resolve_run
from ..services.registry import looks_like_model_ref, parse_model_ref, source_run_of_version
from ..services.run_detail import RunDetail, build_run_detail, fit_run_detail
from ..services.run_search import RunSearchPage, search_runs
from .common import PageToken, ResponseFormat, RunRef
from .deps import Deps
from .respond import respond

ExperimentRef = Annotated[
    str | None,
    Field(
        description="default if omitted",
        max_length=500,
    ),
]


async def mlflow_list_experiments(
    name_contains: Annotated[
        str | None, Field(description="part of the name, e.g. 'nba'", max_length=200)
    ] = None,
    include_deleted: Annotated[bool, Field(description="also deleted ones")] = False,
    page_size: Annotated[int, Field(ge=1, le=500)] = 100,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ExperimentList]:
    """MLflow experiments by name: id, times, tags, description."""
    api = await deps.mlflow()
    budget = deps.settings.response_budget
    return respond(await list_experiments(api, name_contains, include_deleted, page_size, page_token, budget))


async def mlflow_search_runs(
    experiment: ExperimentRef = None,
    filter: Annotated[
        str | None,
        Field(
            description="e.g. \"params.algorithm = 'xgboost'\"",
            max_length=2000,
        ),
    ] = None,
    status: Annotated[str | None, Field(description="e.g. 'FAILED'")] = None,
    order_by: Annotated[
        list[str] | None,
        Field(description="e.g. ['metrics.test_accuracy DESC']", max_length=5),
    ] = None,
    parent_run_id: Annotated[
        str | None,
        Field(description="list a sweep's trials", max_length=300),
    ] = None,
    include_children: Annotated[bool, Field(description="also child runs")] = False,
    page_size: Annotated[int, Field(ge=1, le=200)] = 20,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, RunSearchPage]:
    """Runs of an experiment, newest first: name, id, status, algorithm, feature count, key metrics; top-level runs (with child counts) unless asked."""
    s = deps.settings
    page = await search_runs(
        await deps.mlflow(),
        experiment or s.default_experiment,
        filter,
        status,
        order_by,
        page_size,
        page_token,
        s.response_budget,
        key_metrics=s.key_metrics,
        include_children=include_children,
        parent_run=parent_run_id,
    )
    return respond(page)


async def mlflow_get_run(
    run_id: RunRef, response_format: ResponseFormat = "concise", *, deps: Deps
) -> Annotated[CallToolResult, RunDetail]:
    """One run: params (features_part* folded), metrics, tags, artifacts, logged models, datasets, registry versions, a sweep's trials."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    detail = await build_run_detail(api, run, response_format == "detailed", deps.settings.key_metrics)
    return respond(fit_run_detail(detail, deps.settings.response_budget))


async def mlflow_get_run_features(
    run_id: RunRef, response_format: ResponseFormat = "concise", *, deps: Deps
) -> Annotated[CallToolResult, RunFeatures]:
    """The ordered features a run trained on, where recorded, top features, importances."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    features = fit_run_features(await run_features(api, run), deps.settings.response_budget)
    return respond(features, response_format == "detailed")


async def mlflow_compare_runs(
    run_ids: Annotated[
        list[str],
        Field(
            min_length=2,
            max_length=10,
            description="baseline first, e.g. ['game_winner_model/Production', 'latest']",
        ),
    ],
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, RunComparison]:
    """Runs or model versions against the first: params changed, metric deltas, features added and removed, importance shifts."""
    api, s = await deps.mlflow(), deps.settings
    runs, labels = [], []
    for ref in run_ids:
        if looks_like_model_ref(ref):
            run, label = await source_run_of_version(api, *parse_model_ref(ref, s.default_model))
        else:
            run, label = await resolve_run(api, ref, s.default_experiment), None
        runs.append(run)
        labels.append(label)
    comparison = fit_comparison(await compare_runs(api, runs, labels, s.key_metrics), s.response_budget)
    return respond(comparison, response_format == "detailed")


TOOLS = (
    mlflow_list_experiments,
    mlflow_search_runs,
    mlflow_get_run,
    mlflow_get_run_features,
    mlflow_compare_runs,
)
