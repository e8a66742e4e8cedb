"""Offline data sources of the NBA analytics Feast repo.

Locally the two warehouse tables that training reads are parquet files, written by
``python -m mlflow_feast_mcp.demo.nba_data <data dir>``:

- ``mart_game_features``          stands for ``marts__local.mart_game_features``
- ``int_game_momentum_features``  stands for ``intermediate__local.int_game_momentum_features``

The data directory defaults to ``data/`` beside this file and can be moved with the environment
variable ``NBA_FEATURE_DATA_DIR``. README.md shows how to point the same names at PostgreSQL.
"""

import os
from pathlib import Path

from feast import FileSource

REPO_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("NBA_FEATURE_DATA_DIR") or REPO_DIR / "data").expanduser().resolve()

OWNER = "data-eng@nba-analytics.example"

mart_game_features = FileSource(
    name="mart_game_features",
    path=str(DATA_DIR / "game_features.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
    description=(
        "Pre-game features per NBA game (rolling form, rest, ELO, head-to-head). "
        "Stands for the dbt mart table marts__local.mart_game_features."
    ),
    tags={"warehouse_table": "marts__local.mart_game_features", "layer": "mart", "domain": "games"},
    owner=OWNER,
)

int_game_momentum_features = FileSource(
    name="int_game_momentum_features",
    path=str(DATA_DIR / "game_momentum_features.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
    description=(
        "Momentum features per NBA game (streaks, last-5 form, momentum score). "
        "Stands for the dbt intermediate table intermediate__local.int_game_momentum_features."
    ),
    tags={
        "warehouse_table": "intermediate__local.int_game_momentum_features",
        "layer": "intermediate",
        "domain": "games",
    },
    owner=OWNER,
)
