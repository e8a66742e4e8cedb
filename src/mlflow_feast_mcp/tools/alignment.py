"""The cross-system check: does Feast define the features a run (or a model version) trained on,
as Feast is today and as it was when the run trained?"""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from ..services.alignment import AlignmentReport, fit_alignment
from ..services.feast_alignment import align
from ..services.features import run_features
from ..services.mlflow_lookup import resolve_run
from ..services.registry import (
    looks_like_model_ref,
    parse_model_ref,
    resolve_model_version,
    source_run_of_version,
)
from .common import ResponseFormat
from .deps import Deps
from .respond import respond


async def check_feature_alignment(
    run_or_model: Annotated[
        str,
        Field(
            description="e.g. 'latest', 'game_winner_model@champion'",
            min_length=1,
            max_length=500,
        ),
    ] = "latest",
    project: Annotated[
        str | None,
        Field(description="default the run's", max_length=200),
    ] = None,
    response_format: ResponseFormat = "concise",
    *,
    deps: Deps,
) -> Annotated[CallToolResult, AlignmentReport]:
    """Do Feast's definitions match what a run or model version trained on, now and when it trained? Found, missing, retyped, unused; verdict first."""
    api, settings = await deps.mlflow(), deps.settings
    model_version, version_tags = None, {}
    if looks_like_model_ref(run_or_model):
        name, ref = parse_model_ref(run_or_model, settings.default_model)
    else:
        name = ref = None
    if name is not None and ref is not None:
        run, model_version = await source_run_of_version(api, name, ref)
        version_tags = (await resolve_model_version(api, name, ref))[1].tags
    else:
        run = await resolve_run(api, run_or_model, settings.default_experiment)
    features = await run_features(api, run)
    registry = await deps.feast()

    def answer() -> CallToolResult:  # CPU on a wide run: in a worker thread, all of it, rendering too
        report = align(
            features, run, registry, project=project, model_version=model_version, version_tags=version_tags
        )
        if run.status != "FINISHED":
            report.notes.append(f"the run's status is {run.status}")
        return respond(fit_alignment(report, settings.response_budget), response_format == "detailed")

    return await anyio.to_thread.run_sync(answer)


TOOLS = (check_feature_alignment,)
