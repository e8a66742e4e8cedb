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

Moment = Annotated[str | None, Field(description="ISO time or a span back, e.g. '7d'", max_length=40)]

SAMPLE_ROWS = 5


async def predictions_spot_check(
    version_ref: Annotated[str, Field(description="e.g. '@champion'", max_length=500)] = "Production",
    model_name: ModelName = None,
    since: Moment = None,
    max_batches: Annotated[int, Field(ge=1, le=100)] = 10,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, PredictionsSpotCheck]:
    """Prediction batches: which versions wrote them, whether the newest is from Production now (else STALE), nulls, probability range, samples."""
    api, s = await deps.mlflow(), deps.settings
    name, ref = parse_model_ref(version_ref, model_name or s.default_model)
    query = SpotCheckQuery(name, ref, parse_moment(since, "since"), None, max_batches, SAMPLE_ROWS)
    store = await deps.predictions()
    return respond(await run_spot_check(api, store, query, s.response_budget))


TOOLS = (predictions_spot_check,)
