"""Exploring an experiment: which keys its runs log (before writing a filter), and many curves at once."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.types import CallToolResult
from pydantic import Field

from ..services.experiment_profile import DEFAULT_SAMPLE, ExperimentProfile, profile_experiment
from ..services.metric_history import MetricCurves, check_keys, curve_runs, metric_curves
from .common import ResponseFormat
from .deps import Deps
from .respond import respond
from .runs import ExperimentRef

Name = Annotated[str, Field(max_length=300)]


async def mlflow_describe_experiment(
    experiment: ExperimentRef = None,
    sample_size: Annotated[
        int, Field(ge=10, le=5000, description="newest runs to read for the statistics, e.g. 1000")
    ] = DEFAULT_SAMPLE,
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ExperimentProfile]:
    """One experiment at a glance, before writing a filter: runs by status, time span, top-level vs
    child runs (sweeps), every param/metric/tag key with how many runs carry it and its range or
    top values, models registered from its runs, its description."""
    s = deps.settings
    profile = await profile_experiment(
        await deps.mlflow(),
        experiment or s.default_experiment,
        sample_size,
        response_format == "detailed",
        s.response_budget,
    )
    return respond(profile)


async def mlflow_get_metric_history(
    metric_keys: Annotated[
        list[Name],
        Field(min_length=1, max_length=10, description="metrics, e.g. ['train_loss', 'val_loss']"),
    ],
    run_ids: Annotated[
        list[Name] | None,
        Field(
            max_length=10,
            description="ids, names, 'latest' or model versions, e.g. ['latest', 'm@champion']; "
            "omit for the newest runs that logged the metrics",
        ),
    ] = None,
    last_runs: Annotated[
        int, Field(ge=1, le=10, description="without run_ids: how many newest runs, e.g. 3")
    ] = 1,
    experiment: ExperimentRef = None,
    x_axis: Annotated[
        Literal["step", "timestamp"], Field(description="'step', or 'timestamp' (seconds since start)")
    ] = "step",
    min_step: Annotated[int | None, Field(ge=0, description="first step to include, e.g. 100")] = None,
    max_step: Annotated[int | None, Field(ge=0, description="last step to include, e.g. 500")] = None,
    max_points: Annotated[
        int, Field(ge=4, le=2000, description="points shared by all series, e.g. 200")
    ] = 200,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, MetricCurves]:
    """Curves of several metrics and runs in one call, one point budget shared fairly: per series
    first, last, min and max with their steps and a downsampled [x, y] list; `missing` names the
    run/metric pairs without data."""
    api, s = await deps.mlflow(), deps.settings
    keys = check_keys(metric_keys)
    runs = await curve_runs(
        api, run_ids, keys, experiment or s.default_experiment, last_runs, s.default_model
    )
    return respond(
        await metric_curves(api, runs, keys, x_axis, (min_step, max_step), max_points, s.response_budget)
    )


TOOLS = (mlflow_describe_experiment, mlflow_get_metric_history)
