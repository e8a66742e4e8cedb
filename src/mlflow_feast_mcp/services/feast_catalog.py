"""Feast's registry as answers: feature views (batch, on-demand, stream), entities, data sources,
feature services and a view's version history, converted from the objects Feast returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from ..backends.feast_registry import FeastRegistry, ViewKind, is_local
from ..core.answer import Answer
from ..core.budget import fit
from ..core.errors import not_found
from ..core.formatting import clip, iso_from_datetime
from ..core.paging import PageInfo, Pager

A = TypeVar("A", bound=Answer)


class FeastField(BaseModel):
    name: str
    dtype: str
    description: str | None = None
    tags: dict[str, str] = {}


class EntityKey(BaseModel):
    name: str
    join_key: str
    value_type: str


class SourceInfo(BaseModel):
    name: str | None = None
    type: str
    path: str | None = None
    table: str | None = None
    query: str | None = None
    timestamp_field: str | None = None
    created_timestamp_column: str | None = None
    exists: bool | None = Field(None, description="for local files: does the file exist?")


class FeatureViewRow(BaseModel):
    name: str
    kind: ViewKind
    entities: list[str] = []
    feature_count: int
    source: str | None = Field(None, description="data source name, or the views an on-demand view reads")
    ttl: str | None = None
    online: bool | None = None
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}


class FeatureViewDetail(Answer):
    name: str
    kind: ViewKind
    project: str
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}
    entities: list[EntityKey] = []
    fields: list[FeastField]
    source: SourceInfo | None = None
    stream_source: SourceInfo | None = None
    source_views: list[str] = Field([], description="on-demand views: the views and request sources read")
    ttl: str | None = None
    online: bool | None = None
    version: str | None = Field(None, description="current version in the registry's history, e.g. 'v1'")
    created: str | None = None
    last_updated: str | None = None
    warnings: list[str] = []


class EntityRow(BaseModel):
    name: str
    join_key: str
    value_type: str
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}
    used_by: list[str] = Field([], description="feature views keyed by this entity")
    created: str | None = None
    last_updated: str | None = None


class DataSourceRow(SourceInfo):
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}
    used_by: list[str] = Field([], description="feature views reading this source")


class ServiceView(BaseModel):
    view: str
    features: list[str]


class FeatureServiceRow(BaseModel):
    name: str
    feature_count: int
    views: list[ServiceView]
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}
    created: str | None = None


class VersionChange(BaseModel):
    version: str
    version_number: int
    created: str | None = None
    kind: str | None = None
    field_count: int | None = None
    added: list[str] = Field([], description="fields new in this version, 'name: dtype'")
    removed: list[str] = Field([], description="fields dropped in this version, 'name: dtype'")
    retyped: list[str] = Field([], description="'name: OldType -> NewType'")
    note: str | None = None


class FeatureViewHistory(Answer):
    name: str
    kind: ViewKind
    current_version: str | None = None
    version_count: int
    versions: list[VersionChange] = Field(description="oldest first; changes are against the previous one")
    notes: list[str] = []


class FeatureLocation(BaseModel):
    view: str
    kind: ViewKind
    dtype: str


def format_ttl(ttl: timedelta | None) -> str | None:
    """`365d`, `12h`, `90m`; None or zero is 'forever' in Feast and shown as None."""
    if not ttl:
        return None
    seconds = int(ttl.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _text(value: Any, limit: int = 2000) -> str | None:
    return clip(str(value), limit) if value else None


def _tags(tags: dict | None) -> dict[str, str]:
    return {str(k): clip(str(v), 500) for k, v in sorted((tags or {}).items())}


def matches(name: str, part: str | None) -> bool:
    return not part or part.strip().lower() in name.lower()


def find_view(registry: FeastRegistry, name: str) -> Any:
    """A view by name (case-insensitive when unambiguous), else a NotFound naming the closest."""
    view = registry.views.get(name)
    if view is not None:
        return view
    folded = [v for v in registry.views if v.lower() == name.strip().lower()]
    if len(folded) == 1:
        return registry.views[folded[0]]
    raise not_found("feature view", name, registry.views, "List them with feast_list_feature_views.")


def _source_name(registry: FeastRegistry, view: Any) -> str | None:
    if registry.kind(view) == "on_demand":
        names = list(getattr(view, "source_feature_view_projections", {}) or {})
        names += list(getattr(view, "source_request_sources", {}) or {})
        return "on demand from " + ", ".join(names) if names else "on demand"
    source = getattr(view, "stream_source", None) or getattr(view, "batch_source", None)
    return getattr(source, "name", None) or None


def source_info(registry: FeastRegistry, source: Any) -> SourceInfo:
    def attr(name: str) -> str | None:
        try:
            value = getattr(source, name, None)
        except Exception:  # some sources raise for attributes they do not have
            return None
        return str(value) if value else None

    path = attr("path")
    return SourceInfo(
        name=getattr(source, "name", None) or None,
        type=type(source).__name__,
        path=registry.display_path(path) if path else None,
        table=attr("table"),
        query=attr("query"),
        timestamp_field=attr("timestamp_field"),
        created_timestamp_column=attr("created_timestamp_column"),
        exists=registry.resolve_path(path).exists() if path and is_local(path) else None,
    )


def _fields(view: Any) -> list[FeastField]:
    return [
        FeastField(
            name=f.name,
            dtype=str(f.dtype),
            description=_text(f.description, 1000),
            tags=_tags(getattr(f, "tags", None)),
        )
        for f in view.features
    ]


def feature_view_rows(registry: FeastRegistry) -> list[FeatureViewRow]:
    return [
        FeatureViewRow(
            name=v.name,
            kind=registry.kind(v),
            entities=registry.entities_of(v),
            feature_count=len(v.features),
            source=_source_name(registry, v),
            ttl=format_ttl(getattr(v, "ttl", None)),
            online=getattr(v, "online", None),
            description=_text(v.description, 500),
            owner=v.owner or None,
            tags=_tags(v.tags),
        )
        for v in registry.views.values()
    ]


def describe_feature_view(registry: FeastRegistry, name: str) -> FeatureViewDetail:
    view = find_view(registry, name)
    kind = registry.kind(view)
    entity_keys = []
    columns = {c.name: str(c.dtype) for c in getattr(view, "entity_columns", None) or []}
    for entity_name in registry.entities_of(view):
        entity = registry.entities.get(entity_name)
        join_key = entity.join_key if entity else entity_name
        value_type = entity.value_type.name if entity else columns.get(join_key, "?")
        entity_keys.append(EntityKey(name=entity_name, join_key=join_key, value_type=value_type))
    source = stream = None
    source_views: list[str] = []
    warnings: list[str] = []
    if kind == "on_demand":
        source_views = list(getattr(view, "source_feature_view_projections", {}) or {})
        source_views += [f"request:{r}" for r in getattr(view, "source_request_sources", {}) or {}]
    else:
        if getattr(view, "batch_source", None) is not None:
            source = source_info(registry, view.batch_source)
        if kind == "stream" and getattr(view, "stream_source", None) is not None:
            stream = source_info(registry, view.stream_source)
    for info in (source, stream):
        if info is not None and info.exists is False:
            warnings.append(
                f"source file {info.path} does not exist: training reads and materialization of "
                f"'{view.name}' will fail until it is restored"
            )
    version = getattr(view, "current_version_number", None)
    return FeatureViewDetail(
        name=view.name,
        kind=kind,
        project=registry.project,
        description=_text(view.description),
        owner=view.owner or None,
        tags=_tags(view.tags),
        entities=entity_keys,
        fields=_fields(view),
        source=source,
        stream_source=stream,
        source_views=source_views,
        ttl=format_ttl(getattr(view, "ttl", None)),
        online=getattr(view, "online", None),
        version=f"v{version}" if version is not None else None,
        created=iso_from_datetime(view.created_timestamp),
        last_updated=iso_from_datetime(view.last_updated_timestamp),
        warnings=warnings,
    )


def entity_rows(registry: FeastRegistry) -> list[EntityRow]:
    return [
        EntityRow(
            name=e.name,
            join_key=e.join_key,
            value_type=e.value_type.name,
            description=_text(e.description, 500),
            owner=e.owner or None,
            tags=_tags(e.tags),
            used_by=[v.name for v in registry.views.values() if e.name in registry.entities_of(v)],
            created=iso_from_datetime(e.created_timestamp),
            last_updated=iso_from_datetime(e.last_updated_timestamp),
        )
        for e in registry.entities.values()
    ]


def data_source_rows(registry: FeastRegistry) -> list[DataSourceRow]:
    rows = []
    for s in registry.sources.values():
        users = [
            v.name
            for v in registry.views.values()
            if s.name
            in {getattr(getattr(v, a, None), "name", None) for a in ("batch_source", "stream_source")}
        ]
        rows.append(
            DataSourceRow(
                **source_info(registry, s).model_dump(),
                description=_text(s.description, 500),
                owner=s.owner or None,
                tags=_tags(s.tags),
                used_by=users,
            )
        )
    return rows


def feature_service_rows(registry: FeastRegistry) -> list[FeatureServiceRow]:
    rows = []
    for s in registry.services.values():
        views = [
            ServiceView(view=p.name_to_use(), features=[f.name for f in p.features])
            for p in s.feature_view_projections
        ]
        rows.append(
            FeatureServiceRow(
                name=s.name,
                feature_count=sum(len(v.features) for v in views),
                views=views,
                description=_text(s.description, 500),
                owner=s.owner or None,
                tags=_tags(s.tags),
                created=iso_from_datetime(s.created_timestamp),
            )
        )
    return rows


def feature_index(registry: FeastRegistry) -> dict[str, list[FeatureLocation]]:
    """Feature name -> the views defining it (regular views first) with the dtype in each."""
    index: dict[str, list[FeatureLocation]] = {}
    order = sorted(registry.views.values(), key=lambda v: (registry.kind(v) != "feature_view", v.name))
    for view in order:
        for field in view.features:
            index.setdefault(field.name, []).append(
                FeatureLocation(view=view.name, kind=registry.kind(view), dtype=str(field.dtype))
            )
    return index


def view_features(registry: FeastRegistry) -> dict[str, dict[str, str]]:
    """View name -> {feature: dtype}."""
    return {v.name: {f.name: str(f.dtype) for f in v.features} for v in registry.views.values()}


def _version_change(
    registry: FeastRegistry, name: str, record: dict, previous: dict[str, str] | None
) -> tuple[VersionChange, dict[str, str] | None]:
    number = int(record["version_number"])
    change = VersionChange(
        version=str(record.get("version") or f"v{number}"),
        version_number=number,
        created=iso_from_datetime(record.get("created_timestamp")),
        kind=record.get("feature_view_type"),
    )
    try:
        fields: dict[str, str] | None = {
            f.name: str(f.dtype) for f in registry.version_snapshot(name, number).features
        }
    except NotImplementedError:
        fields, change.note = None, "this registry cannot return the schema of past versions"
    except Exception as exc:  # a snapshot Feast cannot decode: say so, keep the rest
        fields, change.note = None, f"schema of this version could not be read: {clip(str(exc), 200)}"
    if fields is not None:
        change.field_count = len(fields)
        if previous is None:
            change.note = "first recorded version"
        else:
            change.added = [f"{n}: {t}" for n, t in fields.items() if n not in previous]
            change.removed = [f"{n}: {t}" for n, t in previous.items() if n not in fields]
            change.retyped = [
                f"{n}: {previous[n]} -> {t}" for n, t in fields.items() if n in previous and previous[n] != t
            ]
            if not (change.added or change.removed or change.retyped):
                change.note = "same fields; the source or other schema details changed"
    return change, fields if fields is not None else previous


def feature_view_history(registry: FeastRegistry, name: str, budget: int) -> FeatureViewHistory:
    view = find_view(registry, name)
    kind = registry.kind(view)
    current = getattr(view, "current_version_number", None)
    try:
        records = registry.version_records(view.name)
    except NotImplementedError:
        return FeatureViewHistory(
            name=view.name,
            kind=kind,
            version_count=0,
            versions=[],
            notes=[
                f"this registry ({registry.registry_kind}) keeps no feature view version history; "
                "use Git history of the repo's definitions instead"
            ],
        )
    changes: list[VersionChange] = []
    previous: dict[str, str] | None = None
    for record in sorted(records, key=lambda r: r["version_number"]):
        change, previous = _version_change(registry, view.name, record, previous)
        changes.append(change)
    notes = []
    if not records:
        notes.append(
            "no version history recorded for this view (applied before versioning, or the registry "
            "does not keep it)"
        )
    history = FeatureViewHistory(
        name=view.name,
        kind=kind,
        current_version=f"v{current}" if current is not None else (changes[-1].version if changes else None),
        version_count=len(changes),
        versions=changes,
        notes=notes,
    )

    def newest(n: int) -> FeatureViewHistory:
        if n == len(changes):
            return history
        cut = f"truncated: showing the newest {n} of {len(changes)} versions"
        return history.model_copy(update={"versions": changes[len(changes) - n :], "notes": [*notes, cut]})

    return fit(newest, len(changes), budget)


# ---- list answers: one shape for every Feast list -------------------------------------------------


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


def feast_page(
    tool: str,
    registry: FeastRegistry,
    rows: Sequence[Any],
    answer: Callable[..., A],
    page_size: int,
    page_token: str | None,
    *query: object,
    budget: int,
) -> A:
    """One page of a name-sorted Feast listing, cut to the budget; `answer(items, project=, **paging)`
    (the paging carries `total`) builds the list answer (the same shape for every Feast list)."""
    pager = Pager.open(tool, page_token, *query, page_size)
    return pager.page_list(
        rows,
        page_size,
        lambda items, info: answer(items, project=registry.project, **info.model_dump()),
        budget,
    )


def describe_view_answer(
    registry: FeastRegistry, name: str, field_contains: str | None, budget: int
) -> FeatureViewAnswer:
    detail = describe_feature_view(registry, name)
    fields = [f for f in detail.fields if matches(f.name, field_contains)]

    def build(n: int) -> FeatureViewAnswer:
        hint = None
        if n < len(fields):
            hint = (
                f"Cut to fit the response budget: {n} of {len(fields)} fields shown. "
                "Call again with field_contains to read the others."
            )
        return FeatureViewAnswer(
            **detail.model_dump(exclude={"fields"}),
            fields=fields[:n],
            field_count=len(detail.fields),
            truncated=n < len(fields),
            hint=hint,
        )

    return fit(build, len(fields), budget)
