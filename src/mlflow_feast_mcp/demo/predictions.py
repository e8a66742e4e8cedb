"""The seed's `generate_game_predictions`, for real, on the demo world.

1. `feast materialize` (the CLI, in a subprocess) loads the offline data into the online store;
   meanwhile the model in Production is loaded through MLflow by its `models:/` URI (a real pyfunc
   load of the demo's own model; the MCP server itself never loads models).
2. The upcoming games (the last `UPCOMING_DAYS` game days of the data: the demo's "slate") are read
   from the online store through the model's feature service, `get_online_features`.
3. The model scores them and the rows are appended to `ml_dev.predictions`: by default a SQLite file
   (`workdir/predictions.db`) attached as schema `ml_dev`, or schema `ml_dev` of a PostgreSQL
   database. Every run appends one batch (one created time); old rows are never rewritten.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..backends.predictions import split_table_name
from ..core.settings import DEFAULT_PREDICTIONS_TABLE
from . import nba_data, processes

DB_FILE = "predictions.db"
MATERIALIZE_LOG = "feast-materialize.log"
UPCOMING_DAYS = 3
MODEL_NAME = "game_winner_model"  # seeder.MODEL_NAME
FEATURE_SERVICE = "game_winner_v1"  # seeder.FEATURE_SERVICE


@dataclass(frozen=True)
class PredictionBatch:
    """One run of generate_game_predictions: what it wrote and what the table holds after it."""

    rows: int
    created_at: str
    model_name: str
    model_version: str
    run_id: str
    feature_service: str
    table: str
    table_rows: int
    table_batches: int
    seconds: dict[str, float]


def predictions_uri(workdir: Path) -> str:
    """The demo's default predictions database: a SQLite file in the demo folder."""
    return f"sqlite:///{(Path(workdir).resolve() / DB_FILE)}"


def table_definition(sa: Any, metadata: Any, table: str) -> Any:
    """`ml_dev.predictions` as the pipeline writes it (the spot-check reads these names)."""
    schema, name = split_table_name(table)
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("game_id", sa.BigInteger, nullable=False),
        sa.Column("game_date", sa.Date),
        sa.Column("home_team_id", sa.BigInteger),
        sa.Column("away_team_id", sa.BigInteger),
        sa.Column("predicted_winner", sa.BigInteger, nullable=False),
        sa.Column("probability", sa.Float, nullable=False, comment="probability of the predicted winner"),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("feature_service", sa.String(256)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


def writer_engine(uri: str, table: str) -> Any:
    """A read-write engine: SQLite attaches its file under the table's schema (created if missing);
    PostgreSQL creates the schema if needed."""
    import sqlalchemy as sa

    schema, _ = split_table_name(table)
    url = sa.engine.make_url(uri)
    if url.get_backend_name() != "sqlite":
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        if schema:
            with engine.begin() as connection:
                connection.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        return engine
    file = Path(url.database or "").expanduser().resolve()
    file.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        if not schema or schema == "main":
            return sqlite3.connect(str(file))
        connection = sqlite3.connect(":memory:")
        connection.execute(f'ATTACH DATABASE ? AS "{schema}"', (str(file),))
        return connection

    return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)


# ---------------------------------------------------------------------------------------------
# The steps


def _materialize_command(repo: Path, start: datetime, end: datetime) -> list[str]:
    code = "import sys; from feast.cli.cli import cli; sys.exit(cli())"
    stamps = [moment.strftime("%Y-%m-%dT%H:%M:%S") for moment in (start, end)]
    return [sys.executable, "-c", code, "-c", str(repo), "materialize", *stamps]


def _data_window(repo: Path) -> tuple[datetime, datetime, list[int], Any]:
    """(first event, last event + 1 day, the upcoming games' ids, their dates) from the offline data."""
    import pandas as pd

    games = pd.read_parquet(
        repo / "data" / nba_data.GAME_FEATURES_FILE, columns=[nba_data.ENTITY_KEY, nba_data.TIMESTAMP_FIELD]
    )
    stamps = games[nba_data.TIMESTAMP_FIELD]
    days = sorted(stamps.dt.date.unique())[-UPCOMING_DAYS:]
    slate = games[stamps.dt.date.isin(days)].sort_values([nba_data.TIMESTAMP_FIELD, nba_data.ENTITY_KEY])
    dates = dict(zip(slate[nba_data.ENTITY_KEY], slate[nba_data.TIMESTAMP_FIELD].dt.date, strict=True))
    start = stamps.min().to_pydatetime() - timedelta(days=1)
    end = stamps.max().to_pydatetime() + timedelta(days=1)
    return start, end, [int(g) for g in slate[nba_data.ENTITY_KEY]], dates


