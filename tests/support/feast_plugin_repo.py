"""A Feast repo whose registry holds one object this machine cannot decode, as happens when the
registry was applied where a source plugin package is installed and is read where it is not.

Applied for real with Feast's own `FeatureStore.apply` (file registry, in this process), then the
`vendor_orders` source is rewritten in the registry file the way Feast stores a custom source class
(`CUSTOM_SOURCE` + `data_source_class_type` + JSON options, as PostgreSQLSource does), naming
`feast_vendor_plugin.sources.VendorSource`, a package that is not installed here. The view reading
it embeds the same source proto, so it cannot be decoded either; everything else reads normally."""

from __future__ import annotations

import json
from pathlib import Path

PLUGIN_CLASS = "feast_vendor_plugin.sources.VendorSource"
PROJECT = "plugins"
BROKEN_SOURCE = "vendor_orders"
BROKEN_VIEW = "vendor_order_stats"
GOOD_VIEW = "shop_stats"

YAML = """project: plugins
provider: local
registry: data/registry.db
online_store:
  type: sqlite
  path: data/online_store.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""


def _as_plugin_source(proto: object) -> None:
    from feast.protos.feast.core.DataSource_pb2 import DataSource as DataSourceProto

    options = {"name": BROKEN_SOURCE, "table": "vendor.orders", "query": ""}
    proto.type = DataSourceProto.CUSTOM_SOURCE  # type: ignore[attr-defined]
    proto.data_source_class_type = PLUGIN_CLASS  # type: ignore[attr-defined]
    proto.ClearField("file_options")  # type: ignore[attr-defined]
    proto.custom_options.configuration = json.dumps(options).encode()  # type: ignore[attr-defined]


def plugin_repo(base: Path) -> Path:
    from datetime import timedelta

    import pandas as pd
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto
    from feast.types import Float64, Int64
    from feast.value_type import ValueType

    repo = base / "plugin_repo"
    (repo / "data").mkdir(parents=True)
    (repo / "feature_store.yaml").write_text(YAML)
    shop = Entity(name="shop", join_keys=["shop_id"], value_type=ValueType.INT64)
    at = pd.Timestamp("2024-01-01", tz="UTC")
    for name, column, value in (("shop_source", "visits", 3), (BROKEN_SOURCE, "order_total", 9.5)):
        frame = pd.DataFrame({"shop_id": [1, 2], column: [value, value], "ts": [at, at]})
        frame.to_parquet(repo / "data" / f"{name}.parquet", index=False)
    sources = {
        name: FileSource(name=name, path=str(repo / "data" / f"{name}.parquet"), timestamp_field="ts")
        for name in ("shop_source", BROKEN_SOURCE)
    }
    views = [
        FeatureView(
            name=view,
            entities=[shop],
            ttl=timedelta(days=1),
            schema=[Field(name=feature, dtype=dtype)],
            source=sources[source],
        )
        for view, feature, dtype, source in (
            (GOOD_VIEW, "visits", Int64, "shop_source"),
            (BROKEN_VIEW, "order_total", Float64, BROKEN_SOURCE),
        )
    ]
    FeatureStore(repo_path=str(repo)).apply([shop, *sources.values(), *views])
    path = repo / "data" / "registry.db"
    registry = RegistryProto.FromString(path.read_bytes())
    for source in registry.data_sources:
        if source.name == BROKEN_SOURCE:
            _as_plugin_source(source)
    for view in registry.feature_views:
        if view.spec.name == BROKEN_VIEW:
            _as_plugin_source(view.spec.batch_source)
    path.write_bytes(registry.SerializeToString())
    return repo
