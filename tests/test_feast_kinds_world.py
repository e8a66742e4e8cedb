"""The Feast-as-teams-use-it world (support/feast_kinds_world.py), checked through Feast's and MLflow's
own APIs, not through our server: what it holds is what the server's tests may rely on."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from support.feast_kinds_world import (
    MARKETING,
    MARKETING_SERVICE,
    MARKETING_VIEWS,
    RETAIL,
    RETAIL_VIEWS,
    SERVICE,
    KindsWorld,
)


@pytest.fixture(scope="module")
def retail(kinds_world: KindsWorld) -> Any:
    from feast import FeatureStore

    return FeatureStore(repo_path=str(kinds_world.retail_repo))


@pytest.fixture(scope="module")
def marketing(kinds_world: KindsWorld) -> Any:
    from feast import FeatureStore

    return FeatureStore(repo_path=str(kinds_world.marketing_repo))


@pytest.fixture(scope="module")
def mlflow_client(kinds_world: KindsWorld) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=kinds_world.tracking_uri, registry_uri=kinds_world.tracking_uri)


def views_of(store: Any) -> dict[str, Any]:
    return {v.name: v for v in store.registry.list_all_feature_views(store.project, skip_udf=True)}


def test_two_projects_share_one_sql_registry(retail: Any, marketing: Any, kinds_world: KindsWorld) -> None:
    assert retail.config.registry.registry_type == marketing.config.registry.registry_type == "sql"
    assert (
        retail.config.registry.path
        == marketing.config.registry.path
        == f"sqlite:///{kinds_world.registry_db}"
    )
    assert sorted(p.name for p in retail.registry.list_projects()) == [MARKETING, RETAIL]
    assert {n: type(v).__name__ for n, v in views_of(retail).items()} == RETAIL_VIEWS
    assert {n: type(v).__name__ for n, v in views_of(marketing).items()} == MARKETING_VIEWS


def test_user_code_is_needed_to_read_with_udfs_and_not_with_skip_udf(
    retail: Any, kinds_world: KindsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModuleNotFoundError, match="definitions"):
        retail.list_all_feature_views()
    monkeypatch.syspath_prepend(str(kinds_world.retail_repo))
    try:
        with_udfs = {v.name: v for v in retail.list_all_feature_views()}
    finally:  # the repo's modules must not leak into other tests
        for module in ("definitions", "helpers"):
            sys.modules.pop(module, None)
    assert callable(with_udfs["customer_order_features"].feature_transformation.udf)
    skipped = views_of(retail)["customer_order_features"]
    assert skipped.udf is None and skipped.udf_string == ""
    assert skipped.feature_transformation.user_defined_function.name == "order_features"  # the raw proto
    assert skipped.mode == "pandas"


def test_each_kind_keeps_its_sources_and_settings(retail: Any) -> None:
    views = views_of(retail)
    stream = views["customer_spend_stream"]
    assert [(a.column, a.function, a.time_window, a.slide_interval) for a in stream.aggregations] == [
        ("amount", "sum", timedelta(hours=1), timedelta(hours=1)),
        ("amount", "count", timedelta(hours=24), timedelta(hours=1)),
    ]
    kafka = stream.stream_source
    assert type(kafka).__name__ == "KafkaSource" and stream.batch_source.name == "transactions_batch"
    options = kafka.kafka_options
    assert (options.topic, options.kafka_bootstrap_servers) == ("retail.transactions", "127.0.0.1:9092")
    assert type(options.message_format).__name__ == "JsonFormat"
    assert options.watermark_delay_threshold == timedelta(minutes=5)
    assert stream._raw_udf_proto.name == "clean_transactions" and stream.mode == "python"

    pushed = views["customer_live_orders"]
    assert type(pushed.stream_source).__name__ == "PushSource"
    assert pushed.stream_source.batch_source.name == pushed.batch_source.name == "live_orders_batch"

    on_demand = views["checkout_features"]
    request = on_demand.source_request_sources["checkout_request"]
    assert [(f.name, str(f.dtype)) for f in request.schema] == [
        ("cart_value", "Float64"),
        ("coupon_code", "String"),
    ]
    assert list(on_demand.source_feature_view_projections) == ["customer_stats"]
    assert (on_demand.mode, on_demand.write_to_online_store) == ("pandas", False)
    assert views["customer_value_flags"].write_to_online_store is True

    assert views["store_wide_stats"].entities == ["__dummy"]  # entityless, as the registry keeps it
    assert views["customer_merchant_stats"].entities == ["customer", "merchant"]
    assert views["order_quality_labels"].reference_feature_view == "customer_stats"
    service = retail.registry.get_feature_service(SERVICE, RETAIL)
    assert [p.name for p in service.feature_view_projections] == [
        "customer_stats",
        "customer_merchant_stats",
        "store_wide_stats",
        "checkout_features",
    ]


def test_warehouse_and_stream_sources_of_the_other_project(marketing: Any) -> None:
    sources = {s.name: s for s in marketing.registry.list_data_sources(MARKETING)}
    assert sources["bq_orders"].table == "shop-prod.analytics.orders"
    assert sources["bq_recent_orders"].query.startswith("SELECT * FROM `shop-prod")
    assert (sources["snowflake_customers"].database, sources["snowflake_customers"].table) == (
        "SHOP",
        "CUSTOMERS",
    )
    assert sources["redshift_returns"].query.startswith("select * from returns")
    assert sources["spark_clicks"].table == "lake.clicks"
    kinesis = sources["clicks_kinesis"].kinesis_options
    assert (kinesis.stream_name, kinesis.region) == ("shop-clicks", "eu-west-1")
    assert views_of(marketing)["warehouse_orders"].batch_source.name == "bq_orders"


def test_reapply_left_history_and_materialization(retail: Any) -> None:
    registry = retail.registry
    versions = retail.list_feature_view_versions("customer_stats")
    assert [v["version"] for v in versions] == ["v0", "v1"]
    old, new = (registry.get_feature_view_by_version("customer_stats", RETAIL, n) for n in (0, 1))
    assert {f.name: str(f.dtype) for f in old.features} == {
        "total_spend": "Float64",
        "order_count": "Int64",
        "legacy_score": "Float64",
    }
    assert {f.name: str(f.dtype) for f in new.features} == {"total_spend": "Float64", "order_count": "Int32"}
    assert [v["version"] for v in retail.list_feature_view_versions("customer_merchant_stats")] == ["v0"]
    views = views_of(retail)
    interval = (datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 31, tzinfo=timezone.utc))
    assert views["customer_stats"].materialization_intervals == [interval]  # kept by the re-apply
    assert views["customer_merchant_stats"].materialization_intervals == [interval]
    assert views["customer_order_features"].materialization_intervals == []


def test_feast_mlflow_integration_tagged_the_runs(
    mlflow_client: Any, kinds_world: KindsWorld, retail: Any, tmp_path: Path
) -> None:
    run = mlflow_client.get_run(kinds_world.training_run_id)
    tags = run.data.tags
    assert tags["feast.project"] == RETAIL and tags["feast.feature_service"] == SERVICE
    assert tags["feast.retrieval_type"] == "historical"
    assert (
        tags["feast.feature_views"]
        == "checkout_features,customer_merchant_stats,customer_stats,store_wide_stats"
    )
    refs = tags["feast.feature_refs"].split(",")
    assert "customer_stats:legacy_score" in refs and len(refs) == int(tags["feast.feature_count"]) == 6
    assert (tags["feast.entity_df_type"], tags["feast.entity_df_rows"]) == ("dataframe", "24")
    assert tags["feast.entity_df_columns"] == "customer_id,merchant_id,event_timestamp,cart_value,coupon_code"
    assert {a.path for a in mlflow_client.list_artifacts(run.info.run_id)} == {
        "entity_df.parquet",
        "feast_features.json",
    }
    saved = Path(mlflow_client.download_artifacts(run.info.run_id, "feast_features.json", str(tmp_path)))
    assert json.loads(saved.read_text()) == refs
    version = mlflow_client.get_model_version(kinds_world.model_name, kinds_world.model_version)
    assert version.tags == {"feast.feature_service": SERVICE} and version.run_id == run.info.run_id
    assert version.aliases == ["champion"]
    # trained between the two applies: against customer_stats v0
    v0, v1 = (v["created_timestamp"] for v in retail.list_feature_view_versions("customer_stats"))
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    assert v0 <= started.replace(microsecond=0) and started < v1

    other = mlflow_client.get_run(kinds_world.marketing_run_id).data.tags
    assert (other["feast.project"], other["feast.feature_service"]) == (MARKETING, MARKETING_SERVICE)


def test_applies_and_materializations_are_runs_of_the_ops_experiments(mlflow_client: Any) -> None:
    experiment = mlflow_client.get_experiment_by_name(f"{RETAIL}-feast-ops")
    runs = mlflow_client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.data.tags["feast.operation"] for r in runs] == ["apply", "materialize", "apply"]
    first, materialized, last = (r.data.tags for r in runs)
    assert "customer_order_features" in first["feast.feature_views_created"].split(",")
    assert "checkout_features" not in first["feast.feature_views_changed"]  # on-demand views are not logged
    assert "customer_stats" in last["feast.feature_views_updated"].split(",")
    assert materialized["feast.materialize.feature_views"] == "customer_stats,customer_merchant_stats"
    assert runs[1].data.params == {
        "feast.materialize.start_date": "2024-01-01T00:00:00+00:00",
        "feast.materialize.end_date": "2024-01-31T00:00:00+00:00",
    }
    marketing_ops = mlflow_client.get_experiment_by_name(f"{MARKETING}-feast-ops")
    [applied] = mlflow_client.search_runs([marketing_ops.experiment_id])
    assert applied.data.tags["feast.feature_views_created"] in (
        "campaign_engagement,warehouse_orders",
        "warehouse_orders,campaign_engagement",
    )
