"""Feast 0.67 repos written the way teams write them (not like feature_repo/), applied for real.

Two repos share ONE SQL registry (`sqlite:///<base>/shared/registry.db`, `registry_type: sql`):

- `retail` (`retail_repo/definitions.py` + `helpers.py`), one object of every kind:
  - `customer_stats` FeatureView (file source); the second apply retypes `order_count` Int64 -> Int32
    and removes `legacy_score` (history v0 -> v1); materialized into the sqlite online store;
  - `customer_order_features` BatchFeatureView, `udf=` a plain function of `definitions` (mode
    pandas): dill pickles it by reference (`definitions.order_features`), so Feast can only read this
    view with UDFs when the repo is on `sys.path`;
  - `customer_spend_stream` StreamFeatureView over the KafkaSource `transactions_stream` (topic,
    servers, json format, watermark) with sum/count aggregations and a python `udf=` (same pickle);
  - `customer_live_orders` FeatureView fed by the PushSource `live_orders_push` (batch source: file);
  - `checkout_features` OnDemandFeatureView (pandas) over `customer_stats` and the RequestSource
    `checkout_request`; `customer_value_flags` (python, `write_to_online_store=True`);
  - `store_wide_stats` (entityless), `customer_merchant_stats` (two entities), LabelView
    `order_quality_labels` (PushSource `labels_push`), FeatureService `checkout_model`;
- `marketing` (`marketing_repo/marketing.py` + `warehouse.py`): `campaign_engagement` (file),
  `warehouse_orders` over BigQuery, and warehouse/stream sources no view reads (BigQuery table and
  query, Snowflake, Redshift, Spark, Athena, Kinesis); applied with `--skip-source-validation` (no
  warehouse here); FeatureService `campaign_model`.

Feast's own MLflow integration is on in both yaml files, so each `feast apply` / `feast materialize`
is logged as a run of `<project>-feast-ops`. `train.py` (outside the repos: `feast apply` imports
every .py of a repo) trains through `feast.mlflow` between the two retail applies: the champion
(`checkout_model@champion`, v1) read `customer_stats` v0; `customer_stats` and
`customer_merchant_stats` are materialized before it (the intervals survive the re-apply). A marketing
run trains on the other project.

Speed: every step is a real CLI/Python process, started at once: it imports feast (and mlflow)
while the MLflow server starts and earlier steps run, then waits on stdin for its turn
(`Prewarmed`). About 60 s of CPU in all; `KindsWorld.timings` has each step's wall time.
Nothing is copied after an apply: both repos are generated here, and their registry path is absolute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RETAIL = "retail"
MARKETING = "marketing"
MODEL = "checkout_model"
SERVICE = "checkout_model"
MARKETING_SERVICE = "campaign_model"
MATERIALIZE_START = "2024-01-01T00:00:00"
MATERIALIZE_END = "2024-01-31T00:00:00"
MATERIALIZED_VIEWS = ("customer_stats", "customer_merchant_stats")
CUSTOMERS = 24
MERCHANTS = 4
RETAIL_VIEWS = {  # name -> Feast class, as listed with skip_udf=True
    "checkout_features": "OnDemandFeatureView",
    "customer_live_orders": "FeatureView",
    "customer_merchant_stats": "FeatureView",
    "customer_order_features": "BatchFeatureView",
    "customer_spend_stream": "StreamFeatureView",
    "customer_stats": "FeatureView",
    "customer_value_flags": "OnDemandFeatureView",
    "order_quality_labels": "LabelView",
    "store_wide_stats": "FeatureView",
}
MARKETING_VIEWS = {"campaign_engagement": "FeatureView", "warehouse_orders": "FeatureView"}

# --- the retail repo --------------------------------------------------------------------------------

HELPERS = '''"""Shared helpers the transformations import (a module of the repo, not a package)."""


def spend_bucket(amount: float) -> int:
    """0 below 20, 1 below 60, else 2."""
    return 0 if amount < 20 else 1 if amount < 60 else 2


def safe_ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0
'''

DEFINITIONS = '''"""Retail features: entities, sources, every kind of view and the checkout feature service."""

from datetime import timedelta

import pandas as pd
from feast import (
    Aggregation,
    BatchFeatureView,
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    KafkaSource,
    LabelView,
    PushSource,
    RequestSource,
    StreamFeatureView,
)
from feast.data_format import JsonFormat
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, Int32, Int64, String
from feast.value_type import ValueType

import helpers

DATA = "__DATA__"
OWNER = "retail-ml@shop.example"

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.INT64,
    description="A registered shopper.",
    owner=OWNER,
)
merchant = Entity(
    name="merchant", join_keys=["merchant_id"], value_type=ValueType.INT64, description="A seller."
)

customer_stats_source = FileSource(
    name="customer_stats_source",
    path=f"{DATA}/customer_stats.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
    description="Daily customer aggregates from the warehouse export.",
)
orders_source = FileSource(
    name="orders_source", path=f"{DATA}/orders.parquet", timestamp_field="event_timestamp"
)
transactions_batch = FileSource(
    name="transactions_batch", path=f"{DATA}/transactions.parquet", timestamp_field="event_timestamp"
)
transactions_stream = KafkaSource(
    name="transactions_stream",
    kafka_bootstrap_servers="127.0.0.1:9092",
    topic="retail.transactions",
    timestamp_field="event_timestamp",
    message_format=JsonFormat(schema_json="customer_id bigint, amount double, event_timestamp timestamp"),
    watermark_delay_threshold=timedelta(minutes=5),
    batch_source=transactions_batch,
    description="Card transactions as they happen.",
)
live_orders_batch = FileSource(
    name="live_orders_batch", path=f"{DATA}/live_orders.parquet", timestamp_field="event_timestamp"
)
live_orders_push = PushSource(
    name="live_orders_push",
    batch_source=live_orders_batch,
    description="Pushed by the checkout service.",
)
labels_batch = FileSource(
    name="labels_batch", path=f"{DATA}/labels.parquet", timestamp_field="event_timestamp"
)
labels_push = PushSource(name="labels_push", batch_source=labels_batch)
store_wide_source = FileSource(
    name="store_wide_source", path=f"{DATA}/store_wide.parquet", timestamp_field="event_timestamp"
)
customer_merchant_source = FileSource(
    name="customer_merchant_source",
    path=f"{DATA}/customer_merchant.parquet",
    timestamp_field="event_timestamp",
)
checkout_request = RequestSource(
    name="checkout_request",
    schema=[
        Field(name="cart_value", dtype=Float64, description="Basket value at checkout."),
        Field(name="coupon_code", dtype=String),
    ],
    description="Sent by the checkout page with each scoring request.",
)

customer_stats = FeatureView(
    name="customer_stats",
    entities=[customer],
    ttl=timedelta(days=30),
    schema=[
        Field(name="total_spend", dtype=Float64, description="Spend over the last 90 days."),
        Field(name="order_count", dtype=__ORDER_COUNT_TYPE__, description="Orders over the last 90 days."),
__LEGACY_FIELD__    ],
    source=customer_stats_source,
    online=True,
    owner=OWNER,
    tags={"team": "retail", "tier": "gold"},
)


def order_features(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["spend_bucket"] = out["amount"].map(helpers.spend_bucket).astype("int64")
    return out


customer_order_features = BatchFeatureView(
    name="customer_order_features",
    mode="pandas",
    udf=order_features,
    source=orders_source,
    entities=[customer],
    ttl=timedelta(days=7),
    schema=[
        Field(name="amount", dtype=Float64),
        Field(name="spend_bucket", dtype=Int64, description="helpers.spend_bucket of the amount."),
    ],
    online=True,
    description="Per-order features computed by a UDF of this repo.",
    owner=OWNER,
)


def clean_transactions(df):
    return df[df["amount"] > 0]


customer_spend_stream = StreamFeatureView(
    name="customer_spend_stream",
    source=transactions_stream,
    entities=[customer],
    ttl=timedelta(days=1),
    mode="python",
    udf=clean_transactions,
    aggregations=[
        Aggregation(column="amount", function="sum", time_window=timedelta(hours=1)),
        Aggregation(
            column="amount",
            function="count",
            time_window=timedelta(hours=24),
            slide_interval=timedelta(hours=1),
        ),
    ],
    timestamp_field="event_timestamp",
    schema=[Field(name="amount", dtype=Float64)],
    online=True,
    description="Rolling spend from the transaction stream.",
)

customer_live_orders = FeatureView(
    name="customer_live_orders",
    entities=[customer],
    ttl=timedelta(hours=6),
    schema=[
        Field(name="basket_size", dtype=Int64),
        Field(name="last_order_amount", dtype=Float64),
    ],
    source=live_orders_push,
    online=True,
    description="Written by the checkout service through the push source.",
)

store_wide_stats = FeatureView(
    name="store_wide_stats",
    entities=[],
    ttl=timedelta(days=30),
    schema=[Field(name="active_customers", dtype=Int64)],
    source=store_wide_source,
    online=True,
    description="One row per day for the whole shop (no entity).",
)

customer_merchant_stats = FeatureView(
    name="customer_merchant_stats",
    entities=[customer, merchant],
    ttl=timedelta(days=30),
    schema=[
        Field(name="visits", dtype=Int64),
        Field(name="merchant_spend", dtype=Float64),
    ],
    source=customer_merchant_source,
    online=True,
)

order_quality_labels = LabelView(
    name="order_quality_labels",
    source=labels_push,
    entities=[customer],
    schema=[
        Field(name="customer_id", dtype=Int64),
        Field(name="is_fraud", dtype=Int64),
        Field(name="labeler", dtype=String),
    ],
    reference_feature_view="customer_stats",
    description="Fraud labels from reviewers and the rules engine.",
)


@on_demand_feature_view(
    sources=[customer_stats, checkout_request],
    schema=[Field(name="cart_to_spend_ratio", dtype=Float64)],
    mode="pandas",
    description="Cart value against the customer's usual spend, at request time.",
)
def checkout_features(inputs: pd.DataFrame) -> pd.DataFrame:
    import helpers  # Feast re-creates the UDF from its source text: imports go inside

    out = pd.DataFrame()
    out["cart_to_spend_ratio"] = [
        helpers.safe_ratio(c, s) for c, s in zip(inputs["cart_value"], inputs["total_spend"])
    ]
    return out


@on_demand_feature_view(
    sources=[customer_stats],
    schema=[Field(name="high_value", dtype=Int64)],
    mode="python",
    write_to_online_store=True,
)
def customer_value_flags(inputs: dict) -> dict:
    return {"high_value": [int(spend > 500) for spend in inputs["total_spend"]]}


checkout_model = FeatureService(
    name="checkout_model",
    features=[
        customer_stats,
        customer_merchant_stats[["visits"]],
        store_wide_stats,
        checkout_features,
    ],
    description="Features of the checkout conversion model.",
    owner=OWNER,
    tags={"model": "checkout_model"},
)
'''

LEGACY_FIELD = '        Field(name="legacy_score", dtype=Float64, description="Old propensity score."),\n'

# --- the marketing repo -----------------------------------------------------------------------------

MARKETING_DEFINITIONS = '''"""Marketing features, in the same registry as retail but their own project."""

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource
from feast.types import Int64
from feast.value_type import ValueType

customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)

campaign_source = FileSource(
    name="campaign_source", path="__DATA__/campaign.parquet", timestamp_field="event_timestamp"
)

campaign_engagement = FeatureView(
    name="campaign_engagement",
    entities=[customer],
    ttl=timedelta(days=14),
    schema=[Field(name="email_opens", dtype=Int64), Field(name="clicks", dtype=Int64)],
    source=campaign_source,
    online=True,
    owner="growth@shop.example",
)

campaign_model = FeatureService(name="campaign_model", features=[campaign_engagement])
'''

WAREHOUSE = '''"""Warehouse tables and streams the marketing pipelines read (no credentials here)."""

from datetime import timedelta

from feast import BigQuerySource, FeatureView, Field, KinesisSource, RedshiftSource, SnowflakeSource
from feast.data_format import JsonFormat
from feast.infra.offline_stores.contrib.athena_offline_store.athena_source import AthenaSource
from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import SparkSource
from feast.types import Float64, Int64

from marketing import customer

bq_orders = BigQuerySource(
    name="bq_orders", table="shop-prod.analytics.orders", timestamp_field="event_timestamp"
)
bq_recent_orders = BigQuerySource(
    name="bq_recent_orders",
    query="SELECT * FROM `shop-prod.analytics.orders` WHERE amount > 0",
    timestamp_field="event_timestamp",
)
snowflake_customers = SnowflakeSource(
    name="snowflake_customers",
    database="SHOP",
    schema="PUBLIC",
    table="CUSTOMERS",
    timestamp_field="EVENT_TS",
)
redshift_returns = RedshiftSource(
    name="redshift_returns",
    query="select * from returns where reason is not null",
    database="dev",
    schema="public",
    timestamp_field="event_timestamp",
)
spark_clicks = SparkSource(name="spark_clicks", table="lake.clicks", timestamp_field="event_timestamp")
athena_sessions = AthenaSource(
    name="athena_sessions",
    table="sessions",
    database="lake",
    data_source="AwsDataCatalog",
    timestamp_field="event_timestamp",
)
clicks_kinesis = KinesisSource(
    name="clicks_kinesis",
    stream_name="shop-clicks",
    region="eu-west-1",
    record_format=JsonFormat(schema_json="customer_id bigint, url string, event_timestamp timestamp"),
    timestamp_field="event_timestamp",
    batch_source=spark_clicks,
)

warehouse_orders = FeatureView(
    name="warehouse_orders",
    entities=[customer],
    ttl=timedelta(days=1),
    schema=[Field(name="customer_id", dtype=Int64), Field(name="order_total", dtype=Float64)],
    source=bq_orders,
    online=False,
)
'''

YAML = """project: {project}
provider: local
registry:
  registry_type: sql
  path: sqlite:///{registry}
  cache_ttl_seconds: 60
