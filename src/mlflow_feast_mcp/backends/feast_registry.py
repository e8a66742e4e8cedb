"""The Feast registry, read-only, as plain pydantic models (no MCP here).

`open_feast_registry` runs in a worker thread: it imports feast, checks the repo before Feast can
create anything (a wrong registry path would otherwise silently become an empty registry), opens
the `FeatureStore` and takes a snapshot of views, entities, sources and services. Version history
is read on demand from the store. Registry timestamps are naive UTC; every one leaves as ISO UTC.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..core.errors import BackendUnavailable, not_found
from ..core.formatting import clip, iso_from_datetime

ViewKind = Literal["feature_view", "on_demand", "stream"]
DUMMY_ENTITY = "__dummy"
_KIND_BY_CLASS = {
    "FeatureView": "feature_view",
    "BatchFeatureView": "feature_view",
    "OnDemandFeatureView": "on_demand",
    "StreamFeatureView": "stream",
}


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


class FeatureViewDetail(BaseModel):
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


class FeatureViewHistory(BaseModel):
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


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


class FeastRegistry:
    """A snapshot of one project's registry plus on-demand history reads. Thread-safe for reads."""

    def __init__(self, store: Any, repo_path: Path, registry_kind: str) -> None:
        self.store = store
        self.repo_path = repo_path
        self.registry_kind = registry_kind
        self.project: str = store.project
        self._lock = threading.Lock()
        registry = store.registry
        views = registry.list_all_feature_views(self.project, allow_cache=True)
        self._views: dict[str, Any] = {v.name: v for v in sorted(views, key=lambda v: v.name)}
        entities = registry.list_entities(self.project, allow_cache=True)
        self._entities = {e.name: e for e in sorted(entities, key=lambda e: e.name) if e.name != DUMMY_ENTITY}
        sources = registry.list_data_sources(self.project, allow_cache=True)
        self._sources = {s.name: s for s in sorted(sources, key=lambda s: s.name)}
        services = registry.list_feature_services(self.project, allow_cache=True)
        self._services = {s.name: s for s in sorted(services, key=lambda s: s.name)}

    # ---- helpers -------------------------------------------------------------------------------
    def _kind(self, view: Any) -> ViewKind:
        return _KIND_BY_CLASS.get(type(view).__name__, "feature_view")  # type: ignore[return-value]

    def _entities_of(self, view: Any) -> list[str]:
        return [e for e in getattr(view, "entities", None) or [] if e != DUMMY_ENTITY]

    def _source_name(self, view: Any) -> str | None:
        if self._kind(view) == "on_demand":
            names = list(getattr(view, "source_feature_view_projections", {}) or {})
            names += list(getattr(view, "source_request_sources", {}) or {})
            return "on demand from " + ", ".join(names) if names else "on demand"
        source = getattr(view, "stream_source", None) or getattr(view, "batch_source", None)
        return getattr(source, "name", None) or None

    def _resolve_path(self, path: str) -> Path:
        local = Path(path.removeprefix("file://"))
        return local if local.is_absolute() else self.repo_path / local

    def source_info(self, source: Any) -> SourceInfo:
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
            path=path,
            table=attr("table"),
            query=attr("query"),
            timestamp_field=attr("timestamp_field"),
            created_timestamp_column=attr("created_timestamp_column"),
            exists=self._resolve_path(path).exists() if path and _is_local(path) else None,
        )

    def _view(self, name: str) -> Any:
        view = self._views.get(name)
        if view is None:
            folded = [v for v in self._views if v.lower() == name.strip().lower()]
            if len(folded) == 1:
                return self._views[folded[0]]
            raise not_found(
                "feature view",
                name,
                self._views,
                "List them with feast_list_feature_views.",
            )
        return view

    @staticmethod
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

    # ---- listings ------------------------------------------------------------------------------
    def view_names(self) -> list[str]:
        return list(self._views)

    def list_feature_views(self) -> list[FeatureViewRow]:
        return [
            FeatureViewRow(
                name=v.name,
                kind=self._kind(v),
                entities=self._entities_of(v),
                feature_count=len(v.features),
                source=self._source_name(v),
                ttl=format_ttl(getattr(v, "ttl", None)),
                online=getattr(v, "online", None),
                description=_text(v.description, 500),
                owner=v.owner or None,
                tags=_tags(v.tags),
            )
            for v in self._views.values()
        ]

    def describe_feature_view(self, name: str) -> FeatureViewDetail:
        view = self._view(name)
        kind = self._kind(view)
        entity_keys = []
        columns = {c.name: str(c.dtype) for c in getattr(view, "entity_columns", None) or []}
        for entity_name in self._entities_of(view):
            entity = self._entities.get(entity_name)
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
                source = self.source_info(view.batch_source)
            if kind == "stream" and getattr(view, "stream_source", None) is not None:
                stream = self.source_info(view.stream_source)
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
            project=self.project,
            description=_text(view.description),
            owner=view.owner or None,
            tags=_tags(view.tags),
            entities=entity_keys,
            fields=self._fields(view),
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

    def list_entities(self) -> list[EntityRow]:
        return [
            EntityRow(
                name=e.name,
                join_key=e.join_key,
                value_type=e.value_type.name,
                description=_text(e.description, 500),
                owner=e.owner or None,
                tags=_tags(e.tags),
                used_by=[v.name for v in self._views.values() if e.name in self._entities_of(v)],
                created=iso_from_datetime(e.created_timestamp),
                last_updated=iso_from_datetime(e.last_updated_timestamp),
            )
            for e in self._entities.values()
        ]

    def list_data_sources(self) -> list[DataSourceRow]:
        rows = []
        for s in self._sources.values():
            users = [
                v.name
                for v in self._views.values()
                if s.name
                in {getattr(getattr(v, a, None), "name", None) for a in ("batch_source", "stream_source")}
            ]
            rows.append(
                DataSourceRow(
                    **self.source_info(s).model_dump(),
                    description=_text(s.description, 500),
                    owner=s.owner or None,
                    tags=_tags(s.tags),
                    used_by=users,
                )
            )
        return rows

    def list_feature_services(self) -> list[FeatureServiceRow]:
        rows = []
        for s in self._services.values():
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

    def feature_index(self) -> dict[str, list[FeatureLocation]]:
        """Feature name -> the views defining it (regular views first) with the dtype in each."""
        index: dict[str, list[FeatureLocation]] = {}
        order = sorted(self._views.values(), key=lambda v: (self._kind(v) != "feature_view", v.name))
        for view in order:
            for field in view.features:
                index.setdefault(field.name, []).append(
                    FeatureLocation(view=view.name, kind=self._kind(view), dtype=str(field.dtype))
                )
        return index

    def view_features(self) -> dict[str, dict[str, str]]:
        """View name -> {feature: dtype}."""
        return {v.name: {f.name: str(f.dtype) for f in v.features} for v in self._views.values()}

    def summary(self) -> str:
        kinds = [self._kind(v) for v in self._views.values()]
        return (
            f"project {self.project} ({self.registry_kind} registry): {len(kinds)} feature views "
            f"({kinds.count('feature_view')} batch, {kinds.count('on_demand')} on-demand, "
            f"{kinds.count('stream')} stream), {len(self._entities)} entities, "
            f"{len(self._sources)} data sources, {len(self._services)} feature services"
        )

    # ---- history -------------------------------------------------------------------------------
    def feature_view_history(self, name: str) -> FeatureViewHistory:
        view = self._view(name)
        kind = self._kind(view)
        registry = self.store.registry
        current = getattr(view, "current_version_number", None)
        try:
            with self._lock:
                records = registry.list_feature_view_versions(view.name, self.project)
        except NotImplementedError:
            return FeatureViewHistory(
                name=view.name,
                kind=kind,
                version_count=0,
                versions=[],
                notes=[
                    f"this registry ({self.registry_kind}) keeps no feature view version history; "
                    "use Git history of the repo's definitions instead"
                ],
            )
        records = sorted(records, key=lambda r: r["version_number"])
        changes: list[VersionChange] = []
        previous: dict[str, str] | None = None
        for record in records:
            number = int(record["version_number"])
            change = VersionChange(
                version=str(record.get("version") or f"v{number}"),
                version_number=number,
                created=iso_from_datetime(record.get("created_timestamp")),
                kind=record.get("feature_view_type"),
            )
            try:
                with self._lock:
                    snapshot = registry.get_feature_view_by_version(view.name, self.project, number)
                fields = {f.name: str(f.dtype) for f in snapshot.features}
            except NotImplementedError:
                fields = None
                change.note = "this registry cannot return the schema of past versions"
            except Exception as exc:  # a snapshot Feast cannot decode: say so, keep the rest
                fields = None
                change.note = f"schema of this version could not be read: {clip(str(exc), 200)}"
            if fields is not None:
                change.field_count = len(fields)
                if previous is None:
                    change.note = "first recorded version"
                else:
                    change.added = [f"{n}: {t}" for n, t in fields.items() if n not in previous]
                    change.removed = [f"{n}: {t}" for n, t in previous.items() if n not in fields]
                    change.retyped = [
                        f"{n}: {previous[n]} -> {t}"
                        for n, t in fields.items()
                        if n in previous and previous[n] != t
                    ]
                    if not (change.added or change.removed or change.retyped):
                        change.note = "same fields; the source or other schema details changed"
            previous = fields if fields is not None else previous
            changes.append(change)
        latest = changes[-1].version if changes else None
        notes = []
        if not records:
            notes.append(
                "no version history recorded for this view (applied before versioning, or the registry "
                "does not keep it)"
            )
        return FeatureViewHistory(
            name=view.name,
            kind=kind,
            current_version=f"v{current}" if current is not None else latest,
            version_count=len(changes),
            versions=changes,
            notes=notes,
        )