def feast_materialize(repo: Path, log: Path, meanwhile: Callable[[], Any] | None = None) -> Any:
    """`feast materialize` over the whole data range, in a subprocess; returns what `meanwhile` did."""
    start, end, _, _ = _data_window(repo)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "FEAST_USAGE": "False"}
    Path(log).unlink(missing_ok=True)
    proc = processes.start_process(_materialize_command(repo, start, end), log=Path(log), env=env, cwd=repo)
    try:
        result = meanwhile() if meanwhile is not None else None
        rc = proc.wait(timeout=300)
    finally:
        processes.stop_process(proc)
    if rc != 0:
        raise RuntimeError(
            f"feast materialize failed (exit {rc}); see {log}:\n{Path(log).read_text()[-3000:]}"
        )
    return result


@contextlib.contextmanager
def _mlflow_at(tracking_uri: str) -> Iterator[Any]:
    """A client on `tracking_uri` with the process-wide URIs a `models:/` load needs, put back after."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from .seeder import restoring_process_mlflow_uris

    with restoring_process_mlflow_uris():
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        yield MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def load_model(client: Any, model_name: str, stage: str) -> tuple[Any, str, str]:
    """(pyfunc model, version, run id) of the version in `stage`, loaded from `models:/name/stage`."""
    import mlflow.pyfunc

    from .seeder import _quiet

    escaped = model_name.replace("'", "\\'")
    versions = client.search_model_versions(f"name = '{escaped}'")
    in_stage = sorted((v for v in versions if v.current_stage == stage), key=lambda v: -int(v.version))
    if not in_stage:
        raise RuntimeError(f"no version of {model_name} is in stage {stage}: nothing to predict with")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = mlflow.pyfunc.load_model(f"models:/{model_name}/{stage}")
    return model, str(in_stage[0].version), str(in_stage[0].run_id)


def online_frame(repo: Path, game_ids: list[int]) -> Any:
    """The upcoming games' features from the online store, through the model's feature service."""
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(repo))
    rows = [{nba_data.ENTITY_KEY: g} for g in game_ids]
    service = store.get_feature_service(FEATURE_SERVICE)
    return store.get_online_features(features=service, entity_rows=rows).to_df()


def score(model: Any, frame: Any) -> Any:
    """The home team's win probability per row, with the features the model's signature names."""
    schema = model.metadata.get_input_schema()
    if schema is None:
        raise RuntimeError("the Production model has no signature: its features are unknown")
    names = schema.input_names()
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise RuntimeError(f"the online store lacks features the model needs: {', '.join(missing)}")
    features = frame[names].astype("float64").fillna(0)  # as training filled gaps
    return model.get_raw_model().predict_proba(features)[:, 1]


def _rows(frame: Any, p_home: Any, dates: dict[int, Any], meta: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for game_id, home, away, p in zip(
        frame[nba_data.ENTITY_KEY], frame["home_team_id"], frame["away_team_id"], p_home, strict=True
    ):
        home_wins = float(p) >= 0.5
        rows.append(
            {
                "game_id": int(game_id),
                "game_date": dates.get(int(game_id)),
                "home_team_id": int(home),
                "away_team_id": int(away),
                "predicted_winner": int(home if home_wins else away),
                "probability": round(float(p) if home_wins else 1.0 - float(p), 6),
                **meta,
            }
        )
    return rows


def write_batch(uri: str, table: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Append `rows` (creating the table if needed); returns (rows, batches) in the table after."""
    import sqlalchemy as sa

    engine = writer_engine(uri, table)
    try:
        metadata = sa.MetaData()
        target = table_definition(sa, metadata, table)
        with engine.begin() as connection:
            metadata.create_all(connection)
            connection.execute(sa.insert(target), rows)
            count = sa.select(sa.func.count(), sa.func.count(sa.distinct(target.c.created_at)))
            total, batches = connection.execute(count).one()
    finally:
        engine.dispose()
    return int(total), int(batches)


