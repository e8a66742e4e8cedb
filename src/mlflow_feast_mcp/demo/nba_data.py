"""Deterministic synthetic NBA game data for the demo Feast repo (``feature_repo/``).

The generator simulates ``n_seasons`` regular seasons of a 30-team league with a latent team
strength that drifts within and between seasons. Every game's features are computed from the
games *before* it (no leakage): rolling win percentage and point differential over the last 10
and 5 games, rest days and back-to-backs, an ELO rating, head-to-head record and streaks. The
label ``home_team_won`` is drawn from a logistic model of latent strength, rest, fatigue and
form, so a classifier on the features reaches a realistic 0.62-0.70 accuracy.

Output (all parquet, overwritten on every call, byte-for-byte content is a function of the seed):

- ``game_features.parquet``: stands for the warehouse table ``marts__local.mart_game_features``
- ``game_momentum_features.parquet``: stands for ``intermediate__local.int_game_momentum_features``
- ``labels.parquet``: ``game_id, event_timestamp, home_team_won``, an entity dataframe for training

This module imports numpy and pandas only where it generates data (never feast or mlflow), so
tests and the demo seeder read the feature names and Feast dtypes from :data:`GAME_FEATURES` /
:data:`MOMENTUM_FEATURES` cheaply.

CLI: ``python -m mlflow_feast_mcp.demo.nba_data OUT_DIR [--seasons N]``
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: reading the names and dtypes costs no numpy/pandas
    import numpy as np
    import pandas as pd

SEED = 20240601
FIRST_SEASON = 2022  # season 2022 is the 2022-23 regular season
GAMES_PER_TEAM = 82
SEASON_DAYS = 174  # late October to mid April

# Warehouse tables of the seed document that the parquet files stand for.
GAME_FEATURES_TABLE = "marts__local.mart_game_features"
MOMENTUM_FEATURES_TABLE = "intermediate__local.int_game_momentum_features"

GAME_FEATURES_FILE = "game_features.parquet"
MOMENTUM_FEATURES_FILE = "game_momentum_features.parquet"
LABELS_FILE = "labels.parquet"

ENTITY_KEY = "game_id"
TIMESTAMP_FIELD = "event_timestamp"
CREATED_FIELD = "created"
LABEL = "home_team_won"

# Feature name -> Feast dtype name (a name in ``feast.types``: Int64, Float64, Bool, ...).
GAME_FEATURES: dict[str, str] = {
    "home_team_id": "Int64",
    "away_team_id": "Int64",
    "home_win_pct_l10": "Float64",
    "away_win_pct_l10": "Float64",
    "home_point_diff_l10": "Float64",
    "away_point_diff_l10": "Float64",
    "home_season_win_pct": "Float64",
    "away_season_win_pct": "Float64",
    "rest_days_home": "Int64",
    "rest_days_away": "Int64",
    "home_back_to_back": "Bool",
    "away_back_to_back": "Bool",
    "home_elo": "Float64",
    "away_elo": "Float64",
    "elo_diff": "Float64",
    "h2h_home_win_pct": "Float64",
}

MOMENTUM_FEATURES: dict[str, str] = {
    "home_win_streak": "Int64",
    "away_win_streak": "Int64",
    "home_loss_streak": "Int64",
    "away_loss_streak": "Int64",
    "home_win_pct_l5": "Float64",
    "away_win_pct_l5": "Float64",
    "home_point_diff_l5": "Float64",
    "away_point_diff_l5": "Float64",
    "momentum_diff": "Float64",
}

FEATURE_DESCRIPTIONS: dict[str, str] = {
    "home_team_id": "NBA team id of the home team.",
    "away_team_id": "NBA team id of the away team.",
    "home_win_pct_l10": "Home team's win percentage over its last 10 games before this game (0.5 if none).",
    "away_win_pct_l10": "Away team's win percentage over its last 10 games before this game (0.5 if none).",
    "home_point_diff_l10": "Home team's average point differential over its last 10 games.",
    "away_point_diff_l10": "Away team's average point differential over its last 10 games.",
    "home_season_win_pct": "Home team's win percentage so far this season (0.5 before its first game).",
    "away_season_win_pct": "Away team's win percentage so far this season (0.5 before its first game).",
    "rest_days_home": "Days since the home team's previous game (capped at 7; 7 at season start).",
    "rest_days_away": "Days since the away team's previous game (capped at 7; 7 at season start).",
    "home_back_to_back": "True if the home team also played the day before.",
    "away_back_to_back": "True if the away team also played the day before.",
    "home_elo": "Home team's ELO rating before the game (K=20, 75% carried over between seasons).",
    "away_elo": "Away team's ELO rating before the game.",
    "elo_diff": "home_elo - away_elo.",
    "h2h_home_win_pct": "Home team's win percentage in the last 5 meetings of the two teams (0.5 if none).",
    "home_win_streak": "Consecutive wins of the home team going in.",
    "away_win_streak": "Consecutive wins of the away team going in.",
    "home_loss_streak": "Consecutive losses of the home team going in.",
    "away_loss_streak": "Consecutive losses of the away team going in.",
    "home_win_pct_l5": "Home team's win percentage over its last 5 games.",
    "away_win_pct_l5": "Away team's win percentage over its last 5 games.",
    "home_point_diff_l5": "Home team's average point differential over its last 5 games.",
    "away_point_diff_l5": "Away team's average point differential over its last 5 games.",
    "momentum_diff": "Home minus away momentum score; momentum = win_pct_l5 + point_diff_l5/20 + streak/10.",
}

# The 30 franchises with their NBA stats team ids.
TEAMS: dict[int, str] = {
    1610612737: "ATL",
    1610612738: "BOS",
    1610612739: "CLE",
    1610612740: "NOP",
    1610612741: "CHI",
    1610612742: "DAL",
    1610612743: "DEN",
    1610612744: "GSW",
    1610612745: "HOU",
    1610612746: "LAC",
    1610612747: "LAL",
    1610612748: "MIA",
    1610612749: "MIL",
    1610612750: "MIN",
    1610612751: "BKN",
    1610612752: "NYK",
    1610612753: "ORL",
    1610612754: "IND",
    1610612755: "PHI",
    1610612756: "PHX",
    1610612757: "POR",
    1610612758: "SAC",
    1610612759: "SAS",
    1610612760: "OKC",
    1610612761: "TOR",
    1610612762: "UTA",
    1610612763: "MEM",
    1610612764: "WAS",
    1610612765: "DET",
    1610612766: "CHA",
}
TEAM_IDS: tuple[int, ...] = tuple(TEAMS)


def feature_names(table: str = "all") -> list[str]:
    """Feature names of ``"game"``, ``"momentum"`` or ``"all"`` (game first), in column order."""
    if table == "game":
        return list(GAME_FEATURES)
    if table == "momentum":
        return list(MOMENTUM_FEATURES)
    if table == "all":
        return [*GAME_FEATURES, *MOMENTUM_FEATURES]
    raise ValueError(f"unknown table {table!r}; expected 'game', 'momentum' or 'all'")


def _sigmoid(x: float) -> float:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-x))


class _TeamState:
    __slots__ = ("elo", "last_day", "margins", "n_games", "n_wins", "results", "streak")

    def __init__(self, elo: float) -> None:
        self.elo = elo
        self.reset_season()

    def reset_season(self) -> None:
        self.results: deque[int] = deque(maxlen=10)
        self.margins: deque[float] = deque(maxlen=10)
        self.n_games = 0
        self.n_wins = 0
        self.streak = 0  # >0 win streak, <0 loss streak
        self.last_day: int | None = None

    def win_pct(self, n: int) -> float:
        import numpy as np

        r = list(self.results)[-n:]
        return float(np.mean(r)) if r else 0.5

    def point_diff(self, n: int) -> float:
        import numpy as np

        m = list(self.margins)[-n:]
        return float(np.mean(m)) if m else 0.0

    def rest(self, day: int) -> int:
        return 7 if self.last_day is None else min(day - self.last_day, 7)

    def momentum(self) -> float:
        return self.win_pct(5) + self.point_diff(5) / 20.0 + self.streak / 10.0


def _schedule_day(
    rng: np.random.Generator, day: int, states: list[_TeamState], played: np.ndarray, target: int
) -> list[tuple[int, int]]:
    """Pick the games of one day: (home_idx, away_idx) pairs, teams at most once a day."""
    import numpy as np

    n_teams = len(states)
    remaining = target - played
    if remaining.sum() <= 0:
        return []
    expected = target * (day + 1) / SEASON_DAYS
    n_games = int(np.clip(rng.poisson(7.1), 2, n_teams // 2))
    weights = np.empty(n_teams)
    for i, st in enumerate(states):
        rest = st.rest(day)
        w = 0.12 if rest == 1 else (1.0 if rest == 2 else 1.6)
        w *= np.exp((expected - played[i]) / 2.5)
        weights[i] = w if remaining[i] > 0 else 0.0
    available = int((weights > 0).sum())
    n_games = min(n_games, available // 2)
    if n_games == 0:
        return []
    chosen = rng.choice(n_teams, size=2 * n_games, replace=False, p=weights / weights.sum())
    return [(int(chosen[2 * k]), int(chosen[2 * k + 1])) for k in range(n_games)]


def _pregame_features(h: _TeamState, w: _TeamState, day: int, h2h_pct: float) -> dict[str, Any]:
    """Every feature of one game, from the two teams' states before it."""
    rest_h, rest_a = h.rest(day), w.rest(day)
    return {
        "home_win_pct_l10": h.win_pct(10),
        "away_win_pct_l10": w.win_pct(10),
        "home_point_diff_l10": round(h.point_diff(10), 2),
        "away_point_diff_l10": round(w.point_diff(10), 2),
        "home_season_win_pct": h.n_wins / h.n_games if h.n_games else 0.5,
        "away_season_win_pct": w.n_wins / w.n_games if w.n_games else 0.5,
        "rest_days_home": rest_h,
        "rest_days_away": rest_a,
        "home_back_to_back": rest_h == 1,
        "away_back_to_back": rest_a == 1,
        "home_elo": round(h.elo, 1),
        "away_elo": round(w.elo, 1),
        "elo_diff": round(h.elo - w.elo, 1),
        "h2h_home_win_pct": h2h_pct,
        "home_win_streak": max(h.streak, 0),
        "away_win_streak": max(w.streak, 0),
        "home_loss_streak": max(-h.streak, 0),
        "away_loss_streak": max(-w.streak, 0),
        "home_win_pct_l5": h.win_pct(5),
        "away_win_pct_l5": w.win_pct(5),
        "home_point_diff_l5": round(h.point_diff(5), 2),
        "away_point_diff_l5": round(w.point_diff(5), 2),
        "momentum_diff": round(h.momentum() - w.momentum(), 3),
    }