def _registry_target(config: Any, repo_path: Path) -> tuple[str, str]:
    """(kind, location) of the configured registry."""
    registry = config.registry
    kind = str(getattr(registry, "registry_type", "file") or "file")
    path = str(getattr(registry, "path", "") or "")
    return kind, path


def _check_registry_exists(kind: str, path: str, repo_path: Path) -> None:
    """Refuse before Feast would create an empty registry at a wrong path."""
    if kind == "file":
        if not path:
            raise BackendUnavailable(f"feature_store.yaml in {repo_path} names no registry path.")
        if not _is_local(path):
            return  # s3://, gs://: Feast reads them; nothing to check locally
        target = Path(path.removeprefix("file://"))
        target = target if target.is_absolute() else repo_path / target
        if not target.is_file():
            raise BackendUnavailable(
                f"registry file {target} does not exist: run `feast apply` in {repo_path} "
                "(or fix registry.path in feature_store.yaml)."
            )
    elif kind == "sql" and path.startswith("sqlite:///"):
        target = Path(path[len("sqlite:///") :])
        if str(target) not in ("", ":memory:") and not target.is_file():
            raise BackendUnavailable(
                f"SQL registry database {target} does not exist: run `feast apply` in {repo_path} "
                "(or fix registry.path in feature_store.yaml)."
            )


