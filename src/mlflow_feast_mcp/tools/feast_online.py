"""Feast's serving side: what the online store holds for a few entity keys right now."""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from ..backends.feast_online import MAX_ENTITY_ROWS, read_online_features
from ..services.online_features import OnlineFeatures, online_features_answer
from .deps import Deps
from .respond import respond


async def feast_get_online_features(
    entity_rows: Annotated[
        list[dict[str, str | int]],
        Field(
            description="e.g. [{'game_id': 22401225}]",
            min_length=1,
            max_length=MAX_ENTITY_ROWS,
        ),
    ],
    feature_service: Annotated[str | None, Field(description="e.g. 'game_winner_v1'", max_length=300)] = None,
    features: Annotated[
        list[Annotated[str, Field(max_length=600)]] | None,
        Field(description="or refs, e.g. ['game_features:home_elo']", max_length=200),
    ] = None,
    project: Annotated[
        str | None,
        Field(description="default the repo's", max_length=300),
    ] = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, OnlineFeatures]:
    """Online-store values of a feature service or refs for up to 20 entity keys, with event timestamps."""
    registry = await deps.feast()
    read = await anyio.to_thread.run_sync(
        read_online_features,
        registry.store,
        registry.repo_path,
        project,
        feature_service,
        features,
        entity_rows,
    )
    return respond(online_features_answer(read, deps.settings.response_budget))


TOOLS = (feast_get_online_features,)
