"""Feast's registry as answers: the projects of a registry, entities, feature services, the list
answers of every Feast tool (one shape, paged), and the feature index alignment reads. Views live in
`feast_views`, sources in `feast_sources`, history in `feast_history`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, Field

from ..backends.feast_registry import FeastProject, FeastRegistry, ViewKind
from ..core.answer import Answer
from ..core.budget import fit
from ..core.formatting import iso_from_datetime
from ..core.paging import PAGING, PageInfo, Pager
from .feast_sources import DataSourceRow, data_source_rows, lean_render, matches, tags_of, text_of
from .feast_views import FeatureViewDetail, FeatureViewRow, describe_feature_view, feature_view_rows

__all__ = [
    "DataSourceRow",
    "FeatureViewDetail",
    "FeatureViewRow",
    "data_source_rows",
    "describe_feature_view",
    "feature_view_rows",
    "matches",
]
A = TypeVar("A", bound=Answer)


class EntityRow(BaseModel):
    name: str
    join_key: str
    value_type: str
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}
    used_by: list[str] = []
    created: str | None = None
    last_updated: str | None = None


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


class ProjectRow(BaseModel):
    name: str
    default: bool = Field(False, description="feature_store.yaml's project, the tools' default")
    description: str | None = None
    feature_views: int = 0
    feature_services: int = 0
    created: str | None = None
    last_updated: str | None = None


class FeatureLocation(BaseModel):
    view: str
    kind: ViewKind
    dtype: str


def entity_rows(project: FeastProject) -> list[EntityRow]:
    return [
        EntityRow(
            name=e.name,
            join_key=e.join_key,
            value_type=e.value_type.name,
            description=text_of(e.description, 500),
            owner=e.owner or None,
            tags=tags_of(e.tags),
            used_by=[v.name for v in project.views.values() if e.name in project.entities_of(v)],
            created=iso_from_datetime(e.created_timestamp),
            last_updated=iso_from_datetime(e.last_updated_timestamp),
        )
        for e in project.entities.values()
    ]


def service_views(service: Any) -> list[ServiceView]:
    return [
        ServiceView(view=p.name_to_use(), features=[f.name for f in p.features])
        for p in service.feature_view_projections
    ]


def feature_service_rows(project: FeastProject) -> list[FeatureServiceRow]:
    rows = []
    for s in project.services.values():
        views = service_views(s)
        rows.append(
            FeatureServiceRow(
                name=s.name,
                feature_count=sum(len(v.features) for v in views),
                views=views,
                description=text_of(s.description, 500),
                owner=s.owner or None,
                tags=tags_of(s.tags),
                created=iso_from_datetime(s.created_timestamp),
            )
        )
    return rows


def project_rows(registry: FeastRegistry) -> list[ProjectRow]:
    return [
        ProjectRow(
            name=p.project,
            default=p.is_default,
            description=text_of(p.description, 500),
            feature_views=len(p.views),
            feature_services=len(p.services),
            created=iso_from_datetime(p.created),
            last_updated=iso_from_datetime(p.last_updated),
        )
        for p in registry.projects.values()
    ]


def feature_index(project: FeastProject) -> dict[str, list[FeatureLocation]]:
    """Feature name -> the views defining it (regular views first) with the dtype in each."""
    index: dict[str, list[FeatureLocation]] = {}
    order = sorted(project.views.values(), key=lambda v: (project.kind(v) != "feature_view", v.name))
    for view in order:
        for field in project.features_of(view):
            index.setdefault(field.name, []).append(
                FeatureLocation(view=view.name, kind=project.kind(view), dtype=str(field.dtype))
            )
    return index


def view_features(project: FeastProject) -> dict[str, dict[str, str]]:
    """View name -> {feature: dtype}."""
    return {v.name: {f.name: str(f.dtype) for f in project.features_of(v)} for v in project.views.values()}


def unreadable_notes(project: FeastProject) -> list[str]:
    return [f"{u.kind} '{u.name}' could not be read: {u.error}" for u in project.unreadable]


# ---- list answers: one shape for every Feast list -------------------------------------------------


class FeastList(PageInfo):
    ROWS: ClassVar[tuple[str, type[BaseModel]]]
    project: str
    unreadable: list[str] = Field([], description="objects Feast cannot decode here, and why")

    def render_text(self) -> str:
        """Key lines, then the rows as one table in the row model's field order, then coverage."""
        key, row = self.ROWS
        own = {k: v for k, v in self.structured().items() if k not in PAGING}
        return "\n".join([lean_render(own, {key: list(row.model_fields)}), *self.paging_lines()])


class FeatureViewList(FeastList):
    ROWS = ("feature_views", FeatureViewRow)
    feature_views: list[FeatureViewRow]


class EntityList(FeastList):
    ROWS = ("entities", EntityRow)
    entities: list[EntityRow]


class DataSourceList(FeastList):
    ROWS = ("data_sources", DataSourceRow)
    data_sources: list[DataSourceRow]


class FeatureServiceList(FeastList):
    ROWS = ("feature_services", FeatureServiceRow)
    feature_services: list[FeatureServiceRow]


class ProjectList(PageInfo):
    registry: str
    default_project: str
    projects: list[ProjectRow]

    def render_text(self) -> str:
        own = {k: v for k, v in self.structured().items() if k not in PAGING}
        return "\n".join(
            [lean_render(own, {"projects": list(ProjectRow.model_fields)}), *self.paging_lines()]
        )


class FeatureViewAnswer(FeatureViewDetail):
    field_count: int = 0
    truncated: bool = False
    hint: str | None = None


def feast_page(
    tool: str,
    project: FeastProject,
    rows: Sequence[Any],
    answer: Callable[..., A],
    page_size: int,
    page_token: str | None,
    *query: object,
    budget: int,
) -> A:
    """One page of a name-sorted Feast listing, cut to the budget; `answer(items, project=, **paging)`
    (the paging carries `total`) builds the list answer (the same shape for every Feast list)."""
    pager = Pager.open(tool, page_token, project.project, *query, page_size)
    unreadable = unreadable_notes(project)
    return pager.page_list(
        rows,
        page_size,
        lambda items, info: answer(
            items, project=project.project, unreadable=unreadable, **info.model_dump()
        ),
        budget,
    )


def projects_page(
    registry: FeastRegistry, page_size: int, page_token: str | None, budget: int
) -> ProjectList:
    rows = project_rows(registry)
    pager = Pager.open("feast_list_projects", page_token, page_size)
    return pager.page_list(
        rows,
        page_size,
        lambda items, info: ProjectList(
            registry=f"{registry.registry_kind} {registry.location}",
            default_project=registry.default_project,
            projects=items,
            **info.model_dump(),
        ),
        budget,
    )


def describe_view_answer(
    project: FeastProject, name: str, field_contains: str | None, budget: int
) -> FeatureViewAnswer:
    detail = describe_feature_view(project, name)
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
