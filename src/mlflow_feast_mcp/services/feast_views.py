"""Feast feature views as answers, per kind: plain, batch (mode and transformation), stream
(stream source, aggregations with windows, watermark), on-demand (source views, request sources
with their fields, write_to_online_store) and label views; each with its freshness (the last
materialized interval from the registry)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..backends.feast_registry import FeastProject, ViewKind
from ..core.answer import Answer
from ..core.errors import BackendUnavailable, not_found
from ..core.formatting import iso_from_datetime
from ..core.render import scalar
from .feast_sources import (
    FeastField,
    SourceInfo,
    attr,
    format_ttl,
    lean_render,
    source_info,
    tags_of,
    text_of,
)

Freshness = Literal["fresh", "stale", "never", "offline"]


class EntityKey(BaseModel):
    name: str
    join_key: str
    value_type: str


class FeatureViewRow(BaseModel):
    name: str
    kind: ViewKind
    entities: list[str] = []
    feature_count: int
    source: str | None = Field(None, description="batch source, or what an on-demand view reads")
    source_type: str | None = None
    stream_source: str | None = None
    transformation: str | None = Field(None, description="'udf (mode)'")
    ttl: str | None = None
    online: bool | None = None
    materialized: str | None = Field(None, description="last interval materialized, or 'never'")
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
    source_views: list[str] = []
    request_sources: list[SourceInfo] = []
    mode: str | None = None
    transformation: str | None = None
    aggregations: list[str] = []
    write_to_online_store: bool | None = None
    details: dict[str, str] = {}
    ttl: str | None = None
    online: bool | None = None
    materialized: str | None = None
    version: str | None = None
    created: str | None = None
    last_updated: str | None = None
    warnings: list[str] = []

    def render_text(self) -> str:
        """Lines in field order; entities, fields, aggregations and request sources as tables."""
        tables = {
            "entities": list(EntityKey.model_fields),
            "fields": list(FeastField.model_fields),
            "request_sources": ["name", "fields", "description"],
        }
        return lean_render(self.structured(), tables)


def find_view(project: FeastProject, name: str) -> Any:
    """A view by name (case-insensitive when unambiguous), else a NotFound naming the closest; a
    view the registry holds but Feast cannot decode here is named with its error."""
    view = project.views.get(name)
    if view is not None:
        return view
    folded = [v for v in project.views if v.lower() == name.strip().lower()]
    if len(folded) == 1:
        return project.views[folded[0]]
    broken = next((u for u in project.unreadable if u.name == name.strip()), None)
    if broken is not None:
        raise BackendUnavailable(
            f"feature view {scalar(broken.name)} is in project {scalar(project.project)} but could not be "
            f"read: {broken.error}"
        )
    others = [p for p, other in project.registry.projects.items() if name.strip() in other.views]
    hint = f"It is defined in project {scalar(others[0])}: pass project={others[0]!r}." if others else ""
    raise not_found("feature view", name, project.views, hint or "List them with feast_list_feature_views.")


def transformation_of(view: Any) -> tuple[str | None, str | None]:
    """(udf name, mode), read from the raw transformation proto (the code is never unpickled)."""
    candidates = (
        "_raw_udf_proto",
        "_raw_feature_transformation_proto.user_defined_function",
        "feature_transformation.user_defined_function",
    )
    udf = next((u for u in (attr(view, c) for c in candidates) if attr(u, "name")), None)
    mode = attr(view, "mode") or attr(udf, "mode")
    mode = getattr(mode, "value", mode)
    name = attr(udf, "name")
    return (str(name) if name else None), (str(mode).lower() if mode else None)


def aggregations_of(view: Any) -> list[str]:
    """'sum(amount) over 1h', 'count(amount) over 1d every 1h' ('as name' when named)."""
    rows = []
    for a in attr(view, "aggregations") or []:
        window, slide = format_ttl(attr(a, "time_window")), format_ttl(attr(a, "slide_interval"))
        text = f"{scalar(attr(a, 'function') or '?')}({scalar(attr(a, 'column') or '?')})"
        text += f" over {window}" if window else ""
        text += f" every {slide}" if slide and slide != window else ""
        text += f" as {scalar(attr(a, 'name'))}" if attr(a, "name") else ""
        rows.append(text)
    return rows


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def freshness(view: Any, now: datetime | None = None) -> tuple[Freshness | None, str | None]:
    """(status, last interval 'start .. end') of a view that is materialized into the online store;
    (None, None) for kinds that are never materialized (on-demand, label views)."""
    intervals = attr(view, "materialization_intervals")
    if intervals is None or FeastProject.kind(view) in ("on_demand", "label"):
        return None, None
    if not attr(view, "online"):
        return "offline", None
    if not intervals:
        return "never", "never"
    start, end = (_utc(t) for t in intervals[-1])
    shown = f"{iso_from_datetime(start)} .. {iso_from_datetime(end)}"
    ttl = attr(view, "ttl")
    now = now or datetime.now(timezone.utc)
    latest = max(_utc(t[1]) for t in intervals)  # type: ignore[type-var]
    stale = bool(ttl) and latest is not None and now - latest > ttl
    return ("stale" if stale else "fresh"), shown


def _source_label(source: Any) -> str | None:
    name = attr(source, "name")
    return f"{scalar(name)} ({type(source).__name__})" if name else None


def _udf_label(view: Any) -> str | None:
    name, mode = transformation_of(view)
    if not name and not mode:
        return None
    return f"{scalar(name or '?')} ({scalar(mode)})" if mode else name


def _batch_source(view: Any) -> Any:
    batch = attr(view, "batch_source")
    if batch is None and FeastProject.kind(view) == "label":
        batch = attr(view, "source.batch_source")
    return batch


def _stream_source(view: Any) -> Any:
    if FeastProject.kind(view) == "label":
        return attr(view, "source")
    return attr(view, "stream_source")


def _source_name(view: Any) -> str | None:
    if FeastProject.kind(view) == "on_demand":
        names = list(attr(view, "source_feature_view_projections") or {})
        names += list(attr(view, "source_request_sources") or {})
        return "on demand from " + ", ".join(names) if names else "on demand"
    return attr(_batch_source(view), "name") or attr(_stream_source(view), "name") or None


def feature_view_rows(project: FeastProject, detailed: bool = False) -> list[FeatureViewRow]:
    rows = []
    for v in project.views.values():
        batch = _batch_source(v)
        status, shown = freshness(v)
        rows.append(
            FeatureViewRow(
                name=v.name,
                kind=project.kind(v),
                entities=project.entities_of(v),
                feature_count=len(project.features_of(v)),
                source=_source_name(v),
                source_type=type(batch).__name__ if batch is not None else None,
                stream_source=_source_label(_stream_source(v)),
                transformation=_udf_label(v),
                ttl=format_ttl(attr(v, "ttl")),
                online=attr(v, "online"),
                materialized=(f"{shown} ({status})" if status == "stale" else shown) if detailed else None,
                description=text_of(v.description, 500),
                owner=(v.owner or None) if detailed else None,
                tags=tags_of(v.tags) if detailed else {},
            )
        )
    return rows


def _fields(project: FeastProject, view: Any) -> list[FeastField]:
    return [
        FeastField(
            name=f.name,
            dtype=str(f.dtype),
            description=text_of(f.description, 1000),
            tags=tags_of(getattr(f, "tags", None)),
        )
        for f in project.features_of(view)
    ]


def _entity_keys(project: FeastProject, view: Any) -> list[EntityKey]:
    keys = []
    columns = {c.name: str(c.dtype) for c in attr(view, "entity_columns") or []}
    for entity_name in project.entities_of(view):
        entity = project.entities.get(entity_name)
        join_key = entity.join_key if entity else entity_name
        value_type = entity.value_type.name if entity else columns.get(join_key, "?")
        keys.append(EntityKey(name=entity_name, join_key=join_key, value_type=value_type))
    return keys


def _kind_details(view: Any) -> dict[str, str]:
    names = ("labeler_field", "conflict_policy", "reference_feature_view")
    names += ("batch_engine", "stream_engine", "enable_tiling", "tiling_hop_size")
    values = {n: attr(view, n) for n in names}
    if values.get("enable_tiling") is False:
        values["tiling_hop_size"] = None
    values["conflict_policy"] = getattr(values["conflict_policy"], "name", values["conflict_policy"])
    return {k: str(format_ttl(v) if hasattr(v, "total_seconds") else v) for k, v in values.items() if v}


def _warnings(
    view: Any, infos: list[SourceInfo | None], status: Freshness | None, shown: str | None
) -> list[str]:
    warnings = [
        f"source file {scalar(info.path)} does not exist: training reads and materialization of "
        f"{scalar(view.name)} will fail until it is restored"
        for info in infos
        if info is not None and info.exists is False
    ]
    if status == "stale":
        warnings.append(
            f"materialized up to {shown.split(' .. ')[-1] if shown else '?'}: online values are older "
            f"than the TTL ({format_ttl(attr(view, 'ttl'))})"
        )
    return warnings


def describe_feature_view(project: FeastProject, name: str) -> FeatureViewDetail:
    view = find_view(project, name)
    kind = project.kind(view)
    batch, stream = _batch_source(view), _stream_source(view)
    source = source_info(project, batch) if batch is not None and kind != "on_demand" else None
    stream_info = source_info(project, stream) if stream is not None else None
    requests = [source_info(project, r) for r in (attr(view, "source_request_sources") or {}).values()]
    source_views: list[str] = []
    if kind == "on_demand":
        source_views = list(attr(view, "source_feature_view_projections") or {})
        source_views += [f"request:{r.name}" for r in requests]
    udf, mode = transformation_of(view)
    status, shown = freshness(view)
    version = attr(view, "current_version_number")
    return FeatureViewDetail(
        name=view.name,
        kind=kind,
        project=project.project,
        description=text_of(view.description),
        owner=view.owner or None,
        tags=tags_of(view.tags),
        entities=_entity_keys(project, view),
        fields=_fields(project, view),
        source=source,
        stream_source=stream_info,
        source_views=source_views,
        request_sources=requests,
        mode=mode,
        transformation=udf,
        aggregations=aggregations_of(view),
        write_to_online_store=attr(view, "write_to_online_store") if kind == "on_demand" else None,
        details=_kind_details(view),
        ttl=format_ttl(attr(view, "ttl")),
        online=attr(view, "online"),
        materialized=shown,
        version=f"v{version}" if version is not None else None,
        created=iso_from_datetime(view.created_timestamp),
        last_updated=iso_from_datetime(view.last_updated_timestamp),
        warnings=_warnings(view, [source, stream_info], status, shown),
    )
