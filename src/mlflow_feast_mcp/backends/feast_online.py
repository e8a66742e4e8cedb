"""Online feature values, read from the Feast online store without importing user code.

The feature service and the views come from the registry with `skip_udf=True` (nothing of the
repo's Python is unpickled or imported); the values come from the online store through Feast's own
provider (`online_read`: per entity key, the stored values and their event timestamp). Only Feast's
built-in providers and online stores are used: a custom class named in feature_store.yaml is user
code and is refused. On-demand views are computed by a UDF at request time, so their features are
reported as not read unless the view writes them to the online store. Blocking: call from a thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from ..core.errors import BackendUnavailable, InvalidArgument, not_found, quote
from ..core.formatting import clip

MAX_ENTITY_ROWS = 20
ViewKind = Literal["feature_view", "stream", "on_demand"]


@dataclass
class ViewRead:
    """One view's part of the request and what the online store holds for each entity row."""

    view: str  # the name the service uses (its alias, if any)
    kind: ViewKind
    features: list[str]
    join_keys: list[str]
    # per entity row: (event timestamp, feature -> value); an empty dict when nothing is stored
    values: list[tuple[datetime | None, dict[str, Any]]] = field(default_factory=list)
    not_read: str | None = None  # why the store was not asked (an on-demand view)


@dataclass
class OnlineRead:
    project: str
    online_store: str
    source: str
    entity_rows: list[dict[str, Any]]
    views: list[ViewRead]


def _class_path(kind: str, table: dict[str, str]) -> str:
    return table.get(kind, kind)


def check_online_store(config: Any, repo_path: Path) -> str:
    """A description of the configured online store, after refusing custom classes and a missing
    SQLite file (Feast would create an empty one)."""
    from feast.infra.provider import PROVIDERS_CLASS_FOR_TYPE
    from feast.repo_config import ONLINE_STORE_CLASS_FOR_TYPE

    store = config.online_store
    if store is None:
        raise BackendUnavailable(f"feature_store.yaml in {repo_path} configures no online_store.")
    kind = str(getattr(store, "type", "") or "sqlite")
    for what, path in (
        ("provider", _class_path(str(config.provider), PROVIDERS_CLASS_FOR_TYPE)),
        ("online store", _class_path(kind, ONLINE_STORE_CLASS_FOR_TYPE)),
    ):
        if not path.startswith("feast."):
            raise BackendUnavailable(
                f"the {what} {quote(path)} in feature_store.yaml is a custom class (user code), which this "
                "read-only server does not import; read it with Feast itself."
            )
    if kind in ("sqlite", "feast.infra.online_stores.sqlite.SqliteOnlineStore"):
        file = Path(store.path)
        file = file if file.is_absolute() else repo_path / file
        if not file.is_file():
            raise BackendUnavailable(
                f"the online store {file} does not exist: run `feast apply` then `feast materialize "
                f"START END` in {repo_path} to load it."
            )
        return f"sqlite ({file.name})"
    return kind


def _views(registry: Any, project: str) -> dict[str, tuple[ViewKind, Any]]:
    views: dict[str, tuple[ViewKind, Any]] = {}
    try:
        for kind, listing in (
            ("feature_view", registry.list_feature_views),
            ("stream", registry.list_stream_feature_views),
            ("on_demand", registry.list_on_demand_feature_views),
        ):
            for view in listing(project, allow_cache=True, skip_udf=True):
                views[view.name] = (kind, view)
    except Exception as exc:
        raise BackendUnavailable(
            f"the Feast registry could not list the views of project {quote(project)}: "
            f"{type(exc).__name__}: {clip(str(exc), 300)}"
        ) from exc
    return views


def _service_parts(
    registry: Any, project: str, name: str
) -> list[tuple[str, str, list[str], dict[str, str]]]:
    """(view, name to use, features, join key map) per projection of the feature service."""
    services = registry.list_feature_services(project, allow_cache=True)
    service = next((s for s in services if s.name == name), None)
    if service is None:
        raise not_found(
            f"feature service in project {quote(project)}",
            name,
            [s.name for s in services],
            "List them with feast_list_feature_services.",
        )
    return [
        (p.name, p.name_to_use(), [f.name for f in p.features], dict(p.join_key_map or {}))
        for p in service.feature_view_projections
    ]


def _ref_parts(
    refs: list[str], views: dict[str, tuple[ViewKind, Any]]
) -> list[tuple[str, str, list[str], dict[str, str]]]:
    """Feature refs ('view:feature') grouped by view, in the order given."""
    grouped: dict[str, list[str]] = {}
    for ref in refs:
        view_name, sep, feature = ref.strip().partition(":")
        if not sep or not view_name or not feature:
            raise InvalidArgument(
                f"feature reference {quote(ref)} must be 'view:feature', e.g. 'game_features:home_elo'."
            )
        if view_name not in views:
            raise not_found(
                "feature view", view_name, list(views), "List them with feast_list_feature_views."
            )
        names = [f.name for f in views[view_name][1].features]
        if feature not in names:
            raise not_found(f"feature in view {quote(view_name)}", feature, names)
        if feature not in grouped.setdefault(view_name, []):
            grouped[view_name].append(feature)
    return [(view, view, features, {}) for view, features in grouped.items()]


