"""The seed's last validation step: spot-check the predictions table (`ml_dev.predictions`)."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..services.predictions import PredictionsSpotCheck, SpotCheckQuery, parse_moment, run_spot_check
from ..services.registry import parse_model_ref
from .deps import Deps
from .registry import ModelName
from .respond import respond

Moment = Annotated[
    str | None,
    Field(description="ISO date/time or a span back from now, e.g. '2025-04-12' or '7d'", max_length=40),
]


async def predictions_spot_check(
    version_ref: Annotated[
        str,
        Field(
            description="the version the newest batch should come from, e.g. 'Production', 'champion', '4'",
            min_length=1,
            max_length=500,
        ),
    ] = "Production",
    model_name: ModelName = None,
    since: Moment = None,
    until: Moment = None,
    max_batches: Annotated[int, Field(ge=1, le=100, description="newest batches to list, e.g. 10")] = 10,
    sample_rows: Annotated[
        int, Field(ge=0, le=20, description="rows of the newest batch to show, e.g. 5")
    ] = 5,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, PredictionsSpotCheck]:
    """Spot-check the predictions table (ml_dev.predictions) for a model: batches and their time range,
    the versions and runs that wrote them, whether the newest batch came from the version in Production
    now (STALE when not), NULLs, probability range and home/away balance against the writer's
    test_accuracy, sample rows. Read-only."""
    api, s = await deps.mlflow(), deps.settings
    name, ref = parse_model_ref(version_ref, model_name or s.default_model)
    query = SpotCheckQuery(
        name, ref, parse_moment(since, "since"), parse_moment(until, "until"), max_batches, sample_rows
    )
    store = await deps.predictions()
    return respond(await run_spot_check(api, store, query, s.response_budget))


TOOLS = (predictions_spot_check,)