online_store:
  type: sqlite
  path: data/online_store.db
offline_store:
  type: file
entity_key_serialization_version: 3
mlflow:
  enabled: true
  tracking_uri: {tracking_uri}
  auto_log: true
  auto_log_entity_df: true
  log_operations: true
"""

# --- processes --------------------------------------------------------------------------------------

# The `feast` console script is `feast.cli.cli:cli`; this is it, importing first and starting on "go".
FEAST_CLI = """import sys
from feast.cli.cli import cli
import mlflow  # noqa: F401  (Feast imports it to log the operation; here while waiting)
sys.stdin.readline()
sys.exit(cli(prog_name="feast"))
"""

# Trains through Feast's integration; prints the ids as JSON on its last line.
TRAIN = '''"""Training through Feast's MLflow integration: `feast.mlflow` as the drop-in for `mlflow` (retail)
and `store.mlflow` (marketing), as Feast's docs show them."""

import json
import sys
from datetime import datetime, timezone

import feast.mlflow as feast_mlflow
import mlflow  # noqa: F401
import pandas as pd
from feast import FeatureStore
from sklearn.linear_model import LogisticRegression

retail_repo, marketing_repo, customers, merchants, model_name = sys.argv[1:6]
sys.stdin.readline()
customers, merchants = int(customers), int(merchants)
at = datetime(2024, 1, 20, tzinfo=timezone.utc)
ids = list(range(1, customers + 1))
entity_df = pd.DataFrame(
    {
        "customer_id": ids,
        "merchant_id": [i % merchants + 1 for i in ids],
        "event_timestamp": [at] * customers,
        "cart_value": [float(10 + 7 * i) for i in ids],
        "coupon_code": ["NONE"] * customers,
    }
)
labels = [int(i % 3 == 0) for i in ids]

