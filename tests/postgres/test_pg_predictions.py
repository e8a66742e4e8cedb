"""The predictions step and the spot-check on PostgreSQL: the demo's `generate_game_predictions`
writes schema `ml_dev` of the profile's PostgreSQL, `predictions_spot_check` answers from it as it
does from the demo's SQLite file, reads in a read-only transaction (a write through its own connection
is refused) and changes nothing; a missing schema or table says what to create or set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.calls import error, ok
from support.postgres import PostgresCluster

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]
DATABASE = "analytics"


def pg_rows(cluster: PostgresCluster) -> list[tuple]:
    import psycopg

    with psycopg.connect(cluster.url(DATABASE)) as connection:
        return connection.execute("SELECT * FROM ml_dev.predictions ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def pg_predictions(pg_cluster: PostgresCluster, demo_seed: Any) -> dict[str, Any]:
    import psycopg

    from mlflow_feast_mcp.demo.predictions import generate_game_predictions

    url, report, workdir = demo_seed
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    uri = pg_cluster.url(DATABASE)
    batch = generate_game_predictions(
        Path(report.feast_repo), url, uri, materialize_log=workdir / "materialize-pg.log"
    )
    return {"url": url, "report": report, "workdir": workdir, "uri": uri, "batch": batch}


def settings(p: dict[str, Any], **overrides: Any) -> Any:
    from mlflow_feast_mcp.core.settings import Settings

    values = {
        "tracking_uri": p["url"],
        "feast_repo": Path(p["report"].feast_repo),
        "predictions_uri": p["uri"],
    }
    return Settings(**(values | overrides))


async def spot_check(s: Any, **arguments: Any) -> Any:
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    async with Client(build_server(s)) as client:
        return await ok(client, "predictions_spot_check", **arguments)


async def test_spot_check_on_postgres_matches_sqlite(pg_cluster, pg_predictions):
    from mlflow_feast_mcp.demo.predictions import predictions_uri

    p = pg_predictions
    rows = pg_rows(pg_cluster)
    assert len(rows) == p["batch"].rows > 0
    before = rows
    on_pg = await spot_check(settings(p))
    on_sqlite = await spot_check(settings(p, predictions_uri=predictions_uri(p["workdir"])))
    assert on_pg.data["verdict"].startswith("OK") and on_pg.data["rows"] == len(rows)
    assert on_pg.data["database"] == p["uri"] and on_pg.data["table"] == "ml_dev.predictions"
    # the same model on the same online features: the same picks and probabilities as the SQLite batch
    assert on_pg.data["samples"] == on_sqlite.data["samples"]
    for key in ("model_version", "run_id", "rows", "probability_min", "probability_max", "home_pick_share"):
        assert on_pg.data["newest"][key] == on_sqlite.data["newest"][key], key
    assert pg_rows(pg_cluster) == before  # nothing written


async def test_postgres_connection_is_read_only(pg_cluster, pg_predictions):
    import sqlalchemy as sa

    from mlflow_feast_mcp.backends.predictions import PredictionsStore

    before = pg_rows(pg_cluster)
    store = PredictionsStore(pg_predictions["uri"], "ml_dev.predictions")
    try:
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"), store.engine.begin() as c:
            c.execute(sa.text("DELETE FROM ml_dev.predictions"))
        assert store.reachable()[0] == len(before)
    finally:
        store.close()
    assert pg_rows(pg_cluster) == before


async def test_postgres_missing_schema_and_table_say_what_to_create(pg_predictions):
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    p = pg_predictions
    async with Client(build_server(settings(p, predictions_table="ml_prod.predictions"))) as client:
        schema = await error(client, "predictions_spot_check")
    async with Client(build_server(settings(p, predictions_table="ml_dev.forecasts"))) as client:
        table = await error(client, "predictions_spot_check")
    assert "schema 'ml_prod' does not exist" in schema and "MLFLOW_FEAST_MCP_PREDICTIONS_TABLE" in schema
    assert "no table ml_dev.forecasts" in table and "tables there: predictions" in table
