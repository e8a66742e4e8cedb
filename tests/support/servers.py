"""Real servers for tests: a free loopback port, and `mlflow server` on SQLite with served artifacts."""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


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
        mlflow = Path(sys.executable).with_name("mlflow")
        artifacts = (
            ["--no-serve-artifacts", "--default-artifact-root", self.artifact_root]
            if self.artifact_root
            else ["--artifacts-destination", str(self.root / "artifacts")]
        )
        self.proc = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--backend-store-uri",
                self.backend_uri,
                *artifacts,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=open(self.root / "server.log", "ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "MLFLOW_ENABLE_WORKSPACES": "false"},
            start_new_session=True,
        )
        atexit.register(self.stop)  # a fixture that fails after start() must not leak the server
        wait_http(f"{self.uri}/health", timeout=180, proc=self.proc)
        return self

    def stop(self) -> None:
        """SIGINT first (mlflow's server ignores SIGTERM until its workers time out), then SIGKILL."""
        if self.proc and self.proc.poll() is None:
            for signal_number, grace in ((2, 3), (9, 10)):
                try:
                    os.killpg(self.proc.pid, signal_number)
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
        self.proc = None