store = FeatureStore(repo_path=retail_repo)
feast_mlflow.init(store)
with feast_mlflow.start_run(run_name="checkout-train", tags={"team": "retail"}) as run:
    service = store.get_feature_service("checkout_model")
    frame = store.get_historical_features(entity_df=entity_df, features=service).to_df()
    frame = frame.sort_values("customer_id").reset_index(drop=True)
    columns = sorted(c for c in frame.columns if c not in entity_df.columns)
    X = frame[columns].fillna(0.0).astype(float)
    model = LogisticRegression(max_iter=500, random_state=0).fit(X, labels)
    feast_mlflow.log_params({"algorithm": "logistic_regression", "feature_count": len(columns)})
    feast_mlflow.log_metrics({"train_accuracy": float(model.score(X, labels))})
    # given requirements and cloudpickle: inferring them (a subprocess) and skops cost ~30 s of CPU
    feast_mlflow.log_model(
        model, "model", pip_requirements=["scikit-learn"], serialization_format="cloudpickle"
    )
    run_id = run.info.run_id
version = feast_mlflow.register_model(f"runs:/{run_id}/model", model_name)
feast_mlflow.MlflowClient().set_registered_model_alias(model_name, "champion", version.version)

marketing = FeatureStore(repo_path=marketing_repo)
with marketing.mlflow.start_run(run_name="campaign-train") as mrun:
    campaign = marketing.get_historical_features(
        entity_df=entity_df[["customer_id", "event_timestamp"]],
        features=marketing.get_feature_service("campaign_model"),
    ).to_df()
    marketing_run_id = mrun.info.run_id
