"""A run's artifacts: the tree with sizes, and bounded reads of text and JSON files."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..services.artifacts import MAX_DEPTH, ArtifactContent, ArtifactTree, artifact_tree, read_artifact_window
from ..services.mlflow_lookup import resolve_run
from .common import PageToken, RunRef
from .deps import Deps
from .respond import respond


async def mlflow_list_artifacts(
    run_id: RunRef,
    path: Annotated[
        str | None,
        Field(
            description="a folder, e.g. 'training_artifacts'",
            max_length=1000,
        ),
    ] = None,
    depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description="levels, e.g. 2")] = 2,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ArtifactTree]:
    """A run's artifact tree with sizes; its LoggedModels show as models/<m-id>/."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    return respond(await artifact_tree(api, run, path, depth, page_token, deps.settings.response_budget))


async def mlflow_read_artifact(
    run_id: RunRef,
    path: Annotated[
        str,
        Field(
            description="e.g. 'training_artifacts/features.json'",
            min_length=1,
            max_length=1000,
        ),
    ],
    offset: Annotated[int, Field(ge=0, description="from next_offset")] = 0,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ArtifactContent]:
    """A text or JSON artifact in a bounded window (offset paging); binary files are described, never loaded."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    window = await read_artifact_window(api, run, path, offset, None, deps.settings.response_budget)
    return respond(window)


TOOLS = (mlflow_list_artifacts, mlflow_read_artifact)
