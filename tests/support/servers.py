"""Real servers for tests: `mlflow server` on SQLite (or PostgreSQL) with served artifacts. Ports,
readiness and the stop policy come from the one process-support module the demo and the
benchmarks use too."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mlflow_feast_mcp.demo.processes import (
    free_port,
    port_is_free,
    running,
    start_mlflow_server,
    start_process,
    stop_process,
    wait_http,
)

__all__ = [
    "MlflowServer",
    "free_port",
    "port_is_free",
    "running",
    "start_process",
    "stop_process",
    "wait_http",
]


class MlflowServer:
    """`mlflow server` on 127.0.0.1 with a SQLite store and served artifacts; restartable (fault tests)."""

    def __init__(
        self,
        root: Path,
        port: int | None = None,
        artifact_root: str | None = None,
        backend_uri: str | None = None,
    ) -> None:
        self.root = root
        self.artifact_root = artifact_root  # a file: root read directly instead of served artifacts
        self.port = port or free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.db = root / "mlflow.db"
        self.backend_uri = backend_uri or f"sqlite:///{self.db}"  # e.g. postgresql://... (tests/postgres)
        self.proc: subprocess.Popen | None = None

    def start(self) -> MlflowServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = start_mlflow_server(
            self.port,
            self.backend_uri,
            log=self.root / "server.log",
            artifacts_destination=None if self.artifact_root else self.root / "artifacts",
            default_artifact_root=self.artifact_root,
        )  # stopped at exit even if a fixture fails after start()
        wait_http(f"{self.uri}/health", timeout=180, proc=self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