print(
    json.dumps(
        {
            "run_id": run_id,
            "version": str(version.version),
            "columns": columns,
            "rows": len(X),
            "marketing_run_id": marketing_run_id,
            "marketing_rows": len(campaign),
        }
    )
)
'''


@dataclass
class KindsWorld:
    base: Path
    registry_db: Path
    retail_repo: Path
    marketing_repo: Path
    data_dir: Path
    tracking_uri: str
    training_run_id: str
    model_name: str
    model_version: str
    training_columns: list[str]
    training_rows: int
    marketing_run_id: str
    timings: dict[str, float] = field(default_factory=dict)


def write_data(data_dir: Path) -> None:
    """Small deterministic parquet files (UTC timestamps) behind every file source."""
    import pandas as pd

    data_dir.mkdir(parents=True, exist_ok=True)
    days = [pd.Timestamp(f"2024-01-{d:02d}", tz="UTC") for d in (1, 8, 15)]
    ids = range(1, CUSTOMERS + 1)

    def write(name: str, rows: list[dict[str, Any]]) -> None:
        pd.DataFrame(rows).to_parquet(data_dir / f"{name}.parquet", index=False)

    write(
        "customer_stats",
        [
            {
                "customer_id": c,
                "total_spend": float(40 * c + 5 * k),
                "order_count": int(c % 7 + k),
                "legacy_score": round(c / CUSTOMERS, 3),
                "event_timestamp": day,
                "created": day,
            }
            for c in ids
            for k, day in enumerate(days)
        ],
    )
    orders = [
        {"customer_id": c, "amount": float(5 + (c * 13 + k * 7) % 90), "event_timestamp": day}
        for c in ids
        for k, day in enumerate(days)
    ]
    write("orders", orders)
    write("transactions", orders)
    write(
        "live_orders",
        [
            {
                "customer_id": c,
                "basket_size": c % 5 + 1,
                "last_order_amount": float(c),
                "event_timestamp": days[-1],
            }
            for c in ids
        ],
    )
    write(
        "labels",
        [
            {"customer_id": c, "is_fraud": int(c % 11 == 0), "labeler": "rules", "event_timestamp": days[-1]}
            for c in ids
        ],
    )
    write("store_wide", [{"active_customers": 100 + k, "event_timestamp": day} for k, day in enumerate(days)])
    write(
        "customer_merchant",
        [
            {
                "customer_id": c,
                "merchant_id": m,
                "visits": (c + m) % 6,
                "merchant_spend": float(c * m),
                "event_timestamp": days[0],
            }
            for c in ids
            for m in range(1, MERCHANTS + 1)
        ],
    )
    write(
        "campaign",
        [{"customer_id": c, "email_opens": c % 4, "clicks": c % 2, "event_timestamp": days[1]} for c in ids],
    )


def retail_definitions(data_dir: Path, version: int) -> str:
    """v0: `order_count` Int64 and `legacy_score`; v1: `order_count` Int32, `legacy_score` gone."""
    text = DEFINITIONS.replace("__DATA__", str(data_dir))
    text = text.replace("__ORDER_COUNT_TYPE__", "Int64" if version == 0 else "Int32")
    return text.replace("__LEGACY_FIELD__", LEGACY_FIELD if version == 0 else "")


def write_repo(repo: Path, project: str, registry_db: Path, tracking_uri: str, files: dict[str, str]) -> Path:
    (repo / "data").mkdir(parents=True)
    (repo / "feature_store.yaml").write_text(
        YAML.format(project=project, registry=registry_db, tracking_uri=tracking_uri)
    )
    for name, text in files.items():
        (repo / name).write_text(text)
    return repo


def process_env(**extra: str) -> dict[str, str]:
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    }
    return {
        **inherited,  # not the URIs: an in-process set_tracking_uri elsewhere writes them
        "FEAST_USAGE": "False",
        # a few quick retries: the server's SQLite store answers a write that meets another with a
        # 500 ("database is locked") under load, and one such 500 would fail the whole world
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "PYTHONWARNINGS": "ignore",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Prewarmed:
    """A real step in its own process, started early: it imports feast (and mlflow) at once, then
    waits for a line on stdin, so the imports overlap the MLflow server's start and earlier steps."""

    def __init__(self, label: str, args: list[str], logs: Path, cwd: Path | None = None, **env: str) -> None:
        self.label = label
        self.out = logs / f"{label.replace(' ', '_')}.out"
        self.err = logs / f"{label.replace(' ', '_')}.err"
        self.started = 0.0
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                text=True,
                cwd=cwd,
                env=process_env(**env),
                start_new_session=True,
            )

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.started = time.monotonic()
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.close()
        except BrokenPipeError:  # it died while importing
            self.result()

    def printed(self, text: str, timeout: float = 120) -> None:
        """Block until the step has printed `text` (its stdout is unbuffered)."""
        deadline = time.monotonic() + timeout
        while text not in self.out.read_text():
            if self.proc.poll() is not None:
                self.result()
                raise RuntimeError(f"{self.label} ended without printing {text!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.label} did not print {text!r} within {timeout} s")
            time.sleep(0.1)

    def result(self, timeout: float = 60) -> str:
        """stdout once the step has finished; RuntimeError with its output when it failed."""
        code = self.proc.wait(timeout)
        if code != 0:
            raise RuntimeError(
                f"{self.label} failed ({code}):\n{self.out.read_text()[-3000:]}\n{self.err.read_text()[-4000:]}"
            )
        return self.out.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def feast_step(label: str, repo: Path, logs: Path, *args: str) -> Prewarmed:
    return Prewarmed(label, [sys.executable, "-c", FEAST_CLI, "-c", str(repo), *args], logs)


def build_kinds_world(base: Path, tracking_uri: str, mlflow_ready: Callable[[], Any]) -> KindsWorld:
    """Both projects applied, a materialization and a training run, then retail re-applied: one step
    at a time (their imports are pre-warmed in parallel). `mlflow_ready` blocks until the MLflow
    server at `tracking_uri` answers."""
    start = time.monotonic()
    timings: dict[str, float] = {}
    data_dir, logs = base / "data", base / "logs"
    registry_db = base / "shared" / "registry.db"
    registry_db.parent.mkdir(parents=True)
    logs.mkdir()
    retail = write_repo(
        base / "retail_repo",
        RETAIL,
        registry_db,
        tracking_uri,
        {"definitions.py": retail_definitions(data_dir, 0), "helpers.py": HELPERS},
    )
    marketing = write_repo(
        base / "marketing_repo",
        MARKETING,
        registry_db,
        tracking_uri,
        {"marketing.py": MARKETING_DEFINITIONS.replace("__DATA__", str(data_dir)), "warehouse.py": WAREHOUSE},
    )
    (base / "train.py").write_text(TRAIN)
    materialize_args = [arg for view in MATERIALIZED_VIEWS for arg in ("--views", view)]
    steps = {
        "apply retail v0": feast_step("apply retail v0", retail, logs, "apply"),
        "apply marketing": feast_step(
            "apply marketing", marketing, logs, "apply", "--skip-source-validation"
        ),
        "train": Prewarmed(
            "train",
            [
                sys.executable,
                str(base / "train.py"),
                str(retail),
                str(marketing),
                str(CUSTOMERS),
                str(MERCHANTS),
                MODEL,
            ],
            logs,
            cwd=retail,
            PYTHONPATH=str(retail),  # the ODFV body imports `helpers`, as it would in the team's notebook
            MLFLOW_TRACKING_URI=tracking_uri,  # the registry calls too (mlflow.register_model)
        ),
        "materialize": feast_step(
            "materialize", retail, logs, "materialize", MATERIALIZE_START, MATERIALIZE_END, *materialize_args
        ),
        "apply retail v1": feast_step("apply retail v1", retail, logs, "apply"),
    }

    def run(*labels: str) -> list[str]:
        for label in labels:
            steps[label].go()
            if label == "apply retail v0":
                # the first `feast apply` creates the registry's tables; two at once could race on
                # CREATE TABLE, so the other apply starts once this one has opened the registry
                steps[label].printed(f"Applying changes for project {RETAIL}")
        running, deadline = set(labels), time.monotonic() + 300
        while running and time.monotonic() < deadline:  # each step's own duration, for the timings
            for label in sorted(running):
                if steps[label].proc.poll() is not None:
                    timings[label] = round(time.monotonic() - steps[label].started, 1)
                    running.discard(label)
            time.sleep(0.1)
        return [steps[label].result() for label in labels]

    try:
        write_data(data_dir)
        mlflow_ready()
        timings["until mlflow answers"] = round(time.monotonic() - start, 1)
        # one writer at a time: the MLflow server's SQLite store answers concurrent writes (Feast's ops
        # runs, the training run, registering the model) with 500s under load
        run("apply retail v0")
        run("apply marketing")
        run("materialize")
        trained = json.loads(run("train")[0].strip().splitlines()[-1])
        (retail / "definitions.py").write_text(retail_definitions(data_dir, 1))
        run("apply retail v1")
    finally:
        for step in steps.values():
            step.stop()
    timings["total"] = round(time.monotonic() - start, 1)
    return KindsWorld(
        base=base,
        registry_db=registry_db,
        retail_repo=retail,
        marketing_repo=marketing,
        data_dir=data_dir,
        tracking_uri=tracking_uri,
        training_run_id=trained["run_id"],
        model_name=MODEL,
        model_version=trained["version"],
        training_columns=trained["columns"],
        training_rows=trained["rows"],
        marketing_run_id=trained["marketing_run_id"],
        timings=timings,
    )
