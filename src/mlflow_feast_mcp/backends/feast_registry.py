"""The Feast registry, read-only and without user code: every project of the registry as Feast stores
it, converted object by object, plus version history on demand. No answers are shaped here (see
`services.feast_catalog`).

`open_feast_registry` runs in a worker thread: it imports feast, checks the repo before Feast can
create anything (a wrong registry path would otherwise silently become an empty registry), opens
the `FeatureStore` and reads the raw `RegistryProto` of all projects. Each object is converted on
its own with `skip_udf=True`, so a transformation defined in the repo's modules is never unpickled
and one object Feast cannot read (a source class whose package is missing here) is reported with
its own error while every other object answers. Registry view timestamps are naive UTC."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..core.errors import BackendUnavailable, not_found
from ..core.formatting import clip, counted

ViewKind = Literal["feature_view", "batch", "stream", "on_demand", "label"]
DUMMY_ENTITY = "__dummy"
_KIND_BY_CLASS: dict[str, ViewKind] = {
    "BatchFeatureView": "batch",
    "StreamFeatureView": "stream",
    "OnDemandFeatureView": "on_demand",
    "LabelView": "label",
    "FeatureView": "feature_view",
}
# feature_view_type of a version record -> the RegistryProto field its snapshots decode with
_SNAPSHOT_TYPES = {
    "feature_view": "feature_views",
    "stream_feature_view": "stream_feature_views",
    "on_demand_feature_view": "on_demand_feature_views",
    "label_view": "label_views",
}


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def view_kind(view: Any) -> ViewKind:
    """The Feast class of a view (its nearest known base class for subclasses)."""
    for cls in type(view).__mro__:
        if cls.__name__ in _KIND_BY_CLASS:
            return _KIND_BY_CLASS[cls.__name__]
    return "feature_view"


def read_error(exc: BaseException) -> str:
    """Why Feast could not decode an object, with the real cause named (a missing package is not a
    corrupt registry)."""
    text = f"{type(exc).__name__}: {clip(str(exc), 300)}"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ImportError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None or "ImportError" in type(exc).__name__:
        missing = getattr(cause, "name", None)
        text += (
            f" (module {missing!r} is not installed where this server runs: install the package that "
            "provides this class next to the server)"
            if missing
            else " (a module this object's class needs is not importable where this server runs)"
        )
    return text


@dataclass
class Unreadable:
    """An object in the registry that Feast could not decode here."""

    kind: str
    name: str
    error: str


@dataclass
class MlflowIntegration:
    """Feast's own MLflow integration as feature_store.yaml configures it."""

    enabled: bool = False
    tracking_uri: str | None = None
    log_operations: bool = False
    ops_suffix: str = "-feast-ops"

    def ops_experiment(self, project: str) -> str:
        """The MLflow experiment Feast logs a project's applies and materializations to."""
        return f"{project}{self.ops_suffix}"


@dataclass
class FeastProject:
    """One project's objects, converted without user code; history is read through the registry."""

    registry: FeastRegistry
    project: str
    description: str | None = None
    created: datetime | None = None
    last_updated: datetime | None = None
    views: dict[str, Any] = field(default_factory=dict)
    entities: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def registry_kind(self) -> str:
        return self.registry.registry_kind

    @property
    def is_default(self) -> bool:
        return self.project == self.registry.default_project

    @staticmethod
    def kind(view: Any) -> ViewKind:
        return view_kind(view)

    @staticmethod
    def entities_of(view: Any) -> list[str]:
        return [e for e in getattr(view, "entities", None) or [] if e != DUMMY_ENTITY]

    def join_keys(self, view: Any) -> set[str]:
        keys = {c.name for c in getattr(view, "entity_columns", None) or []}
        for name in self.entities_of(view):
            entity = self.entities.get(name)
            keys.add(entity.join_key if entity is not None else name)
        return keys

    def features_of(self, view: Any) -> list[Any]:
        """The view's feature fields; a stream view's entity column is not a feature."""
        keys = self.join_keys(view)
        return [f for f in view.features if f.name not in keys]

    def resolve_path(self, path: str) -> Path:
        return self.registry.resolve_path(path)

    def display_path(self, path: str) -> str:
        return self.registry.display_path(path)

    def version_records(self, name: str) -> list[dict[str, Any]]:
        return self.registry.version_records(self.project, name)

    def version_snapshot(self, name: str, number: int) -> Any:
        return self.registry.version_snapshot(self.project, name, number)

    def summary(self) -> str:
        kinds = [self.kind(v) for v in self.views.values()]
        by_kind = ", ".join(f"{kinds.count(k)} {k}" for k in _KIND_BY_CLASS.values() if k in kinds)
        text = (
            f"project {self.project} ({self.registry_kind} registry): {counted(len(kinds), 'feature view')}"
            f"{f' ({by_kind})' if by_kind else ''}, "
            f"{counted(len(self.entities), 'entity', plural='entities')}, "
            f"{counted(len(self.sources), 'data source')}, {counted(len(self.services), 'feature service')}"
        )
        if self.unreadable:
            text += f"; {len(self.unreadable)} unreadable: " + ", ".join(u.name for u in self.unreadable)
        return text


