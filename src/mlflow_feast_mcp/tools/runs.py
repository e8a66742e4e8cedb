"""Experiments and runs: list, search, one run in full, its features, comparisons."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..services.comparison import RunComparison, compare_runs
from ..services.experiments import ExperimentList, list_experiments
from ..services.features import RunFeatures, run_features
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
        description="Experiment name or id, e.g. 'nba_game_winner_prediction'; omit for the default",
        max_length=500,
    ),
]


async def mlflow_list_experiments(
    name_contains: Annotated[
        str | None, Field(description="case-insensitive part of the name, e.g. 'nba'", max_length=200)
    ] = None,
    include_deleted: Annotated[bool, Field(description="also list deleted experiments")] = False,
    page_size: Annotated[int, Field(ge=1, le=500, description="experiments per page, e.g. 50")] = 100,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ExperimentList]:
    """Which MLflow experiments exist: name, id, creation and last-update time, tags. Sorted by name."""
    api = await deps.mlflow()
    budget = deps.settings.response_budget
    return respond(await list_experiments(api, name_contains, include_deleted, page_size, page_token, budget))


async def mlflow_search_runs(
    experiment: ExperimentRef = None,
    filter: Annotated[
        str | None,
        Field(
            description="MLflow filter, e.g. \"metrics.test_accuracy > 0.65 and params.algorithm = 'xgboost'\"",
            max_length=2000,
        ),
    ] = None,
    status: Annotated[
        str | None, Field(description="only runs in this status: FINISHED, FAILED, RUNNING, KILLED")
    ] = None,
    order_by: Annotated[
        list[str] | None,
        Field(description="e.g. ['metrics.test_accuracy DESC']; default newest first", max_length=5),
    ] = None,
    metric_keys: Annotated[
        list[str] | None,
        Field(
            description="metrics to show as columns besides the key metrics, e.g. ['val_roc_auc']",
            max_length=20,
        ),
    ] = None,
    parent_run_id: Annotated[
        str | None,
        Field(
            description="list this run's children (a sweep's trials), best first; id or name", max_length=300
        ),
    ] = None,
    include_children: Annotated[bool, Field(description="also list nested (child) runs")] = False,
    page_size: Annotated[int, Field(ge=1, le=200, description="runs per page, e.g. 20")] = 20,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, RunSearchPage]:
    """Runs of an experiment (the default one if omitted), newest first unless ordered: top-level runs
    with their child count, or one parent's children best first. Each row: name, id, start, status,
    model_version, algorithm, feature_count, key metrics then others. MLflow filter syntax."""
    s = deps.settings
    page = await search_runs(
        await deps.mlflow(),
        experiment or s.default_experiment,
        filter,
        status,
        order_by,
        metric_keys,
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
    """One run in full: status, times, description, params (features_part* folded into one feature
    list), metrics, tags, artifacts, the LoggedModels it logged (id, name, metrics), datasets, registry
    versions; a sweep's trials best first, or a trial's parent."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    detail = await build_run_detail(api, run, response_format == "detailed", deps.settings.key_metrics)
    return respond(fit_run_detail(detail, deps.settings.response_budget))


async def mlflow_get_run_features(run_id: RunRef, *, deps: Deps) -> Annotated[CallToolResult, RunFeatures]:
    """The ordered feature list a run trained on and where it was recorded (features.json, else the
    features_part* params, else its logged model's signature, else Feast's feast.feature_refs tag,
    else a logged dataset schema), labels left out, with top_features and importances."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    return respond(await run_features(api, run))


async def mlflow_compare_runs(
    run_ids: Annotated[
        list[str],
        Field(
            min_length=2,
            max_length=10,
            description="2-10 runs, the first is the baseline: run ids, 'latest', run names, or model "
            "versions by their training run, e.g. ['game_winner_model/Production', 'game_winner_model/Staging']",
        ),
    ],
    *,
    deps: Deps,
) -> Annotated[CallToolResult, RunComparison]:
    """Runs (or model versions, by their training runs) side by side against the first: params that
    changed, metric deltas, features added and removed, and how the top features' importances shifted."""
    api, s = await deps.mlflow(), deps.settings
    runs, labels = [], []
    for ref in run_ids:
        if looks_like_model_ref(ref):
            run, label = await source_run_of_version(api, *parse_model_ref(ref, s.default_model))
        else:
            run, label = await resolve_run(api, ref, s.default_experiment), None
        runs.append(run)
        labels.append(label)
    return respond(await compare_runs(api, runs, labels, s.key_metrics))


TOOLS = (
    mlflow_list_experiments,
    mlflow_search_runs,
    mlflow_get_run,
    mlflow_get_run_features,
    mlflow_compare_runs,
)
