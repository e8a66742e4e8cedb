"""The PostgreSQL profile: MLflow on PostgreSQL, a Feast SQL registry in the same PostgreSQL, and
stateless HTTP replicas behind nginx. Runs when the PostgreSQL server binaries and nginx are installed
(`.ci/run` installs them and sets MLFLOW_FEAST_MCP_PG=1). Without them the tests are deselected, unless
MLFLOW_FEAST_MCP_PG=1 asks for them: then they fail and say what is missing. MLFLOW_FEAST_MCP_PG=0
deselects them even where PostgreSQL is installed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.feast_world import FeastWorld, apply_two_versions, copy_repo
from support.mlflow_world import World, log_world
from support.postgres import PG_ENV, MlflowOnPostgres, PostgresCluster, missing_tools


def wanted() -> str:
    return os.environ.get(PG_ENV, "")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs PostgreSQL and nginx (the PostgreSQL profile)")


def pytest_report_header(config: pytest.Config) -> str:
    missing = missing_tools()
    if wanted() == "0":
        return f"postgres profile: deselected ({PG_ENV}=0)"
    if missing and wanted() != "1":
        return f"postgres profile: deselected, missing {'; '.join(missing)} (set {PG_ENV}=1 to require it)"
    return "postgres profile: on" if not missing else f"postgres profile: REQUIRED but missing {missing}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if wanted() == "1" or (wanted() != "0" and not missing_tools()):
        return
    dropped = [item for item in items if item.get_closest_marker("postgres")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"{PG_ENV}=1 but the PostgreSQL profile cannot run: missing {'; '.join(missing)}", False)
    cluster = PostgresCluster(("mlflow", "feast")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_mlflow(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowOnPostgres]:
    server = MlflowOnPostgres(tmp_path_factory.mktemp("mlflow-pg"), pg_cluster.url("mlflow")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_world(pg_mlflow: MlflowOnPostgres, tmp_path_factory: pytest.TempPathFactory) -> World:
    """The same history as the SQLite `world`, logged through the PostgreSQL-backed tracking server.
    Its scratch dir has a name as long as the SQLite world's ("artifacts-src"): the booby-trapped
    pickles embed that path, so their sizes match."""
    return log_world(pg_mlflow.uri, tmp_path_factory.mktemp("artifacts-pgs"))


def use_postgres_registry(repo: Path, url: str) -> Path:
    yaml_file = repo / "feature_store.yaml"
    text = yaml_file.read_text()
    start, end = text.index("registry:"), text.index("online_store:")
    sql = f"registry:\n  registry_type: sql\n  path: {url}\n  cache_ttl_seconds: 60\n"
    yaml_file.write_text(text[:start] + sql + text[end:])
    return repo


@pytest.fixture(scope="session")
def pg_feast_repo(
    pg_cluster: PostgresCluster, feast_world: FeastWorld, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """feature_repo with a SQL registry in PostgreSQL, applied twice like the file registry."""
    repo = copy_repo(tmp_path_factory.mktemp("feast-pg") / "pg_repo")
    use_postgres_registry(repo, pg_cluster.url("feast", driver="postgresql+psycopg2"))
    return apply_two_versions(repo, feast_world.data_dir)
