"""Exploring an experiment: which keys its runs log (before writing a filter), and many curves at once."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.types import CallToolResult
from pydantic import Field

from ..services.experiment_profile import ExperimentProfile, profile_experiment
from ..services.metric_history import MetricCurves, check_keys, curve_runs, metric_curves, step_window
from .common import ResponseFormat
from .deps import Deps
from .respond import respond
from .runs import ExperimentRef

Name = Annotated[str, Field(max_length=300)]


async def mlflow_describe_experiment(
    experiment: ExperimentRef = None,
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ExperimentProfile]:
    """An experiment at a glance: runs by status, time span, sweeps, each param/metric/tag key with run counts and values, models made from it."""
    s = deps.settings
    profile = await profile_experiment(
        await deps.mlflow(),
        experiment or s.default_experiment,
        s.describe_sample,
        response_format == "detailed",
        s.response_budget,
    )
    return respond(profile)


async def mlflow_get_metric_history(
    metric_keys: Annotated[
        list[Name],
        Field(min_length=1, max_length=10, description="e.g. ['train_loss', 'val_loss']"),
    ],
    run_ids: Annotated[
        list[Name] | None,
        Field(
            max_length=10,
            description="runs or model refs",
        ),
    ] = None,
    last_runs: Annotated[int, Field(ge=1, le=10, description="newest runs, e.g. 3")] = 1,
    experiment: ExperimentRef = None,
    x_axis: Literal["step", "timestamp"] = "step",
    steps: Annotated[
        str | None, Field(max_length=50, description="a step window, e.g. '100-500', '100-'")
    ] = None,
    max_points: Annotated[int, Field(ge=4, le=2000)] = 200,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, MetricCurves]:
    """Curves of several metrics and runs under one point budget: first, last, min, max and a downsampled x/y curve per series."""
    api, s = await deps.mlflow(), deps.settings
    keys = check_keys(metric_keys)
    runs = await curve_runs(
        api, run_ids, keys, experiment or s.default_experiment, last_runs, s.default_model
    )
    return respond(
        await metric_curves(api, runs, keys, x_axis, step_window(steps), max_points, s.response_budget)
    )


TOOLS = (mlflow_describe_experiment, mlflow_get_metric_history)
