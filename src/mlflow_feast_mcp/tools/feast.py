"""Feast: feature views (batch, on-demand, stream), entities, data sources, feature services and the
version history of a view, read from the registry of the configured repo."""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from ..services.feast_catalog import (
    DataSourceList,
    EntityList,
    FeatureServiceList,
    FeatureViewAnswer,
    FeatureViewHistory,
    FeatureViewList,
    data_source_rows,
    describe_view_answer,
    entity_rows,
    feast_page,
    feature_service_rows,
    feature_view_history,
    feature_view_rows,
    matches,
)
from .common import PageToken, ResponseFormat
from .deps import Deps
from .respond import respond

ViewName = Annotated[
    str,
    Field(
        description="feature view name, e.g. 'game_features' (on-demand and stream views too)",
        min_length=1,
        max_length=300,
    ),
]
NameContains = Annotated[
    str | None, Field(description="case-insensitive part of the name, e.g. 'game'", max_length=200)
]
PageSize = Annotated[int, Field(ge=1, le=500, description="items per page, e.g. 50")]


async def feast_list_feature_views(
    name_contains: NameContains = None,
    entity: Annotated[
        str | None, Field(description="only views keyed by this entity, e.g. 'game'", max_length=200)
    ] = None,
    response_format: ResponseFormat = "concise",
    page_size: PageSize = 100,
    page_token: PageToken = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, FeatureViewList]:
    """Feature views of the Feast repo (batch, on-demand and stream), sorted by name: kind, entities,
    feature count, source, TTL, online flag and description ('detailed' adds owner and tags). Use
    feast_describe_feature_view for the fields and their types."""
    registry = await deps.feast()
    rows = [
        r
        for r in feature_view_rows(registry)
        if matches(r.name, name_contains) and (not entity or entity.strip() in r.entities)
    ]
    if response_format == "concise":
        rows = [r.model_copy(update={"owner": None, "tags": {}}) for r in rows]
    page = feast_page(
        "feast_list_feature_views",
        registry,
        rows,
        lambda items, **page: FeatureViewList(feature_views=items, **page),
        page_size,
        page_token,
        name_contains,
        entity,
        response_format,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_describe_feature_view(
    name: ViewName,
    field_contains: Annotated[
        str | None, Field(description="only fields whose name contains this, e.g. 'elo'", max_length=200)
    ] = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, FeatureViewAnswer]:
    """One feature view in full: every field with its dtype and description, entities with join keys and
    value types, the source (file path, table or query, timestamp field), TTL, online flag, owner, tags,
    current version and created/updated times (UTC). Works for on-demand and stream views."""
    registry = await deps.feast()
    return respond(describe_view_answer(registry, name, field_contains, deps.settings.response_budget))


async def feast_list_entities(
    name_contains: NameContains = None, page_size: PageSize = 100, page_token: PageToken = None, *, deps: Deps
) -> Annotated[CallToolResult, EntityList]:
    """Entities of the Feast repo: join key, value type, description, owner, tags and the feature views
    keyed by each."""
    registry = await deps.feast()
    rows = [r for r in entity_rows(registry) if matches(r.name, name_contains)]
    page = feast_page(
        "feast_list_entities",
        registry,
        rows,
        lambda items, **page: EntityList(entities=items, **page),
        page_size,
        page_token,
        name_contains,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_list_data_sources(
    name_contains: NameContains = None, page_size: PageSize = 100, page_token: PageToken = None, *, deps: Deps
) -> Annotated[CallToolResult, DataSourceList]:
    """Data sources of the Feast repo and what they point at: type, file path (and whether it exists),
    table or query, timestamp fields, description, tags, and the feature views reading each."""
    registry = await deps.feast()
    rows = [r for r in data_source_rows(registry) if matches(r.name or "", name_contains)]
    page = feast_page(
        "feast_list_data_sources",
        registry,
        rows,
        lambda items, **page: DataSourceList(data_sources=items, **page),
        page_size,
        page_token,
        name_contains,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_list_feature_services(
    name_contains: NameContains = None, page_size: PageSize = 50, page_token: PageToken = None, *, deps: Deps
) -> Annotated[CallToolResult, FeatureServiceList]:
    """Feature services of the Feast repo: the views and features each bundles, description, owner and
    tags."""
    registry = await deps.feast()
    rows = [r for r in feature_service_rows(registry) if matches(r.name, name_contains)]
    page = feast_page(
        "feast_list_feature_services",
        registry,
        rows,
        lambda items, **page: FeatureServiceList(feature_services=items, **page),
        page_size,
        page_token,
        name_contains,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_get_feature_view_history(
    name: ViewName, *, deps: Deps
) -> Annotated[CallToolResult, FeatureViewHistory]:
    """The registry's version history of a feature view (v0, v1, ...), oldest first, and what changed
    between consecutive versions: fields added, removed and retyped. `feast apply` records a new
    version when the schema or source changes."""
    registry = await deps.feast()
    budget = deps.settings.response_budget
    return respond(await anyio.to_thread.run_sync(feature_view_history, registry, name, budget))


TOOLS = (
    feast_list_feature_views,
    feast_describe_feature_view,
    feast_list_entities,
    feast_list_data_sources,
    feast_list_feature_services,
    feast_get_feature_view_history,
)
