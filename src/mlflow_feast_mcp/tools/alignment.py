"""The cross-system check: does Feast define the features a run (or a model version) trained on,
as Feast is today and as it was when the run trained?"""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from ..core.errors import InvalidArgument
from ..services.alignment import AlignmentReport
from ..services.feast_alignment import align
from ..services.features import run_features
from ..services.mlflow_lookup import resolve_run
from ..services.registry import (
    looks_like_model_ref,
    parse_model_ref,
    resolve_model_version,
    source_run_of_version,
)
from .deps import Deps
from .respond import respond


async def check_feature_alignment(
    run_or_model: Annotated[
        str,
        Field(
            description="a run id, 'latest', a run name, or a model ref: 'game_winner_model@champion', "
            "'game_winner_model/Production', 'models:/game_winner_model/3'",
            min_length=1,
            max_length=500,
        ),
    ] = "latest",
    model_name: Annotated[
        str | None,
        Field(description="a registered model instead of a run, e.g. 'game_winner_model'", max_length=500),
    ] = None,
    version_ref: Annotated[
        str | None,
        Field(
            description="with model_name: version, alias or stage, e.g. 'champion' (default 'Production')",
            max_length=200,
        ),
    ] = None,
    project: Annotated[
        str | None,
        Field(
            description="Feast project; default the run's feast.project tag, e.g. 'retail'", max_length=200
        ),
    ] = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, AlignmentReport]:
    """Do Feast's definitions match what a run or model version trained on, today and as they were
    when it trained? Maps each feature to its view or reports it missing (closest names, other
    projects), unused view features, dtype mismatches, changes since training and the feature
    service; verdict first."""
    api, settings = await deps.mlflow(), deps.settings
    model_version, version_tags = None, {}
    if model_name is not None or version_ref is not None:
        if run_or_model.strip() != "latest":
            raise InvalidArgument(
                "Pass either run_or_model, or model_name/version_ref, not both. E.g. "
                "run_or_model='game_winner_model@champion', or model_name='game_winner_model', "
                "version_ref='champion'."
            )
        name, ref = model_name or settings.default_model, version_ref or "Production"
    elif looks_like_model_ref(run_or_model):
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
    report = await anyio.to_thread.run_sync(
        lambda: align(
            features, run, registry, project=project, model_version=model_version, version_tags=version_tags
        )
    )
    if run.status != "FINISHED":
        report.notes.append(f"the run's status is {run.status}")
    return respond(report)


TOOLS = (check_feature_alignment,)
