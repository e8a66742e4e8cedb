"""Entities of the NBA analytics Feast repo."""

from feast import Entity, ValueType

game = Entity(
    name="game",
    join_keys=["game_id"],
    value_type=ValueType.INT64,
    description=(
        "One NBA regular-season game, keyed by the NBA stats game id "
        "(e.g. 22300123 = 123rd game of the 2023-24 season)."
    ),
    owner="ml-platform@nba-analytics.example",
    tags={"domain": "games", "team": "ml-platform"},
)

team = Entity(
    name="team",
    join_keys=["team_id"],
    value_type=ValueType.INT64,
    description="One NBA franchise, keyed by the NBA stats team id (e.g. 1610612738 = BOS).",
    owner="ml-platform@nba-analytics.example",
    tags={"domain": "teams", "team": "ml-platform"},
)
