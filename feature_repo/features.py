"""Feature views and the feature service of the NBA game-winner model.

Training (``train_game_winner_model``) reads the same two warehouse tables that back
``game_features`` and ``game_momentum_features``; keep these schemas aligned with the feature
list the training run logs to MLflow (``training_artifacts/features.json``).
"""

from datetime import timedelta

import pandas as pd
from data_sources import int_game_momentum_features, mart_game_features
from entities import game
from feast import FeatureService, FeatureView, Field
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Bool, Float64, Int64

OWNER = "ml-platform@nba-analytics.example"

game_features = FeatureView(
    name="game_features",
    entities=[game],
    ttl=timedelta(days=365),
    schema=[
        Field(name="home_team_id", dtype=Int64, description="NBA team id of the home team."),
        Field(name="away_team_id", dtype=Int64, description="NBA team id of the away team."),
        Field(
            name="home_win_pct_l10",
            dtype=Float64,
            description="Home team's win percentage over its last 10 games before this game (0.5 if none).",
        ),
        Field(
            name="away_win_pct_l10",
            dtype=Float64,
            description="Away team's win percentage over its last 10 games before this game (0.5 if none).",
        ),
        Field(
            name="home_point_diff_l10",
            dtype=Float64,
            description="Home team's average point differential over its last 10 games.",
        ),
        Field(
            name="away_point_diff_l10",
            dtype=Float64,
            description="Away team's average point differential over its last 10 games.",
        ),
        Field(
            name="home_season_win_pct",
            dtype=Float64,
            description="Home team's win percentage so far this season (0.5 before its first game).",
        ),
        Field(
            name="away_season_win_pct",
            dtype=Float64,
            description="Away team's win percentage so far this season (0.5 before its first game).",
        ),
        Field(
            name="rest_days_home",
            dtype=Int64,
            description="Days since the home team's previous game (capped at 7; 7 at season start).",
        ),
        Field(
            name="rest_days_away",
            dtype=Int64,
            description="Days since the away team's previous game (capped at 7; 7 at season start).",
        ),
        Field(
            name="home_back_to_back",
            dtype=Bool,
            description="True if the home team also played the day before.",
        ),
        Field(
            name="away_back_to_back",
            dtype=Bool,
            description="True if the away team also played the day before.",
        ),
        Field(
            name="home_elo",
            dtype=Float64,
            description="Home team's ELO rating before the game (K=20, 75% carried over between seasons).",
        ),
        Field(name="away_elo", dtype=Float64, description="Away team's ELO rating before the game."),
        Field(name="elo_diff", dtype=Float64, description="home_elo - away_elo."),
        Field(
            name="h2h_home_win_pct",
            dtype=Float64,
            description="Home team's win percentage in the last 5 meetings of the two teams (0.5 if none).",
        ),
    ],
    online=True,
    source=mart_game_features,
    description=(
        "Pre-game features of an NBA game: rolling form (last 10), season record, rest and "
        "back-to-backs, ELO and head-to-head. Source: marts__local.mart_game_features."
    ),
    owner=OWNER,
    tags={"team": "ml-platform", "domain": "games", "model": "game_winner_model"},
)

game_momentum_features = FeatureView(
    name="game_momentum_features",
    entities=[game],
    ttl=timedelta(days=365),
    schema=[
        Field(name="home_win_streak", dtype=Int64, description="Consecutive wins of the home team going in."),
        Field(name="away_win_streak", dtype=Int64, description="Consecutive wins of the away team going in."),
        Field(
            name="home_loss_streak", dtype=Int64, description="Consecutive losses of the home team going in."
        ),
        Field(
            name="away_loss_streak", dtype=Int64, description="Consecutive losses of the away team going in."
        ),
        Field(
            name="home_win_pct_l5",
            dtype=Float64,
            description="Home team's win percentage over its last 5 games.",
        ),
        Field(
            name="away_win_pct_l5",
            dtype=Float64,
            description="Away team's win percentage over its last 5 games.",
        ),
        Field(
            name="home_point_diff_l5",
            dtype=Float64,
            description="Home team's average point differential over its last 5 games.",
        ),
        Field(
            name="away_point_diff_l5",
            dtype=Float64,
            description="Away team's average point differential over its last 5 games.",
        ),
        Field(
            name="momentum_diff",
            dtype=Float64,
            description=(
                "Home minus away momentum score; momentum = win_pct_l5 + point_diff_l5/20 + streak/10."
            ),
        ),
    ],
    online=True,
    source=int_game_momentum_features,
    description=(
        "Short-term momentum of both teams going into an NBA game: streaks, last-5 form and a "
        "momentum score. Source: intermediate__local.int_game_momentum_features."
    ),
    owner=OWNER,
    tags={"team": "ml-platform", "domain": "games", "model": "game_winner_model"},
)


@on_demand_feature_view(
    sources=[game_features],
    # No Field descriptions here: feast 0.67 compares the declared fields with the inferred ones
    # including their descriptions, and `feast apply` fails with SpecifiedFeaturesNotPresentError.
    schema=[
        Field(name="win_pct_l10_diff", dtype=Float64),  # home_win_pct_l10 - away_win_pct_l10
        Field(name="point_diff_l10_diff", dtype=Float64),  # home_point_diff_l10 - away_point_diff_l10
        Field(name="rest_diff", dtype=Int64),  # rest_days_home - rest_days_away
    ],
    mode="pandas",
    description="Home-minus-away matchup differences computed at request time from game_features.",
    owner=OWNER,
    tags={"team": "ml-platform", "domain": "games"},
)
def game_matchup_odv(inputs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame()
    out["win_pct_l10_diff"] = (inputs["home_win_pct_l10"] - inputs["away_win_pct_l10"]).astype("float64")
    out["point_diff_l10_diff"] = (inputs["home_point_diff_l10"] - inputs["away_point_diff_l10"]).astype(
        "float64"
    )
    out["rest_diff"] = (inputs["rest_days_home"] - inputs["rest_days_away"]).astype("int64")
    return out


game_winner_v1 = FeatureService(
    name="game_winner_v1",
    features=[game_features, game_momentum_features],
    description="Features of the game_winner_model (nba_game_winner_prediction): game + momentum views.",
    owner=OWNER,
    tags={"team": "ml-platform", "model": "game_winner_model"},
)
