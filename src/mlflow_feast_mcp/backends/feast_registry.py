"""The Feast registry, read-only: the objects of one project as Feast returns them, plus their
version history on demand. No answers are shaped here (see `services.feast_catalog`).

`open_feast_registry` runs in a worker thread: it imports feast, checks the repo before Feast can
create anything (a wrong registry path would otherwise silently become an empty registry), opens
the `FeatureStore` and takes a snapshot of views, entities, sources and services. Registry
timestamps are naive UTC."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Literal

from ..core.errors import BackendUnavailable
from ..core.formatting import clip, counted

ViewKind = Literal["feature_view", "on_demand", "stream"]
DUMMY_ENTITY = "__dummy"
_KIND_BY_CLASS = {
    "FeatureView": "feature_view",
    "BatchFeatureView": "feature_view",
    "OnDemandFeatureView": "on_demand",
    "StreamFeatureView": "stream",
}


def is_local(path: str) -> bool:
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
        self.views: dict[str, Any] = {v.name: v for v in sorted(views, key=lambda v: v.name)}
        entities = registry.list_entities(self.project, allow_cache=True)
        self.entities = {e.name: e for e in sorted(entities, key=lambda e: e.name) if e.name != DUMMY_ENTITY}
        sources = registry.list_data_sources(self.project, allow_cache=True)
        self.sources = {s.name: s for s in sorted(sources, key=lambda s: s.name)}
        services = registry.list_feature_services(self.project, allow_cache=True)
        self.services = {s.name: s for s in sorted(services, key=lambda s: s.name)}

    @staticmethod
    def kind(view: Any) -> ViewKind:
        return _KIND_BY_CLASS.get(type(view).__name__, "feature_view")  # type: ignore[return-value]

    @staticmethod
    def entities_of(view: Any) -> list[str]:
        return [e for e in getattr(view, "entities", None) or [] if e != DUMMY_ENTITY]

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

    def version_records(self, name: str) -> list[dict[str, Any]]:
        """The registry's version records of a view; NotImplementedError when it keeps none."""
        with self._lock:
            return self.store.registry.list_feature_view_versions(name, self.project)

    def version_snapshot(self, name: str, number: int) -> Any:
        """The view as it was at version `number`; NotImplementedError when the registry cannot."""
        with self._lock:
            return self.store.registry.get_feature_view_by_version(name, self.project, number)

    def summary(self) -> str:
        kinds = [self.kind(v) for v in self.views.values()]
        return (
            f"project {self.project} ({self.registry_kind} registry): {counted(len(kinds), 'feature view')} "
            f"({kinds.count('feature_view')} batch, {kinds.count('on_demand')} on-demand, "
            f"{kinds.count('stream')} stream), {counted(len(self.entities), 'entity', plural='entities')}, "
            f"{counted(len(self.sources), 'data source')}, {counted(len(self.services), 'feature service')}"
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
    if not registry.views and not registry.entities:
        projects: list[str] = []
        with contextlib.suppress(Exception):
            projects = [p.name for p in store.list_projects(allow_cache=True)]
        others = f" Projects in it: {', '.join(projects)}." if projects else ""
        raise BackendUnavailable(
            f"registry is empty: project '{registry.project}' in {repo_path} has no feature views or "
            f"entities. Run `feast apply` in {repo_path}, or check `project:` in feature_store.yaml.{others}"
        )
    return registry