def _outcome(rng: np.random.Generator, strength_gap: float, feats: dict[str, Any]) -> tuple[int, int]:
    """(home_won, home margin) from a logistic model: home court, latent strength, fatigue, rest
    and form."""
    rest_h, rest_a = feats["rest_days_home"], feats["rest_days_away"]
    logit = (
        0.30
        + 1.05 * strength_gap
        - 0.30 * feats["home_back_to_back"]
        + 0.30 * feats["away_back_to_back"]
        + 0.04 * (min(rest_h, 4) - min(rest_a, 4))
        + 0.25 * (feats["home_win_pct_l5"] - feats["away_win_pct_l5"])
    )
    home_won = int(rng.random() < _sigmoid(logit))
    margin_size = 1 + int(rng.gamma(2.0, 4.0 + 2.5 * abs(strength_gap)))
    return home_won, margin_size if home_won else -margin_size


def _record_result(h: _TeamState, w: _TeamState, home_won: int, margin: int, day: int) -> None:
    """ELO update (home advantage 70 points in the expectation) and both teams' form."""
    exp_home = 1.0 / (1.0 + 10 ** (-(h.elo + 70.0 - w.elo) / 400.0))
    delta = 20.0 * (home_won - exp_home)
    h.elo += delta
    w.elo -= delta
    for st, won, mg in ((h, home_won, margin), (w, 1 - home_won, -margin)):
        st.results.append(won)
        st.margins.append(float(mg))
        st.n_games += 1
        st.n_wins += won
        st.streak = (max(st.streak, 0) + 1) if won else (min(st.streak, 0) - 1)
        st.last_day = day


