"""Feast: the projects of the registry and, per project, feature views of every kind, entities, data
sources, feature services, a view's version history and the project's change log."""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from ..core.errors import DomainError
from ..services.feast_catalog import (
    DataSourceList,
    EntityList,
    FeatureServiceList,
    FeatureViewAnswer,
    FeatureViewList,
    ProjectList,
    data_source_rows,
    describe_view_answer,
    entity_rows,
    feast_page,
    feature_service_rows,
    feature_view_rows,
    matches,
    projects_page,
)
from ..services.feast_changes import change_log, ops_runs, registry_versions
from ..services.feast_history import FeatureViewHistory, feature_view_history
from .common import PageToken, ResponseFormat
from .deps import Deps
from .respond import respond

ViewName = Annotated[
    str,
    Field(description="view name, e.g. 'game_features'", min_length=1, max_length=300),
]
NameContains = Annotated[str | None, Field(description="part of the name, e.g. 'game'", max_length=200)]
Project = Annotated[
    str | None,
    Field(description="default the repo's", max_length=200),
]
PAGE_SIZE = 100  # items per page of a Feast list (a page is also cut to the response budget)


async def feast_list_projects(
    page_token: PageToken = None, *, deps: Deps
) -> Annotated[CallToolResult, ProjectList]:
    """Projects of the Feast registry, the default marked, with view and service counts."""
    registry = await deps.feast()
    return respond(projects_page(registry, PAGE_SIZE, page_token, deps.settings.response_budget))


async def feast_list_feature_views(
    name_contains: NameContains = None,
    entity: Annotated[str | None, Field(description="e.g. 'game'", max_length=200)] = None,
    response_format: ResponseFormat = "concise",
    page_token: PageToken = None,
    project: Project = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, FeatureViewList]:
    """Feature views of every kind: entities, feature count, how each is fed, TTL ('detailed' adds freshness, owner, tags)."""
    feast = (await deps.feast()).select(project)
    detailed = response_format == "detailed"
    rows = [
        r
        for r in feature_view_rows(feast, detailed)
        if matches(r.name, name_contains) and (not entity or entity.strip() in r.entities)
    ]
    page = feast_page(
        "feast_list_feature_views",
        feast,
        rows,
        lambda items, **page: FeatureViewList(feature_views=items, **page),
        PAGE_SIZE,
        page_token,
        name_contains,
        entity,
        response_format,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_describe_feature_view(
    name: ViewName,
    field_contains: Annotated[str | None, Field(description="e.g. 'elo'", max_length=200)] = None,
    project: Project = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, FeatureViewAnswer]:
    """One feature view: fields and dtypes, entities, sources, request fields, transformation, aggregations, TTL, freshness, version."""
    feast = (await deps.feast()).select(project)
    return respond(describe_view_answer(feast, name, field_contains, deps.settings.response_budget))


async def feast_list_entities(
    name_contains: NameContains = None,
    page_token: PageToken = None,
    project: Project = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, EntityList]:
    """Entities: join key, value type, description, views keyed by each."""
    feast = (await deps.feast()).select(project)
    rows = [r for r in entity_rows(feast) if matches(r.name, name_contains)]
    page = feast_page(
        "feast_list_entities",
        feast,
        rows,
        lambda items, **page: EntityList(entities=items, **page),
        PAGE_SIZE,
        page_token,
        name_contains,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_list_data_sources(
    name_contains: NameContains = None,
    page_token: PageToken = None,
    project: Project = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, DataSourceList]:
    """Data sources and what they point at (file, table, push, request schema, Kafka), and the views reading each."""
    feast = (await deps.feast()).select(project)
    rows = [r for r in data_source_rows(feast) if matches(r.name or "", name_contains)]
    page = feast_page(
        "feast_list_data_sources",
        feast,
        rows,
        lambda items, **page: DataSourceList(data_sources=items, **page),
        PAGE_SIZE,
        page_token,
        name_contains,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_list_feature_services(
    name_contains: NameContains = None,
    page_token: PageToken = None,
    project: Project = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, FeatureServiceList]:
    """Feature services and the views and features each bundles."""
    feast = (await deps.feast()).select(project)
    rows = [r for r in feature_service_rows(feast) if matches(r.name, name_contains)]
    page = feast_page(
        "feast_list_feature_services",
        feast,
        rows,
        lambda items, **page: FeatureServiceList(feature_services=items, **page),
        PAGE_SIZE,
        page_token,
        name_contains,
        budget=deps.settings.response_budget,
    )
    return respond(page)


async def feast_get_feature_view_history(
    name: Annotated[
        str | None,
        Field(description="a view; omit for the change log", max_length=300),
    ] = None,
    project: Project = None,
    *,
    deps: Deps,
) -> Annotated[CallToolResult, FeatureViewHistory]:
    """A view's versions and what each changed; without name, the project's change log (applies, materializations)."""
    feast = (await deps.feast()).select(project)
    budget = deps.settings.response_budget
    if name is not None and name.strip():
        return respond(await anyio.to_thread.run_sync(feature_view_history, feast, name, budget))
    versions = await anyio.to_thread.run_sync(registry_versions, feast)
    try:
        api = await deps.mlflow()
    except DomainError as exc:
        runs, notes = None, [f"MLflow unavailable, so Feast's ops runs were not read: {exc}"]
    else:
        runs, notes = await ops_runs(api, feast)
    return respond(change_log(feast, versions, runs, notes, budget))


TOOLS = (
    feast_list_projects,
    feast_list_feature_views,
    feast_describe_feature_view,
    feast_list_entities,
    feast_list_data_sources,
    feast_list_feature_services,
    feast_get_feature_view_history,
)
