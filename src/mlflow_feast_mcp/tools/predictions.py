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
    str | None, Field(description="ISO time or span back, e.g. '2025-04-12', '7d'", max_length=40)
]


async def predictions_spot_check(
    version_ref: Annotated[
        str,
        Field(description="version the newest batch should be from, e.g. 'Production', '4'", max_length=500),
    ] = "Production",
    model_name: ModelName = None,
    since: Moment = None,
    until: Moment = None,
    max_batches: Annotated[int, Field(ge=1, le=100, description="batches to list, e.g. 10")] = 10,
    sample_rows: Annotated[int, Field(ge=0, le=20, description="sample rows, e.g. 5")] = 5,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, PredictionsSpotCheck]:
    """Spot-check ml_dev.predictions for a model: batches and time range, the versions and runs that
    wrote them, whether the newest batch came from the version in Production now (STALE if not), NULLs,
    probability range and home/away balance vs the writer's test_accuracy, samples."""
    api, s = await deps.mlflow(), deps.settings
    name, ref = parse_model_ref(version_ref, model_name or s.default_model)
    query = SpotCheckQuery(
        name, ref, parse_moment(since, "since"), parse_moment(until, "until"), max_batches, sample_rows
    )
    store = await deps.predictions()
    return respond(await run_spot_check(api, store, query, s.response_budget))


TOOLS = (predictions_spot_check,)
