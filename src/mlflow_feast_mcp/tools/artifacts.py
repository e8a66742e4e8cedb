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
            description="folder inside the run, e.g. 'training_artifacts' or 'models/m-...'; omit for the root",
            max_length=1000,
        ),
    ] = None,
    depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description="folder levels to expand, e.g. 2")] = 2,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ArtifactTree]:
    """The artifact tree of a run with file sizes (folders expanded to `depth` levels): what the run
    logged, e.g. training_artifacts/features.json, and its MLflow 3 LoggedModels as models/<m-id>/
    folders (MLmodel, requirements.txt, input_example.json...)."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    return respond(await artifact_tree(api, run, path, depth, page_token, deps.settings.response_budget))


async def mlflow_read_artifact(
    run_id: RunRef,
    path: Annotated[
        str,
        Field(
            description="file inside the run, e.g. 'training_artifacts/features.json' or 'models/m-.../MLmodel'",
            min_length=1,
            max_length=1000,
        ),
    ],
    offset: Annotated[
        int, Field(ge=0, description="byte offset to start at, from a previous next_offset")
    ] = 0,
    max_bytes: Annotated[
        int | None,
        Field(ge=256, le=200_000, description="bytes to read (default: what the response budget allows)"),
    ] = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, ArtifactContent]:
    """The content of a text or JSON artifact (a LoggedModel's files too: 'models/<m-id>/MLmodel'), read
    in a bounded window with offset paging. Binary files (pickles, models, images) are described by
    size and type, never loaded or unpickled."""
    api = await deps.mlflow()
    run = await resolve_run(api, run_id, deps.settings.default_experiment)
    window = await read_artifact_window(api, run, path, offset, max_bytes, deps.settings.response_budget)
    return respond(window)


TOOLS = (mlflow_list_artifacts, mlflow_read_artifact)