def generate_game_predictions(
    repo: Path,
    tracking_uri: str,
    uri: str,
    table: str = DEFAULT_PREDICTIONS_TABLE,
    *,
    model_name: str = MODEL_NAME,
    stage: str = "Production",
    materialize_log: Path | None = None,
) -> PredictionBatch:
    """Materialize, load the model in `stage`, score the upcoming games from online features, append."""
    repo = Path(repo).resolve()
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    _, _, game_ids, dates = _data_window(repo)
    with _mlflow_at(tracking_uri) as client:
        loaded = feast_materialize(
            repo,
            materialize_log or repo.parent / MATERIALIZE_LOG,
            lambda: load_model(client, model_name, stage),
        )
    model, version, run_id = loaded
    seconds["materialize_and_load_s"] = round(time.monotonic() - t0, 1)
    t1 = time.monotonic()
    frame = online_frame(repo, game_ids)
    p_home = score(model, frame)
    created = datetime.now(timezone.utc)
    meta = {
        "model_name": model_name,
        "model_version": version,
        "run_id": run_id,
        "feature_service": FEATURE_SERVICE,
        "created_at": created,
    }
    rows = _rows(frame, p_home, dates, meta)
    total, batches = write_batch(uri, table, rows)
    seconds["score_and_write_s"] = round(time.monotonic() - t1, 1)
    return PredictionBatch(
        rows=len(rows),
        created_at=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        model_name=model_name,
        model_version=version,
        run_id=run_id,
        feature_service=FEATURE_SERVICE,
        table=table,
        table_rows=total,
        table_batches=batches,
        seconds=seconds,
    )


# ---------------------------------------------------------------------------------------------
# The demo's step


def existing_batches(uri: str, table: str = DEFAULT_PREDICTIONS_TABLE) -> tuple[int, int, str | None] | None:
    """(rows, batches, newest) already in the table, read-only; None when there is no table yet."""
    from ..backends.predictions import PredictionsStore
    from ..core.errors import DomainError

    try:
        store = PredictionsStore(uri, table)
    except DomainError:
        return None
    try:
        return store.reachable()
    except DomainError:
        return None
    finally:
        store.close()


def demo_step(
    workdir: Path,
    tracking_uri: str,
    feast_repo: Path,
    *,
    again: bool,
    progress: Callable[[str], None],
    mlflow_ready: Callable[[], None] | None = None,
) -> PredictionBatch | None:
    """After seeding: generate a batch, unless one exists and `again` is not asked (a restart reuses
    the table, so it stays fast; `mlflow-feast-mcp demo --predict` appends a new batch)."""
    uri = predictions_uri(workdir)
    existing = None if again else existing_batches(uri)
    where = f"{DEFAULT_PREDICTIONS_TABLE} ({Path(workdir) / DB_FILE})"
    if existing is not None:
        rows, batches, newest = existing
        progress(
            f"[predictions] reusing {where}: {rows} rows in {batches} batch{'es' if batches != 1 else ''}, "
            f"newest {newest} (--predict adds a batch)"
        )
        return None
    if mlflow_ready is not None:
        mlflow_ready()
    progress(
        "[predictions] generate_game_predictions: feast materialize, the Production model, online features"
    )
    started = time.monotonic()
    batch = generate_game_predictions(
        feast_repo, tracking_uri, uri, materialize_log=Path(workdir) / MATERIALIZE_LOG
    )
    progress(
        f"[predictions] {batch.model_name} v{batch.model_version} (Production, run {batch.run_id[:8]}) scored "
        f"{batch.rows} upcoming games from {batch.feature_service} online features: +{batch.rows} rows -> "
        f"{where}, now {batch.table_rows} rows in {batch.table_batches} batch"
        f"{'es' if batch.table_batches != 1 else ''} ({time.monotonic() - started:.1f}s)"
    )
    return batch
