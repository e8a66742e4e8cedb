"""The truth for the serving cases: the predictions table as the pipeline wrote it (read with pandas over
SQLAlchemy; a SQLite file holds the table in its own main schema, whatever schema the server attaches it
as) and the online store as Feast's own `get_online_features` returns it. Never through the server under
test. Without a predictions database the cases that need one are not run (`Case.needs`)."""

from __future__ import annotations

import math
from typing import Any

from .oracle import Missing, Oracle, answer


def predictions(o: Oracle) -> Any:
    """The predictions table (model_version, run_id, created_at, game_id, probability), read once."""
    if o._predictions is None:
        if not o.predictions_uri:
            raise Missing("no predictions database configured")
        import pandas as pd
        import sqlalchemy as sa

        schema, _, name = o.predictions_table.rpartition(".")
        sqlite = o.predictions_uri.startswith("sqlite")
        table = name if sqlite or not schema else f"{schema}.{name}"
        engine = sa.create_engine(o.predictions_uri)
        try:
            with engine.connect() as connection:
                o._predictions = pd.read_sql(
                    sa.text(f"SELECT model_version, run_id, created_at, game_id, probability FROM {table}"),
                    connection,
                )
        finally:
            engine.dispose()
    return o._predictions


def newest_batch(o: Oracle) -> Any:
    """The rows of the newest batch: one created time, model version and run id."""
    frame = predictions(o)
    if frame.empty:
        raise Missing("the predictions table is empty")
    newest = frame[frame["created_at"] == frame["created_at"].max()]
    return newest


def serving_variables(o: Oracle) -> dict[str, Any]:
    """`predicted_game` (a game of the newest batch: scored from online features, so the online store
    holds it) and `predictions_version`, when a predictions table is configured and not empty."""
    try:
        batch = newest_batch(o)
    except Missing:
        return {}
    return {
        "predicted_game": int(batch["game_id"].min()),
        "predictions_version": str(batch["model_version"].iloc[0]),
    }


@answer
def newest_predictions_version(o: Oracle) -> str:
    return str(newest_batch(o)["model_version"].iloc[0])


@answer
def newest_predictions_rows(o: Oracle) -> int:
    return len(newest_batch(o))


@answer
def predictions_batches(o: Oracle) -> int:
    return len(predictions(o)[["created_at", "model_version", "run_id"]].drop_duplicates())


@answer
def newest_predictions_from(o: Oracle, ref: str) -> bool:
    """Whether the newest batch was written by the version `ref` resolves to now."""
    return newest_predictions_version(o) == str(o.version(ref).version)


@answer
def online_value(o: Oracle, view: str, feature: str, game: int) -> float | int | str | bool:
    """The online store's value of `view:feature` for one game, as Feast returns it."""
    values = o.store.get_online_features(
        features=[f"{view}:{feature}"], entity_rows=[{"game_id": int(game)}]
    ).to_dict()
    value = values.get(feature, [None])[0]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise Missing(f"no online value of {view}:{feature} for game {game}")
    return value
