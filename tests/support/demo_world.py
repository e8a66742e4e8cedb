"""The small demo seed, built once per session (Feast apply, historical features, scikit-learn,
MLflow through a real `mlflow server`) and shared by the demo and eval tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, Path]]:
    from mlflow_feast_mcp.demo import seeder

    workdir = tmp_path_factory.mktemp("demo")
    with seeder.running_mlflow_server(workdir) as url:
        report = seeder.seed(workdir, url, small=True, progress=lambda line: None)
        yield url, report, workdir