class FeastRegistry:
    """A snapshot of every project in one registry; history is read on demand. Thread-safe for reads."""

    def __init__(self, store: Any, repo_path: Path, registry_kind: str, location: str) -> None:
        self.store = store
        self.repo_path = repo_path
        self.registry_kind = registry_kind
        self.location = location
        self.default_project: str = store.project
        self.mlflow = _integration(store.config)
        self._lock = threading.Lock()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "experimental feature" warnings on every conversion
            self._proto = store.registry.proto()
            self.projects = _projects(self, self._proto)

    def select(self, project: str | None) -> FeastProject:
        """A project by name (default: feature_store.yaml's), else a clear error naming the others."""
        name = (project or "").strip() or self.default_project
        found = self.projects.get(name)
        if found is None:
            folded = [p for p in self.projects if p.lower() == name.lower()]
            if len(folded) == 1:
                return self.projects[folded[0]]
        if found is None and name == self.default_project:
            others = f" Projects in it: {', '.join(self.projects)}." if self.projects else ""
            raise BackendUnavailable(
                f"registry is empty: project '{name}' in {self.repo_path} has no feature views or "
                f"entities. Run `feast apply` in {self.repo_path}, or check `project:` in "
                f"feature_store.yaml.{others}"
            )
        if found is None:
            raise not_found("Feast project", name, self.projects, "List them with feast_list_projects.")
        return found

    def resolve_path(self, path: str) -> Path:
        local = Path(path.removeprefix("file://"))
        return local if local.is_absolute() else self.repo_path / local

    def display_path(self, path: str) -> str:
        """A local path relative to the repo when it lies inside it (answers stay machine-independent)."""
        if not is_local(path):
            return path
        resolved = self.resolve_path(path)
        try:
            return str(resolved.resolve().relative_to(self.repo_path.resolve()))
        except ValueError:
            return path

    def version_records(self, project: str, name: str) -> list[dict[str, Any]]:
        """The registry's version records of a view; NotImplementedError when it keeps none."""
        with self._lock:
            return self.store.registry.list_feature_view_versions(name, project)

    def version_snapshot(self, project: str, name: str, number: int) -> Any:
        """The view as it was at version `number`, decoded without user code; NotImplementedError
        when the registry cannot return past versions."""
        with self._lock:
            raw = self._snapshot_bytes(project, name, number)
        if raw is None:
            raise LookupError(f"version v{number} of '{name}' is not in the registry")
        view_type, payload = raw
        field_name = _SNAPSHOT_TYPES.get(view_type)
        if field_name is None:
            raise ValueError(f"unknown feature view type {view_type!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _convert(field_name, _snapshot_proto_class(field_name).FromString(payload))

    def _snapshot_bytes(self, project: str, name: str, number: int) -> tuple[str, bytes] | None:
        registry = self.store.registry
        records = getattr(self._proto, "feature_view_version_history", None)
        if self.registry_kind == "file" and records is not None:
            for r in records.records:
                if r.feature_view_name == name and r.project_id == project and r.version_number == number:
                    return r.feature_view_type, r.feature_view_proto
            return None
        # SQL registry: Feast's public get_feature_view_by_version unpickles UDFs; its snapshot
        # reader returns the stored type and bytes, decoded here with skip_udf.
        reader = getattr(registry, "_get_version_snapshot", None)
        if reader is None:
            raise NotImplementedError(f"{type(registry).__name__} keeps no readable version snapshots")
        return reader(name, project, number)

    def summary(self) -> str:
        try:
            head = self.select(None).summary()
        except BackendUnavailable as exc:
            head = str(exc)
        others = [p for p in self.projects if p != self.default_project]
        return head + (f"; other projects in this registry: {', '.join(others)}" if others else "")


def _integration(config: Any) -> MlflowIntegration:
    cfg = getattr(config, "mlflow", None)
    if cfg is None:
        return MlflowIntegration()
    suffix = getattr(cfg, "ops_experiment_suffix", "-feast-ops") or "-feast-ops"
    return MlflowIntegration(
        enabled=bool(getattr(cfg, "enabled", False)),
        tracking_uri=cfg.get_tracking_uri() if hasattr(cfg, "get_tracking_uri") else None,
        log_operations=bool(getattr(cfg, "log_operations", False)),
        ops_suffix=suffix,
    )


def _snapshot_proto_class(field_name: str) -> Any:
    from feast.protos.feast.core import (
        FeatureView_pb2,
        LabelView_pb2,
        OnDemandFeatureView_pb2,
        StreamFeatureView_pb2,
    )

    return {
        "feature_views": FeatureView_pb2.FeatureView,
        "stream_feature_views": StreamFeatureView_pb2.StreamFeatureView,
        "on_demand_feature_views": OnDemandFeatureView_pb2.OnDemandFeatureView,
        "label_views": LabelView_pb2.LabelView,
    }[field_name]


def _convert(field_name: str, proto: Any) -> Any:
    """One registry object from its proto, never loading user code."""
    from feast import Entity, FeatureService, FeatureView, OnDemandFeatureView, StreamFeatureView
    from feast.data_source import DataSource

    if field_name == "feature_views":
        return FeatureView.from_proto(proto, skip_udf=True)
    if field_name == "stream_feature_views":
        return StreamFeatureView.from_proto(proto, skip_udf=True)
    if field_name == "on_demand_feature_views":
        return OnDemandFeatureView.from_proto(proto, skip_udf=True)
    if field_name == "label_views":
        from feast.labeling import LabelView

        return LabelView.from_proto(proto)  # no user code in a label view
    if field_name == "entities":
        return Entity.from_proto(proto)
    if field_name == "data_sources":
        return DataSource.from_proto(proto)
    if field_name == "feature_services":
        return FeatureService.from_proto(proto)
    raise ValueError(field_name)


_OBJECTS = (  # RegistryProto field, kind named in errors, FeastProject attribute
    ("entities", "entity", "entities"),
    ("data_sources", "data source", "sources"),
    ("feature_views", "feature view", "views"),
    ("stream_feature_views", "feature view", "views"),
    ("on_demand_feature_views", "feature view", "views"),
    ("label_views", "feature view", "views"),
    ("feature_services", "feature service", "services"),
)


def _project_of(proto: Any) -> str:
    spec = getattr(proto, "spec", None)
    return spec.project if spec is not None and hasattr(spec, "project") else getattr(proto, "project", "")


def _name_of(proto: Any) -> str:
    spec = getattr(proto, "spec", None)
    return spec.name if spec is not None and hasattr(spec, "name") else getattr(proto, "name", "")


def _projects(registry: FeastRegistry, proto: Any) -> dict[str, FeastProject]:
    """Every project of the registry proto, each object converted on its own."""
    projects: dict[str, FeastProject] = {}
    for p in proto.projects:
        meta = p.meta
        projects[p.spec.name] = FeastProject(
            registry,
            p.spec.name,
            description=p.spec.description or None,
            created=meta.created_timestamp.ToDatetime() if meta.HasField("created_timestamp") else None,
            last_updated=(
                meta.last_updated_timestamp.ToDatetime() if meta.HasField("last_updated_timestamp") else None
            ),
        )
    for field_name, kind, attribute in _OBJECTS:
        for item in getattr(proto, field_name):
            name, owner = _name_of(item), _project_of(item)
            if not owner:
                continue
            project = projects.setdefault(owner, FeastProject(registry, owner))
            if attribute == "entities" and name == DUMMY_ENTITY:
                continue
            try:
                getattr(project, attribute)[name] = _convert(field_name, item)
            except Exception as exc:  # one object Feast cannot decode here: say so, keep the others
                project.unreadable.append(Unreadable(kind, name, read_error(exc)))
    for project in projects.values():
        for attribute in ("views", "entities", "sources", "services"):
            objects = getattr(project, attribute)
            setattr(project, attribute, dict(sorted(objects.items())))
    return {name: projects[name] for name in sorted(projects) if _has_objects(projects[name])}


def _has_objects(project: FeastProject) -> bool:
    return bool(
        project.views or project.entities or project.sources or project.services or project.unreadable
    )


def _registry_target(config: Any) -> tuple[str, str]:
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
        if not is_local(path):
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


def _safe_location(kind: str, path: str) -> str:
    """The registry location without credentials (a SQL URL may carry a password)."""
    if kind == "sql" and "@" in path and "://" in path:
        scheme, rest = path.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return path


def open_feast_registry(repo_path: Path) -> FeastRegistry:
    """Open the Feast repo at `repo_path` read-only; `BackendUnavailable` with the fix when it cannot."""
    repo_path = Path(repo_path).expanduser()
    yaml_file = repo_path / "feature_store.yaml"
    hint = (
        "set FEAST_REPO_PATH or --feast-repo to the directory holding feature_store.yaml, or create the "
        "example repo there with `mlflow-feast-mcp example-repo <folder>`"
    )
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
        kind, path = _registry_target(config)
    except Exception as exc:
        raise BackendUnavailable(
            f"feature_store.yaml at {repo_path} is invalid: {clip(str(exc), 600)}"
        ) from exc
    _check_registry_exists(kind, path, repo_path.resolve())
    location = _safe_location(kind, path)
    try:
        store = FeatureStore(repo_path=str(repo_path.resolve()), config=config)
        return FeastRegistry(store, repo_path.resolve(), kind, location)
    except BackendUnavailable:
        raise
    except Exception as exc:
        decode = "DecodeError" in type(exc).__name__ or "parse" in str(exc).lower()
        fix = " It is not a registry Feast can parse: re-create it with `feast apply`." if decode else ""
        raise BackendUnavailable(
            f"Feast registry of {repo_path} ({kind}, {location}) could not be read: "
            f"{type(exc).__name__}: {clip(str(exc), 600)}.{fix}"
        ) from exc
