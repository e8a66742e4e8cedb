"""The Feast tools on a repo written the way teams write them (support/feast_kinds_world.py): every
view kind, two projects in one SQL registry, re-applies that retype and remove a field, a champion
trained through Feast's MLflow integration. Through a real MCP client; truths from the world."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.calls import error, ok
from support.feast_kinds_questions import measure
from support.feast_kinds_world import (
    MARKETING,
    MARKETING_VIEWS,
    MATERIALIZE_END,
    MATERIALIZE_START,
    MODEL,
    RETAIL,
    RETAIL_VIEWS,
    SERVICE,
    KindsWorld,
)
from support.feast_plugin_repo import BROKEN_SOURCE, BROKEN_VIEW, GOOD_VIEW, plugin_repo

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
KIND = {
    "FeatureView": "feature_view",
    "BatchFeatureView": "batch",
    "StreamFeatureView": "stream",
    "OnDemandFeatureView": "on_demand",
    "LabelView": "label",
}


def kinds_settings(world: KindsWorld, repo: Path | None = None, **extra: Any) -> Any:
    from mlflow_feast_mcp.core.settings import Settings

    return Settings(
        tracking_uri=world.tracking_uri,
        feast_repo=repo or world.retail_repo,
        default_experiment=RETAIL,
        default_model=MODEL,
        **extra,
    )


@pytest.fixture
async def kclient(kinds_world: KindsWorld) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(kinds_settings(kinds_world))) as session:
        yield session


async def test_every_kind_is_read_without_importing_the_repo(kclient: Any) -> None:
    answer = await ok(kclient, "feast_list_feature_views")
    rows = {r["name"]: r for r in answer.data["feature_views"]}
    assert {n: r["kind"] for n, r in rows.items()} == {n: KIND[c] for n, c in RETAIL_VIEWS.items()}
    assert answer.data["project"] == RETAIL and not answer.data.get("unreadable")
    assert "definitions" not in sys.modules and "helpers" not in sys.modules  # user code never imported
    # how each is fed
    assert rows["customer_order_features"]["transformation"] == "order_features (pandas)"
    assert rows["customer_spend_stream"]["stream_source"] == "transactions_stream (KafkaSource)"
    assert rows["customer_spend_stream"]["source"] == "transactions_batch"
    assert rows["customer_spend_stream"]["feature_count"] == 1  # the entity column is not a feature
    assert rows["customer_live_orders"]["stream_source"] == "live_orders_push (PushSource)"
    assert rows["checkout_features"]["source"] == "on demand from customer_stats, checkout_request"
    assert rows["order_quality_labels"]["stream_source"] == "labels_push (PushSource)"
    assert rows["store_wide_stats"].get("entities", []) == []
    assert rows["customer_merchant_stats"]["entities"] == ["customer", "merchant"]
    assert "materialized" not in rows["customer_stats"]  # concise
    assert "customer_spend_stream | stream | customer | 1 | transactions_batch" in answer.text
    detailed = await ok(kclient, "feast_list_feature_views", response_format="detailed")
    by_name = {r["name"]: r for r in detailed.data["feature_views"]}
    interval = f"{MATERIALIZE_START}Z .. {MATERIALIZE_END}Z"
    assert by_name["customer_stats"]["materialized"] == f"{interval} (stale)"  # 30d TTL, long ago
    assert by_name["customer_order_features"]["materialized"] == "never"


async def test_describe_shows_each_kind_in_full(kclient: Any) -> None:
    stream = (await ok(kclient, "feast_describe_feature_view", name="customer_spend_stream")).data
    assert [f["name"] for f in stream["fields"]] == ["amount"]
    assert stream["entities"] == [{"name": "customer", "join_key": "customer_id", "value_type": "INT64"}]
    assert (stream["mode"], stream["transformation"]) == ("python", "clean_transactions")
    assert stream["aggregations"] == ["sum(amount) over 1h", "count(amount) over 1d every 1h"]
    kafka = stream["stream_source"]
    assert kafka["type"] == "KafkaSource" and kafka["details"] == {
        "topic": "retail.transactions",
        "servers": "127.0.0.1:9092",
        "format": "json",
        "schema": "customer_id bigint, amount double, event_timestamp timestamp",
        "watermark_delay": "5m",
        "batch_source": "transactions_batch",
    }
    batch = (await ok(kclient, "feast_describe_feature_view", name="customer_order_features")).data
    assert (batch["kind"], batch["mode"], batch["transformation"]) == ("batch", "pandas", "order_features")
    assert batch["materialized"] == "never"
    pushed = (await ok(kclient, "feast_describe_feature_view", name="customer_live_orders")).data
    assert pushed["stream_source"]["details"] == {"batch_source": "live_orders_batch"}
    assert pushed["source"]["name"] == "live_orders_batch"
    flags = (await ok(kclient, "feast_describe_feature_view", name="customer_value_flags")).data
    assert (flags["mode"], flags["write_to_online_store"]) == ("python", True)
    labels = (await ok(kclient, "feast_describe_feature_view", name="order_quality_labels")).data
    assert labels["details"] == {
        "labeler_field": "labeler",
        "conflict_policy": "LAST_WRITE_WINS",
        "reference_feature_view": "customer_stats",
    }
    assert [f["name"] for f in labels["fields"]] == ["is_fraud", "labeler"]
    stats = await ok(kclient, "feast_describe_feature_view", name="customer_stats")
    assert stats.data["materialized"] == f"{MATERIALIZE_START}Z .. {MATERIALIZE_END}Z"
    assert any("older than the TTL (30d)" in w for w in stats.data["warnings"])


async def test_on_demand_view_says_what_a_request_must_send(kclient: Any) -> None:
    answer = await ok(kclient, "feast_describe_feature_view", name="checkout_features")
    view = answer.data
    assert view["source_views"] == ["customer_stats", "request:checkout_request"]
    (request,) = view["request_sources"]
    assert request["name"] == "checkout_request" and request["fields"] == [
        {"name": "cart_value", "dtype": "Float64", "description": "Basket value at checkout."},
        {"name": "coupon_code", "dtype": "String"},
    ]
    assert (view["mode"], view["write_to_online_store"]) == ("pandas", False)
    assert 'cart_value: Float64 ("Basket value at checkout."), coupon_code: String' in answer.text


async def test_sources_say_what_they_point_at_and_who_reads_them(kclient: Any) -> None:
    rows = {r["name"]: r for r in (await ok(kclient, "feast_list_data_sources")).data["data_sources"]}
    assert rows["checkout_request"]["used_by"] == ["checkout_features"]
    assert [f["name"] for f in rows["checkout_request"]["fields"]] == ["cart_value", "coupon_code"]
    assert rows["live_orders_push"]["details"] == {"batch_source": "live_orders_batch"}
    assert rows["live_orders_push"]["used_by"] == ["customer_live_orders"]
    assert rows["labels_push"]["used_by"] == ["order_quality_labels"]
    assert rows["transactions_stream"]["details"]["topic"] == "retail.transactions"
    other = await ok(kclient, "feast_list_data_sources", project=MARKETING)
    warehouse = {r["name"]: r for r in other.data["data_sources"]}
    assert warehouse["bq_orders"]["table"] == "shop-prod.analytics.orders"
    assert warehouse["bq_orders"]["used_by"] == ["warehouse_orders"]
    assert warehouse["bq_recent_orders"]["query"].startswith("SELECT * FROM `shop-prod")
    assert warehouse["snowflake_customers"]["details"] == {"database": "SHOP", "schema": "PUBLIC"}
    assert warehouse["snowflake_customers"]["table"] == "CUSTOMERS"
    assert warehouse["redshift_returns"]["query"].startswith("select * from returns")
    assert warehouse["spark_clicks"]["table"] == "lake.clicks"
    assert warehouse["athena_sessions"]["details"]["database"] == "lake"
    assert warehouse["clicks_kinesis"]["details"]["stream"] == "shop-clicks"
    assert warehouse["clicks_kinesis"]["details"]["region"] == "eu-west-1"
    assert warehouse["clicks_kinesis"]["details"]["batch_source"] == "spark_clicks"


async def test_both_projects_of_the_shared_registry_are_listed_and_readable(kclient: Any) -> None:
    listed = await ok(kclient, "feast_list_projects")
    projects = {p["name"]: p for p in listed.data["projects"]}
    assert set(projects) == {RETAIL, MARKETING} and listed.data["default_project"] == RETAIL
    assert projects[RETAIL]["default"] is True and projects[RETAIL]["feature_views"] == len(RETAIL_VIEWS)
    assert listed.data["registry"].startswith("sql sqlite:///")
    views = await ok(kclient, "feast_list_feature_views", project=MARKETING)
    assert [r["name"] for r in views.data["feature_views"]] == sorted(MARKETING_VIEWS)
    assert views.data["project"] == MARKETING
    services = await ok(kclient, "feast_list_feature_services", project=MARKETING)
    assert [s["name"] for s in services.data["feature_services"]] == ["campaign_model"]
    elsewhere = await error(kclient, "feast_describe_feature_view", name="campaign_engagement")
    assert "defined in project marketing: pass project='marketing'" in elsewhere
    assert "No Feast project 'retial'" in await error(kclient, "feast_list_entities", project="retial")
    assert "Did you mean 'retail'" in await error(kclient, "feast_list_entities", project="retial")


async def test_history_and_change_log_show_what_each_apply_changed(kclient: Any) -> None:
    history = (await ok(kclient, "feast_get_feature_view_history", name="customer_stats")).data
    assert [v["version"] for v in history["versions"]] == ["v0", "v1"]
    assert history["versions"][1]["retyped"] == ["order_count: Int64 -> Int32"]
    assert history["versions"][1]["removed"] == ["legacy_score: Float64"]
    log = await ok(kclient, "feast_get_feature_view_history")
    operations = log.data["operations"]
    assert [op["operation"] for op in operations] == ["apply", "materialize", "apply"]
    last = operations[0]
    assert last["run_id"] and log.data["last_applied"] == last["when"]
    assert (
        "customer_stats v1: retyped order_count: Int64 -> Int32; removed legacy_score: Float64"
        in last["versions"]
    )
    # Feast's ops run logs every view it saw as updated; the registry's versions are the exact record
    assert "customer_merchant_stats" in last["logged"]["feature_views_updated"]
    assert not any(v.startswith("customer_merchant_stats") for v in last["versions"])
    assert operations[1]["views"] == ["customer_stats", "customer_merchant_stats"]
    assert operations[1]["interval"] == "2024-01-01T00:00:00+00:00 .. 2024-01-31T00:00:00+00:00"
    assert "customer_stats v0: new" in operations[2]["versions"]
    assert log.data["ops_experiment"] == f"{RETAIL}-feast-ops"
    assert log.text.splitlines()[1] == f"last_applied: {last['when']}"


async def test_champion_is_aligned_as_trained_but_not_today(kclient: Any, kinds_world: KindsWorld) -> None:
    answer = await ok(kclient, "check_feature_alignment", run_or_model=f"{MODEL}@champion")
    report = answer.data
    assert report["run_id"] == kinds_world.training_run_id and report["project"] == RETAIL
    assert report["feature_source"] == "feast_features.json" and report["feature_count"] == 6
    assert report["status"] == "MISALIGNED" and report["missing"] == ["customer_stats:legacy_score"]
    (mismatch,) = report["dtype_mismatches"]  # trained on Int64 (v0), Feast serves Int32 now
    assert (mismatch["feature"], mismatch["run_dtype"], mismatch["feast_dtype"]) == (
        "customer_stats:order_count",
        "Int64",
        "Int32",
    )
    then = report["as_trained"]
    assert then["status"] == "ALIGNED" and then["versions"]["customer_stats"] == "v0"
    assert then["changes"][0] == (
        "customer_stats v0 -> v1: retyped order_count: Int64 -> Int32; removed legacy_score: Float64"
    )
    legacy = next(m for m in report["features"] if m["feature"] == "customer_stats:legacy_score")
    assert "removed in customer_stats v1 (trained on v0)" in legacy["note"]
    service = report["feature_service"]
    assert (service["name"], service["tagged_on"], service["feature_count"]) == (SERVICE, "model version", 5)
    assert service["not_in_service"] == ["customer_stats:legacy_score"]
    lines = answer.text.splitlines()
    assert lines[0] == report["verdict"] and lines[1].startswith("as trained (")
    assert lines[2].startswith("since training: customer_stats v0 -> v1: retyped order_count")


async def test_a_run_of_the_other_project_is_checked_there(kclient: Any, kinds_world: KindsWorld) -> None:
    there = (await ok(kclient, "check_feature_alignment", run_or_model=kinds_world.marketing_run_id)).data
    assert there["project"] == MARKETING and there["status"] == "ALIGNED"
    assert any("the run's feast.project tag" in n for n in there["notes"])
    here = await ok(
        kclient, "check_feature_alignment", run_or_model=kinds_world.marketing_run_id, project=RETAIL
    )
    assert here.data["status"] == "MISALIGNED" and here.data["project"] == RETAIL
    clicks = next(m for m in here.data["features"] if m["feature"] == "campaign_engagement:clicks")
    assert "defined in project marketing (campaign_engagement)" in clicks["note"]
    assert any("defined in project marketing" in n for n in here.data["notes"])


async def test_run_features_carry_feasts_own_record(kclient: Any, kinds_world: KindsWorld) -> None:
    answer = await ok(
        kclient, "mlflow_get_run_features", run_id=kinds_world.training_run_id, response_format="detailed"
    )
    data = answer.data
    assert data["source"] == "feast_features.json" and len(data["feature_refs"]) == 6
    assert data["feast_retrieval"] == {
        "project": RETAIL,
        "feature_service": SERVICE,
        "retrieval_type": "historical",
        "entity_df_type": "dataframe",
        "entity_df_rows": str(kinds_world.training_rows),
        "entity_df_columns": "customer_id,merchant_id,event_timestamp,cart_value,coupon_code",
    }
    assert "feast retrieval: project=retail, feature_service=checkout_model" in answer.text


async def test_validation_warns_on_stale_and_never_materialized_views(
    kclient: Any, kinds_world: KindsWorld
) -> None:
    answer = await ok(
        kclient, "validate_training_run", response_format="detailed", run_id=kinds_world.training_run_id
    )
    checks = {c["name"]: c for c in answer.data["checks"]}
    fresh = checks["freshness"]
    assert fresh["status"] == "warn"
    assert fresh["evidence"]["never"] == ["store_wide_stats"]
    assert [s.split(" ")[0] for s in fresh["evidence"]["stale"]] == [
        "customer_stats",
        "customer_merchant_stats",
    ]
    assert checks["alignment"]["evidence"]["as_trained"].startswith(
        "ALIGNED: all 6 features were defined then"
    )
    assert checks["params"]["evidence"]["feature_list_source"] == "feast_features.json"


async def test_issue_questions_answer_within_the_budget(kclient: Any, kinds_world: KindsWorld) -> None:
    rows = await measure(kclient, kinds_world)
    for r in rows:  # the README's table (pytest -s)
        print(f"{r.question} | {r.tool} | {r.text_chars:,} | {r.structured_chars:,}")
    assert not [r.tool for r in rows if r.is_error]
    assert all(max(r.text_chars, r.structured_chars) <= 20_000 for r in rows)


async def test_an_object_this_machine_cannot_decode_is_reported_alone(
    kinds_world: KindsWorld, tmp_path: Path
) -> None:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    repo = plugin_repo(tmp_path)
    async with Client(build_server(kinds_settings(kinds_world, repo))) as client:
        views = await ok(client, "feast_list_feature_views")
        assert [r["name"] for r in views.data["feature_views"]] == [GOOD_VIEW]
        broken = views.data["unreadable"]
        assert len(broken) == 2 and all("'feast_vendor_plugin' is not installed" in b for b in broken)
        assert any(BROKEN_SOURCE in b for b in broken) and any(BROKEN_VIEW in b for b in broken)
        assert (await ok(client, "feast_describe_feature_view", name=GOOD_VIEW)).data["fields"]
        message = await error(client, "feast_describe_feature_view", name=BROKEN_VIEW)
        assert "could not be read" in message and "feast_vendor_plugin" in message
        assert "corrupt" not in message
        sources = await ok(client, "feast_list_data_sources")
        assert [s["name"] for s in sources.data["data_sources"]] == ["shop_source"]
