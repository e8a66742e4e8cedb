"""`feast ui` beside the demo's MLflow UI: Feast's own web UI over the demo's repo (every project of
its registry), on 127.0.0.1, started and stopped through `processes` like everything else here.

It needs `feast[grpcio]` (the UI server imports grpc). It is healthy some 15 s after start, so the
demo starts it before asking its questions and waits for it afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import processes

LOG = "feast-ui.log"
# `feast` console script = feast.cli.cli:cli; run through this interpreter so no PATH is needed
FEAST_CLI = "import sys; from feast.cli.cli import cli; sys.exit(cli(prog_name='feast'))"


def feast_ui_command(repo: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        FEAST_CLI,
        "-c",
        str(repo),
        "ui",
        "--host",
        processes.LOOPBACK,
        "--port",
        str(port),
    ]


class FeastUi:
    """One `feast ui` process over `repo` on 127.0.0.1:`port`, its output in `log`."""

    def __init__(self, repo: Path, port: int, log: Path) -> None:
        self.repo, self.port, self.log = Path(repo), port, Path(log)
        self.url = f"http://{processes.LOOPBACK}:{port}"
        env = {**os.environ, "FEAST_USAGE": "False", "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"}
        self.log.unlink(missing_ok=True)
        self.proc: subprocess.Popen | None = processes.start_process(
            feast_ui_command(self.repo, port), log=self.log, env=env, cwd=self.repo
        )

    def wait(self, timeout: float = 120.0) -> list[str]:
        """Block until the UI answers; the project ids it serves. RuntimeError (with the log's tail)
        when it exits or does not answer in time."""
        try:
            processes.wait_http(f"{self.url}/health", timeout, self.proc)
        except (RuntimeError, TimeoutError) as exc:
            tail = self.log.read_text(errors="replace")[-1500:] if self.log.is_file() else ""
            raise RuntimeError(f"feast ui did not start ({exc}); {self.log}:\n{tail}") from exc
        return projects_served(self.url)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        processes.stop_process(self.proc)
        self.proc = None


def projects_served(url: str) -> list[str]:
    """The project ids `feast ui` lists (its /projects-list.json)."""
    import httpx

    with httpx.Client(timeout=5.0, trust_env=False) as client:
        listed = client.get(f"{url}/projects-list.json").json()
    return [str(p.get("id")) for p in listed.get("projects", []) if isinstance(p, dict)]


def describe(url: str, projects: list[str]) -> str:
    return f"Feast UI: {url} (projects: {', '.join(projects) or '-'})"