@dataclass
class _League:
    rng: np.random.Generator
    strength: np.ndarray  # latent, in logit units
    states: list[_TeamState]
    h2h: dict[tuple[int, int], deque[int]] = field(default_factory=dict)  # sorted pair -> winners
    rows: list[dict[str, Any]] = field(default_factory=list)

    def play(self, season: int, seq: int, day: int, game_day: date, hi: int, ai: int) -> None:
        """One game: features, outcome, state updates and its row."""
        import numpy as np

        h, w = self.states[hi], self.states[ai]
        key = (min(hi, ai), max(hi, ai))
        meetings = self.h2h.get(key)
        h2h_pct = float(np.mean([x == hi for x in meetings])) if meetings else 0.5
        feats = _pregame_features(h, w, day, h2h_pct)
        home_won, margin = _outcome(self.rng, self.strength[hi] - self.strength[ai], feats)
        _record_result(h, w, home_won, margin, day)
        self.h2h.setdefault(key, deque(maxlen=5)).append(hi if home_won else ai)
        ts = datetime(game_day.year, game_day.month, game_day.day, tzinfo=timezone.utc)
        self.rows.append(
            {
                ENTITY_KEY: int(f"2{season % 100:02d}{seq:05d}"),
                TIMESTAMP_FIELD: ts,
                CREATED_FIELD: ts + timedelta(hours=9),  # nightly ETL load
                "season": season,
                "home_team_id": TEAM_IDS[hi],
                "away_team_id": TEAM_IDS[ai],
                **feats,
                "home_points_margin": margin,
                LABEL: home_won,
            }
        )

    def season(self, s: int) -> None:
        import numpy as np

        n_teams = len(self.states)
        season = FIRST_SEASON + s
        start = date(season, 10, 18)
        if s > 0:  # off-season: rosters change, ELO regresses to the mean
            self.strength = 0.7 * self.strength + self.rng.normal(0.0, 0.35, n_teams)
            for st in self.states:
                st.elo = 1500.0 + 0.75 * (st.elo - 1500.0)
        for st in self.states:
            st.reset_season()
        played = np.zeros(n_teams, dtype=int)
        seq = 0
        day = 0
        while played.sum() < n_teams * GAMES_PER_TEAM and day < SEASON_DAYS + 30:
            self.strength = self.strength + self.rng.normal(0.0, 0.015, n_teams)  # injuries, trades, form
            for hi, ai in _schedule_day(self.rng, day, self.states, played, GAMES_PER_TEAM):
                seq += 1
                self.play(season, seq, day, start + timedelta(days=day), hi, ai)
                played[hi] += 1
                played[ai] += 1
            day += 1


