"""Feast: feature views (batch, on-demand, stream), entities, data sources, feature services and the
version history of a view, read from the registry of the configured repo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import anyio
from mcp.server import MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..backends.feast_registry import (
    DataSourceRow,
    EntityRow,
    FeatureServiceRow,
    FeatureViewDetail,
    FeatureViewHistory,
    FeatureViewRow,
)
from ..core.budget import fit_items
from ..core.errors import InvalidArgument
from ..core.paging import decode_page_token, query_scope
from ..core.render import render
from ..core.results import tool_result
from ..server.backends import Backends
from .common import READ_ONLY, PageInfo, PageToken, ResponseFormat, budgeted_page

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


class FeatureViewList(PageInfo):
    project: str
    total: int = Field(description="views matching the filter, over all pages")
    feature_views: list[FeatureViewRow]


class FeatureViewAnswer(FeatureViewDetail):
    field_count: int = Field(0, description="fields in the view (before field_contains and the budget)")
    truncated: bool = False
    hint: str | None = None


class EntityList(PageInfo):
    project: str
    total: int
    entities: list[EntityRow]


class DataSourceList(PageInfo):
    project: str
    total: int
    data_sources: list[DataSourceRow]


class FeatureServiceList(PageInfo):
    project: str
    total: int
    feature_services: list[FeatureServiceRow]


def _contains(name: str, part: str | None) -> bool:
    return not part or part.strip().lower() in name.lower()


def register(mcp: MCPServer, backends: Backends) -> None:
    settings = backends.settings

    def page_of(
        tool: str,
        items: Sequence[Any],
        build: Callable[[list, PageInfo], BaseModel],
        page_size: int,
        page_token: str | None,
        *scope_parts: object,
    ) -> BaseModel:
        """One page of an in-memory, name-sorted listing, cut to the response budget."""
        scope = query_scope(tool, *scope_parts, page_size)
        page = decode_page_token(page_token, scope)
        try:
            start = int(page.cursor or 0)
        except (TypeError, ValueError):
            raise InvalidArgument("page_token is corrupt. Omit it to start over.") from None
        window = list(items[start : start + page_size])
        return budgeted_page(
            tool,
            window[page.skip :],
            build,
            settings.response_budget,
            cursor=start,
            skip=page.skip,
            next_cursor=start + page_size if start + page_size < len(items) else None,
            scope=scope,
        )

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def feast_list_feature_views(
        name_contains: NameContains = None,
        entity: Annotated[
            str | None, Field(description="only views keyed by this entity, e.g. 'game'", max_length=200)
        ] = None,
        response_format: ResponseFormat = "concise",
        page_size: PageSize = 100,
        page_token: PageToken = None,
    ) -> Annotated[CallToolResult, FeatureViewList]:
        """Feature views of the Feast repo (batch, on-demand and stream), sorted by name: kind, entities,
        feature count, source, TTL, online flag and description ('detailed' adds owner and tags). Use
        feast_describe_feature_view for the fields and their types."""
        registry = await backends.feast()
        rows = [
            r
            for r in registry.list_feature_views()
            if _contains(r.name, name_contains) and (not entity or entity.strip() in r.entities)
        ]
        if response_format == "concise":
            rows = [r.model_copy(update={"owner": None, "tags": {}}) for r in rows]
        answer = page_of(
            "feast_list_feature_views",
            rows,
            lambda items, info: FeatureViewList(
                project=registry.project, total=len(rows), feature_views=items, **info.model_dump()
            ),
            page_size,
            page_token,
            name_contains,
            entity,
            response_format,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def feast_describe_feature_view(
        name: ViewName,
        field_contains: Annotated[
            str | None,
            Field(description="only fields whose name contains this, e.g. 'elo'", max_length=200),
        ] = None,
    ) -> Annotated[CallToolResult, FeatureViewAnswer]:
        """One feature view in full: every field with its dtype and description, entities with join keys and
        value types, the source (file path, table or query, timestamp field), TTL, online flag, owner, tags,
        current version and created/updated times (UTC). Works for on-demand and stream views."""
        registry = await backends.feast()
        detail = registry.describe_feature_view(name)
        fields = [f for f in detail.fields if _contains(f.name, field_contains)]

        def build(items: Sequence[Any], truncated: bool) -> FeatureViewAnswer:
            hint = None
            if truncated:
                hint = (
                    f"Cut to fit the response budget: {len(items)} of {len(fields)} fields shown. "
                    "Call again with field_contains to read the others."
                )
            return FeatureViewAnswer(
                **detail.model_dump(exclude={"fields"}),
                fields=list(items),
                field_count=len(detail.fields),
                truncated=truncated,
                hint=hint,
            )

        answer, _ = fit_items(fields, build, settings.response_budget)
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def feast_list_entities(
        name_contains: NameContains = None, page_size: PageSize = 100, page_token: PageToken = None
    ) -> Annotated[CallToolResult, EntityList]:
        """Entities of the Feast repo: join key, value type, description, owner, tags and the feature views
        keyed by each."""
        registry = await backends.feast()
        rows = [r for r in registry.list_entities() if _contains(r.name, name_contains)]
        answer = page_of(
            "feast_list_entities",
            rows,
            lambda items, info: EntityList(
                project=registry.project, total=len(rows), entities=items, **info.model_dump()
            ),
            page_size,
            page_token,
            name_contains,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def feast_list_data_sources(
        name_contains: NameContains = None, page_size: PageSize = 100, page_token: PageToken = None
    ) -> Annotated[CallToolResult, DataSourceList]:
        """Data sources of the Feast repo and what they point at: type, file path (and whether it exists),
        table or query, timestamp fields, description, tags, and the feature views reading each."""
        registry = await backends.feast()
        rows = [r for r in registry.list_data_sources() if _contains(r.name or "", name_contains)]
        answer = page_of(
            "feast_list_data_sources",
            rows,
            lambda items, info: DataSourceList(
                project=registry.project, total=len(rows), data_sources=items, **info.model_dump()
            ),
            page_size,
            page_token,
            name_contains,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def feast_list_feature_services(
        name_contains: NameContains = None, page_size: PageSize = 50, page_token: PageToken = None
    ) -> Annotated[CallToolResult, FeatureServiceList]:
        """Feature services of the Feast repo: the views and features each bundles, description, owner and
        tags."""
        registry = await backends.feast()
        rows = [r for r in registry.list_feature_services() if _contains(r.name, name_contains)]
        answer = page_of(
            "feast_list_feature_services",
            rows,
            lambda items, info: FeatureServiceList(
                project=registry.project, total=len(rows), feature_services=items, **info.model_dump()
            ),
            page_size,
            page_token,
            name_contains,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def feast_get_feature_view_history(
        name: ViewName,
    ) -> Annotated[CallToolResult, FeatureViewHistory]:
        """The registry's version history of a feature view (v0, v1, ...), oldest first, and what changed
        between consecutive versions: fields added, removed and retyped. `feast apply` records a new
        version when the schema or source changes."""
        registry = await backends.feast()
        history = await anyio.to_thread.run_sync(registry.feature_view_history, name)
        answer = history
        if len(render(history)) > settings.response_budget:
            kept = list(history.versions)
            while len(kept) > 1 and len(render(history.model_copy(update={"versions": kept}))) > (
                settings.response_budget
            ):
                kept = kept[len(kept) // 2 :]
            answer = history.model_copy(
                update={
                    "versions": kept,
                    "notes": [
                        *history.notes,
                        f"truncated: showing the newest {len(kept)} of {len(history.versions)} versions",
                    ],
                }
            )
        return tool_result(answer)
