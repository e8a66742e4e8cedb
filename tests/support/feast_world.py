"""Session Feast repos, applied for real with `feast apply` in temp dirs (copies of feature_repo/):

- `file_repo`: generated data, file registry; applied twice, first with an older `game_features`
  (`rest_days_home` Float64 and an extra `home_travel_distance`), then with the real definitions, so
  the history holds v0 -> v1 (one field removed, one retyped) and the current state is the real repo;
- `sql_repo`: the same two applies into a SQL registry (SQLite);
- `missing_source_repo`: applied, then `game_momentum_features.parquet` deleted;
plus helpers for an empty directory, a wrong path, a never-applied repo, a broken yaml and a repo
whose project is not in the registry (an empty registry)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE_REPO = Path(__file__).resolve().parents[2] / "feature_repo"
OLD_REST_DAYS = """        Field(
            name="rest_days_home",
            dtype=Int64,"""
OLD_AWAY_ELO = (
    '        Field(name="away_elo", dtype=Float64, description="Away team\'s ELO rating before the game."),'
)
REMOVED_FIELD = "home_travel_distance"


@dataclass
class FeastWorld:
    file_repo: Path
    sql_repo: Path
    missing_source_repo: Path
    data_dir: Path
    missing_file: Path


def feast_cli() -> str:
    local = Path(sys.executable).parent / "feast"
    return str(local) if local.exists() else (shutil.which("feast") or "feast")


def copy_repo(target: Path) -> Path:
    shutil.copytree(SOURCE_REPO, target, ignore=shutil.ignore_patterns("data", "__pycache__"))
    (target / "data").mkdir()
    return target


def older_features(source: str) -> str:
    """features.py as it was before: rest_days_home a Float64, one more field."""
    assert OLD_REST_DAYS in source and OLD_AWAY_ELO in source, "feature_repo/features.py changed shape"
    older = source.replace(OLD_REST_DAYS, OLD_REST_DAYS.replace("Int64", "Float64"))
    return older.replace(
        OLD_AWAY_ELO,
        OLD_AWAY_ELO
        + f'\n        Field(name="{REMOVED_FIELD}", dtype=Float64, description="Travel km, home team."),',
    )


def apply(repo: Path, data_dir: Path) -> None:
    env = {**os.environ, "NBA_FEATURE_DATA_DIR": str(data_dir), "FEAST_USAGE": "False"}
    done = subprocess.run(
        [feast_cli(), "-c", str(repo), "apply"], env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"feast apply in {repo} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def apply_two_versions(repo: Path, data_dir: Path) -> Path:
    real = (repo / "features.py").read_text()
    (repo / "features.py").write_text(older_features(real))
    apply(repo, data_dir)
    (repo / "features.py").write_text(real)
    apply(repo, data_dir)
    return repo


def use_sql_registry(repo: Path) -> Path:
    yaml_file = repo / "feature_store.yaml"
    text = yaml_file.read_text()
    start, end = text.index("registry:"), text.index("online_store:")
    sql = (
        "registry:\n  registry_type: sql\n"
        f"  path: sqlite:///{(repo / 'data' / 'registry.sqlite').resolve()}\n"
        "  cache_ttl_seconds: 60\n"
    )
    yaml_file.write_text(text[:start] + sql + text[end:])
    return repo


@pytest.fixture(scope="session")
def feast_world(tmp_path_factory: pytest.TempPathFactory) -> FeastWorld:
    from mlflow_feast_mcp.demo.nba_data import MOMENTUM_FEATURES_FILE, generate

    base = tmp_path_factory.mktemp("feast")
    data_dir = base / "nba_data"
    generate(data_dir)
    missing_data = base / "missing_data"
    shutil.copytree(data_dir, missing_data)
    file_repo = copy_repo(base / "file_repo")
    sql_repo = use_sql_registry(copy_repo(base / "sql_repo"))
    missing_repo = copy_repo(base / "missing_source_repo")
    with ThreadPoolExecutor(3) as pool:
        jobs = [
            pool.submit(apply_two_versions, file_repo, data_dir),
            pool.submit(apply_two_versions, sql_repo, data_dir),
            pool.submit(apply, missing_repo, missing_data),
        ]
        for job in jobs:
            job.result()
    missing_file = missing_data / MOMENTUM_FEATURES_FILE
    missing_file.unlink()
    return FeastWorld(file_repo, sql_repo, missing_repo, data_dir, missing_file)


@pytest.fixture(params=["file", "sql"])
def feast_repo(request: pytest.FixtureRequest, feast_world: FeastWorld) -> Path:
    """Each test using it runs on both registries."""
    return feast_world.file_repo if request.param == "file" else feast_world.sql_repo


def never_applied_repo(tmp_path: Path) -> Path:
    """feature_repo copied but never applied: feature_store.yaml, no registry file."""
    return copy_repo(tmp_path / "never_applied")


def broken_yaml_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "broken_yaml"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text("project: [unclosed\nregistry: {registry_type: 7\n")
    return repo


def other_project_repo(tmp_path: Path, world: FeastWorld) -> Path:
    """A yaml pointing at the applied file registry under a project that is not in it."""
    repo = tmp_path / "other_project"
    repo.mkdir()
    registry = (world.file_repo / "data" / "registry.db").resolve()
    (repo / "feature_store.yaml").write_text(
        f"project: churn\nprovider: local\nregistry: {registry}\n"
        "online_store:\n  type: sqlite\n  path: data/online.db\nentity_key_serialization_version: 3\n"
    )
    return repo
