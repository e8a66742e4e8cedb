"""The small demo seed, built once per session (Feast apply, historical features, scikit-learn,
MLflow through a real `mlflow server`), then the demo's predictions step (`feast materialize`, the
Production model loaded through MLflow, online features, one batch in `ml_dev.predictions` of the
demo folder's `predictions.db`), shared by the demo, predictions and eval tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, Path]]:
    from mlflow_feast_mcp.demo import predictions, seeder

    workdir = tmp_path_factory.mktemp("demo")
    inherited = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    with seeder.running_mlflow_server(workdir) as url:
        report = seeder.seed(workdir, url, small=True, progress=lambda line: None)
        predictions.demo_step(workdir, url, Path(report.feast_repo), again=False, progress=lambda line: None)
        # the child processes later tests start must not be sent to the demo's server
        leaked = {k: os.environ.get(k) for k in inherited if os.environ.get(k) != inherited[k]}
        assert not leaked, f"the demo left MLflow URIs in the environment: {leaked}"
        yield url, report, workdir