def simulate(n_seasons: int = 3, seed: int = SEED) -> pd.DataFrame:
    """Simulate ``n_seasons`` seasons; one row per game with every feature, the label and ids."""
    import numpy as np
    import pandas as pd

    if n_seasons < 1:
        raise ValueError("n_seasons must be >= 1")
    rng = np.random.default_rng(seed)
    n_teams = len(TEAM_IDS)
    league = _League(rng, rng.normal(0.0, 0.55, n_teams), [_TeamState(1500.0) for _ in range(n_teams)])
    for s in range(n_seasons):
        league.season(s)
    return pd.DataFrame(league.rows)


def _typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    pandas_dtype = {"Int64": "int64", "Float64": "float64", "Bool": "bool"}
    out = df[[ENTITY_KEY, TIMESTAMP_FIELD, CREATED_FIELD, *columns]].copy()
    out[ENTITY_KEY] = out[ENTITY_KEY].astype("int64")
    for name, dtype in columns.items():
        out[name] = out[name].astype(pandas_dtype[dtype])
    return out


def frames(n_seasons: int = 3, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The three tables as dataframes: ``game_features``, ``game_momentum_features``, ``labels``."""
    import pandas as pd

    games = simulate(n_seasons, seed)
    for col in (TIMESTAMP_FIELD, CREATED_FIELD):
        games[col] = pd.to_datetime(games[col], utc=True).astype("datetime64[us, UTC]")
    labels = games[[ENTITY_KEY, TIMESTAMP_FIELD, LABEL]].copy()
    labels[LABEL] = labels[LABEL].astype("int64")
    return {
        "game_features": _typed(games, GAME_FEATURES),
        "game_momentum_features": _typed(games, MOMENTUM_FEATURES),
        "labels": labels,
    }


def generate(out_dir: Path, n_seasons: int = 3) -> dict[str, Path]:
    """Write the parquet files into ``out_dir`` (created if needed) and return their paths by table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "game_features": GAME_FEATURES_FILE,
        "game_momentum_features": MOMENTUM_FEATURES_FILE,
        "labels": LABELS_FILE,
    }
    paths: dict[str, Path] = {}
    for name, df in frames(n_seasons).items():
        path = out_dir / files[name]
        df.to_parquet(path, index=False)
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlflow_feast_mcp.demo.nba_data",
        description="Write deterministic synthetic NBA game features (parquet) for feature_repo/.",
    )
    parser.add_argument("out_dir", type=Path, help="directory to write into, e.g. feature_repo/data")
    parser.add_argument("--seasons", type=int, default=3, help="number of seasons (default 3)")
    args = parser.parse_args(argv)
    import pandas as pd

    paths = generate(args.out_dir, args.seasons)
    for name, path in paths.items():
        print(f"{name}: {path} ({len(pd.read_parquet(path))} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
