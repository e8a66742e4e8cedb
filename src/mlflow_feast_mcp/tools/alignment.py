"""The cross-system check: does Feast define the features a run (or a model version) trained on?"""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..core.errors import InvalidArgument
from ..services.alignment import AlignmentReport, check_alignment
from ..services.feast_catalog import feature_index, view_features
from ..services.features import run_features
from ..services.mlflow_lookup import resolve_run
from ..services.registry import looks_like_model_ref, parse_model_ref, source_run_of_version
from .deps import Deps
from .respond import respond


async def check_feature_alignment(
    run_or_model: Annotated[
        str,
        Field(
            description="what to check: a run id (32 hex chars), 'latest' (newest run of the default "
            "experiment), a run name, or a model reference: 'game_winner_model@champion', "
            "'game_winner_model/Production', 'models:/game_winner_model/3'",
            min_length=1,
            max_length=500,
        ),
    ] = "latest",
    model_name: Annotated[
        str | None,
        Field(
            description="check a registered model version instead of a run, e.g. 'game_winner_model' "
            "(default model if only version_ref is given); leave run_or_model at 'latest'",
            max_length=500,
        ),
    ] = None,
    version_ref: Annotated[
        str | None,
        Field(
            description="with model_name: a version number, alias or stage, e.g. '3', 'champion', "
            "'Production' (default 'Production')",
            max_length=200,
        ),
    ] = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, AlignmentReport]:
    """Do the Feast definitions match what a run or model version trained on? Maps every training
    feature (plain or 'view:feature') to the Feast view defining it or reports it missing with the
    closest Feast names, lists the relevant views' features the run did not use, flags dtype
    mismatches where the run recorded types, and starts with a one-line verdict: ALIGNED, MISALIGNED
    or UNKNOWN (the run recorded no feature list)."""
    api, settings = await deps.mlflow(), deps.settings
    model_version = None
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
    else:
        run = await resolve_run(api, run_or_model, settings.default_experiment)
    features = await run_features(api, run)
    registry = await deps.feast()
    report = check_alignment(features, feature_index(registry), view_features(registry), model_version)
    if run.status != "FINISHED":
        report.notes.append(f"the run's status is {run.status}")
    return respond(report)


TOOLS = (check_feature_alignment,)