def _join_keys(view: Any, join_key_map: dict[str, str]) -> list[tuple[str, str, Any]]:
    """(stored join key, key the caller passes, value type) of a view; the dummy key if it has none."""
    from feast.feature_view import DUMMY_ENTITY_ID
    from feast.value_type import ValueType

    columns = list(getattr(view, "entity_columns", None) or [])
    if not columns:
        return [(DUMMY_ENTITY_ID, "", ValueType.STRING)]
    return [(c.name, join_key_map.get(c.name, c.name), c.dtype.to_value_type()) for c in columns]


def _coerce(value: Any, value_type: Any, key: str) -> Any:
    from feast.value_type import ValueType

    try:
        if value_type in (ValueType.INT32, ValueType.INT64):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if value_type in (ValueType.FLOAT, ValueType.DOUBLE):
            return float(value)
        if value_type == ValueType.STRING:
            return str(value)
        if value_type == ValueType.BOOL:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    except (TypeError, ValueError):
        raise InvalidArgument(f"{key} is {value_type.name.lower()}; {quote(value)} is not one.") from None
    return value


def _entity_keys(rows: list[dict[str, Any]], keys: list[tuple[str, str, Any]], view: str) -> list[Any]:
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value
    from feast.type_map import python_values_to_proto_values

    protos = []
    for n, row in enumerate(rows, start=1):
        names, values = [], []
        for stored, given, value_type in keys:
            if not given:  # the dummy entity of an entity-less view
                names.append(stored)
                values.append(Value(string_val=""))
                continue
            if given not in row:
                raise InvalidArgument(f"entity row {n} lacks {given!r}, the join key of view {view!r}.")
            value = _coerce(row[given], value_type, given)
            names.append(stored)
            values.append(python_values_to_proto_values([value], value_type)[0])
        protos.append(EntityKey(join_keys=names, entity_values=values))
    return protos


def _values(result: list[Any], features: list[str]) -> list[tuple[datetime | None, dict[str, Any]]]:
    from feast.type_map import feast_value_type_to_python_type

    out = []
    for moment, stored in result:
        stored = stored or {}
        values = {f: feast_value_type_to_python_type(stored[f]) for f in features if f in stored}
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        out.append((moment if values else None, values))
    return out


def read_online_features(
    store: Any,
    repo_path: Path,
    project: str | None,
    feature_service: str | None,
    feature_refs: list[str] | None,
    entity_rows: list[dict[str, Any]],
) -> OnlineRead:
    """The online values of a feature service (or of feature refs) for up to MAX_ENTITY_ROWS rows."""
    from feast.infra.provider import get_provider

    if bool(feature_service) == bool(feature_refs):
        raise InvalidArgument(
            "pass feature_service (e.g. 'game_winner_v1') or features, not both and not neither."
        )
    if not entity_rows or len(entity_rows) > MAX_ENTITY_ROWS:
        raise InvalidArgument(
            f"entity_rows takes 1 to {MAX_ENTITY_ROWS} rows, e.g. [{{'game_id': 22401225}}]."
        )
    config = (
        store.config
        if not project or project == store.project
        else store.config.model_copy(update={"project": project})
    )
    described = check_online_store(config, repo_path)
    views = _views(store.registry, config.project)
    if not views:
        raise BackendUnavailable(f"project {quote(config.project)} has no feature views in the registry.")
    parts = (
        _service_parts(store.registry, config.project, feature_service)
        if feature_service
        else _ref_parts(feature_refs or [], views)
    )
    _check_row_keys(entity_rows, parts, views)
    provider = get_provider(config)
    reads = []
    for view_name, use_name, features, key_map in parts:
        kind, view = views[view_name]
        keys = _join_keys(view, key_map)
        read = ViewRead(use_name, kind, features, [given for _, given, _ in keys if given])
        if kind == "on_demand" and not getattr(view, "write_to_online_store", False):
            read.not_read = "on-demand view: computed at request time by its UDF (never run by this server)"
        else:
            try:
                result = provider.online_read(
                    config, view, _entity_keys(entity_rows, keys, use_name), features
                )
            except InvalidArgument:
                raise
            except Exception as exc:
                raise BackendUnavailable(
                    f"the online store could not be read for view {quote(use_name)}: {type(exc).__name__}: "
                    f"{clip(str(exc), 300)}. Has `feast materialize` run since `feast apply`?"
                ) from exc
            read.values = _values(result, features)
        reads.append(read)
    source = f"feature service {feature_service}" if feature_service else "feature references"
    return OnlineRead(config.project, described, source, entity_rows, reads)


def _check_row_keys(
    rows: list[dict[str, Any]], parts: list[tuple[str, str, list[str], dict[str, str]]], views: dict[str, Any]
) -> None:
    """Every key of every row is a join key of some requested view (a typo is named, not ignored)."""
    known = {
        given for view, _, _, key_map in parts for _, given, _ in _join_keys(views[view][1], key_map) if given
    }
    for n, row in enumerate(rows, start=1):
        unknown = [k for k in row if k not in known]
        if unknown:
            raise InvalidArgument(
                f"entity row {n} has {', '.join(quote(k) for k in unknown)}, which no requested view is keyed by; "
                f"join keys: {', '.join(sorted(known)) or 'none (entity-less views)'}."
            )