def open_feast_registry(repo_path: Path) -> FeastRegistry:
    """Open the Feast repo at `repo_path` read-only; `BackendUnavailable` with the fix when it cannot."""
    repo_path = Path(repo_path).expanduser()
    yaml_file = repo_path / "feature_store.yaml"
    hint = "set FEAST_REPO_PATH or --feast-repo to the directory holding feature_store.yaml"
    if not repo_path.is_dir():
        raise BackendUnavailable(f"Feast repo {repo_path} does not exist: {hint}.")
    if not yaml_file.is_file():
        raise BackendUnavailable(f"no feature_store.yaml at {repo_path}: {hint}.")
    try:
        from feast import FeatureStore
        from feast.repo_config import load_repo_config
    except ImportError as exc:
        raise BackendUnavailable(f"Feast is not installed ({exc}): pip install feast.") from exc
    try:
        config = load_repo_config(repo_path.resolve(), yaml_file)
        kind, path = _registry_target(config, repo_path)
    except Exception as exc:
        raise BackendUnavailable(
            f"feature_store.yaml at {repo_path} is invalid: {clip(str(exc), 600)}"
        ) from exc
    _check_registry_exists(kind, path, repo_path.resolve())
    try:
        store = FeatureStore(repo_path=str(repo_path.resolve()), config=config)
        registry = FeastRegistry(store, repo_path.resolve(), kind)
    except BackendUnavailable:
        raise
    except Exception as exc:
        raise BackendUnavailable(
            f"Feast registry of {repo_path} ({kind}, {path}) could not be read: "
            f"{type(exc).__name__}: {clip(str(exc), 600)}. If it is corrupt, re-create it with `feast apply`."
        ) from exc
    if not registry._views and not registry._entities:
        projects: list[str] = []
        with contextlib.suppress(Exception):
            projects = [p.name for p in store.list_projects(allow_cache=True)]
        others = f" Projects in it: {', '.join(projects)}." if projects else ""
        raise BackendUnavailable(
            f"registry is empty: project '{registry.project}' in {repo_path} has no feature views or "
            f"entities. Run `feast apply` in {repo_path}, or check `project:` in feature_store.yaml.{others}"
        )
    return registry
